"""Diarization of one window of a recording (a few minutes), with labels local to that window.

pyannote segmentation-3.0 slides over the window in 10 s chunks (up to 3 speakers each); CAM++
embeds each chunk's speakers from their frames (frames where they speak alone when there are
enough); the embeddings are clustered within the window; each frame then takes the clusters most
active there, as many as the chunks say speak at once. What leaves a window is one LocalSpeaker per
cluster: its turns, its speech time, and its centroid, which the global clustering joins across windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from services.diarize.campplus import FRAME_SHIFT_S, SAMPLE_RATE, CAMPPlus, embed, fbank
from services.diarize.clustering import SpeakerBounds, centroids_of, cluster

Turn = tuple[float, float]  # (start_s, end_s), absolute in the recording


@dataclass
class LocalSpeaker:
    centroid: np.ndarray  # normalised mean embedding
    speech_s: float
    turns: list[Turn] = field(default_factory=list)


class WindowDiarizer(Protocol):
    def diarize(self, waveform: np.ndarray, offset_s: float, bounds: SpeakerBounds) -> list[LocalSpeaker]: ...


@dataclass(frozen=True)
class WindowTuning:
    chunk_step: float = 0.5  # of the 10 s segmentation chunk
    threshold: float = 0.35  # cosine distance joining chunk embeddings within a window
    min_embed_s: float = 0.5  # shorter speech in a chunk gets no embedding of its own
    min_cluster_s: float = 1.5  # chunk embeddings with less speech join clusters, never found them
    batch_size: int = 8


class LocalModelDiarizer:
    """Segmentation and CAM++ from local files."""

    def __init__(self, segmentation: Any, embedding: CAMPPlus, tuning: WindowTuning) -> None:
        from pyannote.audio import Inference

        self.embedding, self.tuning = embedding, tuning
        duration = float(segmentation.specifications.duration)
        self.frame_step = float(segmentation.receptive_field.step)
        self.inference = Inference(
            segmentation,
            duration=duration,
            step=duration * tuning.chunk_step,
            batch_size=tuning.batch_size,
            skip_aggregation=True,
        )

    def diarize(self, waveform: np.ndarray, offset_s: float, bounds: SpeakerBounds) -> list[LocalSpeaker]:
        """Local speakers of a 16 kHz mono window starting at offset_s in the recording."""
        audio = {"waveform": torch.from_numpy(waveform).unsqueeze(0), "sample_rate": SAMPLE_RATE}
        segmentation: Any = self.inference(audio)
        activity = np.asarray(segmentation.data)  # (chunks, frames, local speakers), 0/1
        starts = [segmentation.sliding_window[c].start for c in range(len(activity))]
        keys, vectors, weights = self._embeddings(waveform, activity, starts)
        if not keys:
            return []
        labels = cluster(
            vectors, weights, self.tuning.threshold, bounds.capped(), min_weight=self.tuning.min_cluster_s
        )
        centroids = centroids_of(vectors, labels)
        assignment = _assign(keys, vectors, centroids, activity.shape[0], activity.shape[2])
        return self._reconstruct(activity, starts, assignment, centroids, offset_s, len(waveform))

    def _embeddings(
        self, waveform: np.ndarray, activity: np.ndarray, starts: list[float]
    ) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
        features = fbank(waveform)
        per_chunk = round(self.inference.duration / FRAME_SHIFT_S)
        # which segmentation frame each fbank frame of a chunk falls in
        frame_of = np.minimum(
            (np.arange(per_chunk) * FRAME_SHIFT_S / self.frame_step).astype(int), activity.shape[1] - 1
        )
        keys, vectors, weights = [], [], []
        for c, start in enumerate(starts):
            first = round(start / FRAME_SHIFT_S)
            chunk = features[first : first + per_chunk]
            alone = activity[c].sum(1) == 1
            for s in range(activity.shape[2]):
                speaking = activity[c, :, s] > 0
                clean = speaking & alone
                frames = clean if clean.sum() * self.frame_step >= self.tuning.min_embed_s else speaking
                speech_s = float(frames.sum()) * self.frame_step
                if speech_s < self.tuning.min_embed_s:
                    continue
                selected = chunk[frames[frame_of[: len(chunk)]]]
                if len(selected) < 20:
                    continue
                keys.append((c, s))
                vectors.append(embed(self.embedding, selected))
                weights.append(speech_s)
        if not keys:
            return [], np.zeros((0, 0)), np.zeros(0)
        return keys, np.stack(vectors), np.array(weights)

    def _reconstruct(
        self,
        activity: np.ndarray,
        starts: list[float],
        assignment: np.ndarray,
        centroids: np.ndarray,
        offset_s: float,
        samples: int,
    ) -> list[LocalSpeaker]:
        chunks, frames, _ = activity.shape
        total = int(np.ceil(samples / SAMPLE_RATE / self.frame_step)) + frames
        score = np.zeros((total, len(centroids)))
        count = np.zeros(total)
        covered = np.zeros(total)
        for c in range(chunks):
            first = round(starts[c] / self.frame_step)
            span = slice(first, first + frames)
            count[span] += activity[c].sum(1)
            covered[span] += 1
            for s, k in enumerate(assignment[c]):
                if k >= 0:
                    score[span, k] += activity[c, :, s]
        speakers_at = np.rint(count / np.maximum(covered, 1)).astype(int)
        ranked = np.argsort(-score, axis=1)
        active = np.zeros_like(score, dtype=bool)
        for n in range(1, min(3, len(centroids)) + 1):
            rows = speakers_at >= n
            best = ranked[rows, n - 1]
            active[np.flatnonzero(rows), best] = score[rows, best] > 0
        limit = round(samples / SAMPLE_RATE / self.frame_step)
        return [
            LocalSpeaker(
                centroid=centroids[k],
                speech_s=float(active[:limit, k].sum()) * self.frame_step,
                turns=_runs(active[:limit, k], self.frame_step, offset_s),
            )
            for k in range(len(centroids))
            if active[:limit, k].any()
        ]


def _assign(
    keys: list[tuple[int, int]], vectors: np.ndarray, centroids: np.ndarray, chunks: int, speakers: int
) -> np.ndarray:
    """Cluster of each (chunk, local speaker); two speakers of one chunk never share a cluster."""
    assignment = np.full((chunks, speakers), -1)
    similarity = vectors @ centroids.T
    by_chunk: dict[int, list[int]] = {}
    for row, (c, _) in enumerate(keys):
        by_chunk.setdefault(c, []).append(row)
    for c, rows in by_chunk.items():
        picked, clusters = linear_sum_assignment(-similarity[rows])
        for i, k in zip(picked, clusters, strict=True):
            assignment[c, keys[rows[i]][1]] = k
    return assignment


def _runs(active: np.ndarray, step: float, offset_s: float) -> list[Turn]:
    """Contiguous active frames as (start_s, end_s) turns."""
    padded = np.concatenate([[False], active, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [
        (round(offset_s + float(a) * step, 3), round(offset_s + float(b) * step, 3))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]
