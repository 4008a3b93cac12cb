"""CAM++ speaker embeddings (Wang et al., 2023, "CAM++: a fast and efficient network for speaker
verification using context-aware masking"), written from the paper's architecture so that the
3D-Speaker checkpoint `campplus_cn_en_common.pt` (192-dim, 80-bin Kaldi fbank input) loads by name.

Shape of the network: a 2-D convolutional front-end (FCM) over the fbank, then a densely connected
TDNN (D-TDNN) whose layers mask their output with a context vector pooled at utterance and segment
level, then mean+std statistics pooling and a 192-dim embedding layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from services.diarize import compat

SAMPLE_RATE = 16000
MEL_BINS = 80
FRAME_SHIFT_S = 0.010
EMBEDDING_DIM = 192


def _bn_relu(channels: int) -> nn.Sequential:
    layers = nn.Sequential()
    layers.add_module("batchnorm", nn.BatchNorm1d(channels))
    layers.add_module("relu", nn.ReLU(inplace=True))
    return layers


class _ResBlock2d(nn.Module):
    """Residual block of the front-end; strides only along frequency."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class _FrontEnd(nn.Module):
    """FCM: (batch, 1, mel, time) -> (batch, channels * mel / 8, time)."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.layer1 = nn.Sequential(_ResBlock2d(channels, channels, 2), _ResBlock2d(channels, channels, 1))
        self.layer2 = nn.Sequential(_ResBlock2d(channels, channels, 2), _ResBlock2d(channels, channels, 1))
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        out = self.layer2(self.layer1(out))
        out = F.relu(self.bn2(self.conv2(out)))
        return out.flatten(1, 2)


class _TDNN(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(
            in_channels, out_channels, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False
        )
        self.nonlinear = _bn_relu(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x))


class _ContextMask(nn.Module):
    """Context-aware masking: a local TDNN output gated by utterance + 100-frame segment context."""

    def __init__(self, channels: int, out_channels: int, kernel: int, dilation: int) -> None:
        super().__init__()
        padding = (kernel - 1) // 2 * dilation
        self.linear_local = nn.Conv1d(
            channels, out_channels, kernel, padding=padding, dilation=dilation, bias=False
        )
        self.linear1 = nn.Conv1d(channels, channels // 2, 1)
        self.linear2 = nn.Conv1d(channels // 2, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        local = self.linear_local(x)
        context = x.mean(-1, keepdim=True) + _segment_mean(x, 100)
        mask = torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
        return local * mask


def _segment_mean(x: torch.Tensor, length: int) -> torch.Tensor:
    pooled = F.avg_pool1d(x, kernel_size=length, stride=length, ceil_mode=True)
    return pooled.repeat_interleave(length, dim=-1)[..., : x.shape[-1]]


class _DenseLayer(nn.Module):
    def __init__(self, in_channels: int, growth: int, bottleneck: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.nonlinear1 = _bn_relu(in_channels)
        self.linear1 = nn.Conv1d(in_channels, bottleneck, 1, bias=False)
        self.nonlinear2 = _bn_relu(bottleneck)
        self.cam_layer = _ContextMask(bottleneck, growth, kernel, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))


class _DenseBlock(nn.ModuleDict):
    def __init__(self, layers: int, in_channels: int, growth: int, dilation: int) -> None:
        super().__init__()
        for i in range(layers):
            self[f"tdnnd{i + 1}"] = _DenseLayer(in_channels + i * growth, growth, 4 * growth, 3, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.values():
            x = torch.cat([x, layer(x)], dim=1)
        return x


class _Transit(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.nonlinear = _bn_relu(in_channels)
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.nonlinear(x))


class _Embedding(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)
        self.nonlinear = nn.Sequential()
        self.nonlinear.add_module("batchnorm", nn.BatchNorm1d(out_channels, affine=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))


class _StatsPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(-1), x.std(-1)], dim=-1)


class CAMPPlus(nn.Module):
    """CAM++: fbank (batch, frames, 80) -> embedding (batch, 192)."""

    def __init__(
        self,
        mel_bins: int = MEL_BINS,
        embedding_dim: int = EMBEDDING_DIM,
        growth: int = 32,
        blocks: Sequence[tuple[int, int]] = ((12, 1), (24, 2), (16, 2)),
    ) -> None:
        super().__init__()
        self.head = _FrontEnd()
        channels = 128
        self.xvector = nn.Sequential()
        self.xvector.add_module("tdnn", _TDNN(32 * (mel_bins // 8), channels, 5, stride=2))
        for i, (layers, dilation) in enumerate(blocks, start=1):
            self.xvector.add_module(f"block{i}", _DenseBlock(layers, channels, growth, dilation))
            channels += layers * growth
            self.xvector.add_module(f"transit{i}", _Transit(channels, channels // 2))
            channels //= 2
        self.xvector.add_module("out_nonlinear", _bn_relu(channels))
        self.xvector.add_module("stats", _StatsPool())
        self.xvector.add_module("dense", _Embedding(2 * channels, embedding_dim))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.xvector(self.head(features.transpose(1, 2)))


def load_campplus(path: Path) -> CAMPPlus:
    """The network with a 3D-Speaker CAM++ state dict loaded, in eval mode; raises on a mismatch."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    model = CAMPPlus()
    model.load_state_dict(state, strict=True)
    return model.eval()


def fbank(waveform: np.ndarray) -> torch.Tensor:
    """Kaldi-compatible 80-bin log-mel fbank (25 ms / 10 ms frames) of 16 kHz mono float audio."""
    kaldi = compat.kaldi()
    samples = torch.from_numpy(np.array(waveform, dtype=np.float32)).unsqueeze(0)
    return kaldi.fbank(samples, num_mel_bins=MEL_BINS, sample_frequency=SAMPLE_RATE, dither=0.0)


@torch.inference_mode()
def embed(model: CAMPPlus, features: torch.Tensor) -> np.ndarray:
    """L2-normalised embedding of fbank frames (frames, 80), mean-normalised, on the model's device."""
    normalised = features - features.mean(0, keepdim=True)  # on the CPU, as fbank made them
    device = next(model.parameters()).device
    vector = model(normalised.unsqueeze(0).to(device))[0]
    return F.normalize(vector, dim=0).cpu().numpy()
