"""Diarization of one window of a recording (a few minutes), with labels local to that window.

pyannote segmentation-3.0 slides over the window in 10 s chunks (up to 3 speakers each); CAM++
embeds the speakers of every `embed_stride`-th chunk (and of the last) from their frames (frames
where they speak alone when there are enough); the embeddings are clustered within the window. The
speakers of the chunks in between are matched to those clusters by how their activity agrees with
the embedded neighbours' over the frames they share (the chunks overlap), which halves the CAM++
work (79 % of the stage's CPU) at the default half-chunk step; a speaker that agrees with no
neighbour is embedded after all. Each frame then takes the clusters most active there, as many as
the chunks say speak at once. What leaves a window is one LocalSpeaker per
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
MIN_AGREEMENT_S = 0.2  # a chunk's speaker follows a neighbour's cluster on this much shared speech


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
    min_embed_s: float = 0.25  # shorter speech in a chunk gets no embedding of its own
    min_cluster_s: float = 0.5  # chunk embeddings with less speech join clusters, never found them
    batch_size: int = 8
    speech_threshold: float = 0.35  # of a frame's summed speech probability (speech_activity)
    # embed every n-th chunk; the others follow their neighbours. Capped so that the embedded chunks
    # still cover every frame (n * chunk_step <= 1); 1 embeds every chunk, as pyannote does
    embed_stride: int = 2

    def stride(self) -> int:
        return max(1, min(self.embed_stride, int(1.0 / self.chunk_step + 1e-9)))


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
            skip_conversion=True,  # powerset log-probabilities: speech_activity() decides
        )
        specifications = segmentation.specifications
        self.powerset = _powerset_mapping(len(specifications.classes), specifications.powerset_max_classes)

    def diarize(self, waveform: np.ndarray, offset_s: float, bounds: SpeakerBounds) -> list[LocalSpeaker]:
        """Local speakers of a 16 kHz mono window starting at offset_s in the recording."""
        audio = {"waveform": torch.from_numpy(waveform).unsqueeze(0), "sample_rate": SAMPLE_RATE}
        segmentation: Any = self.inference(audio)
        # (chunks, frames, local speakers), 0/1
        activity = speech_activity(np.asarray(segmentation.data), self.powerset, self.tuning.speech_threshold)
        starts = [segmentation.sliding_window[c].start for c in range(len(activity))]
        features = fbank(waveform)
        stride, last = self.tuning.stride(), len(starts) - 1
        embedded = [c for c in range(len(starts)) if c % stride == 0 or c == last]
        keys, vectors, weights = self._embeddings(features, activity, starts, embedded)
        if not keys:
            return []
        labels = cluster(
            vectors, weights, self.tuning.threshold, bounds.capped(), min_weight=self.tuning.min_cluster_s
        )
        centroids = centroids_of(vectors, labels)
        assignment = _assign(keys, vectors, centroids, activity.shape[0], activity.shape[2])
        if stride > 1:
            self._follow_neighbours(features, activity, starts, set(embedded), assignment, centroids)
        return self._reconstruct(activity, starts, assignment, centroids, offset_s, len(waveform))

    def _follow_neighbours(
        self,
        features: torch.Tensor,
        activity: np.ndarray,
        starts: list[float],
        embedded: set[int],
        assignment: np.ndarray,
        centroids: np.ndarray,
    ) -> None:
        """Fill `assignment` for the chunks without embeddings, from the overlapping embedded chunks."""
        frames = activity.shape[1]
        reach = int(1.0 / self.tuning.chunk_step + 1e-9) + 1  # chunks further apart do not overlap
        for c in range(len(starts)):
            if c in embedded:
                continue
            agreement = np.zeros((activity.shape[2], len(centroids)))
            for n in sorted(embedded & set(range(c - reach, c + reach + 1))):
                shift = round((starts[c] - starts[n]) / self.frame_step)  # frame f of c is f + shift of n
                if abs(shift) >= frames:
                    continue
                mine = activity[c, max(0, -shift) : frames - max(0, shift)]
                theirs = activity[n, max(0, shift) : frames - max(0, -shift)]
                overlap = mine.T @ theirs  # (my speakers, their speakers): frames active in both
                for t, k in enumerate(assignment[n]):
                    if k >= 0:
                        agreement[:, k] += overlap[:, t]
            speaking = activity[c].sum(0) * self.frame_step >= self.tuning.min_embed_s
            rows = np.flatnonzero(speaking)
            if len(rows) == 0:
                continue
            picked, clusters = linear_sum_assignment(-agreement[rows])
            matched = set(picked.tolist())
            lost = [int(rows[i]) for i in range(len(rows)) if i not in matched]
            for i, k in zip(picked, clusters, strict=True):
                if agreement[rows[i], k] * self.frame_step >= MIN_AGREEMENT_S:
                    assignment[c, rows[i]] = k
                else:
                    lost.append(int(rows[i]))
            if lost:  # agrees with no neighbour (or lost a tie): its own embedding decides
                self._embed_lost(features, activity, starts, c, lost, assignment, centroids)

    def _embed_lost(
        self,
        features: torch.Tensor,
        activity: np.ndarray,
        starts: list[float],
        c: int,
        speakers: list[int],
        assignment: np.ndarray,
        centroids: np.ndarray,
    ) -> None:
        keys, vectors, _ = self._embeddings(features, activity, starts, [c], only=set(speakers))
        taken = {int(k) for k in assignment[c] if k >= 0}
        free = [k for k in range(len(centroids)) if k not in taken]
        if not keys or not free:
            return
        picked, clusters = linear_sum_assignment(-(vectors @ centroids[free].T))
        for i, k in zip(picked, clusters, strict=True):
            assignment[c, keys[i][1]] = free[k]

    def _embeddings(
        self,
        features: torch.Tensor,
        activity: np.ndarray,
        starts: list[float],
        chunks: list[int],
        only: set[int] | None = None,
    ) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
        per_chunk = round(self.inference.duration / FRAME_SHIFT_S)
        # which segmentation frame each fbank frame of a chunk falls in
        frame_of = np.minimum(
            (np.arange(per_chunk) * FRAME_SHIFT_S / self.frame_step).astype(int), activity.shape[1] - 1
        )
        keys, vectors, weights = [], [], []
        for c in chunks:
            first = round(starts[c] / FRAME_SHIFT_S)
            chunk = features[first : first + per_chunk]
            alone = activity[c].sum(1) == 1
            for s in range(activity.shape[2]):
                if only is not None and s not in only:
                    continue
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
        # half the overlapping chunks hearing a speaker is enough: round half up (np.rint rounds 0.5 to 0)
        speakers_at = np.floor(count / np.maximum(covered, 1) + 0.5).astype(int)
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


def _powerset_mapping(classes: int, max_together: int) -> np.ndarray:
    """pyannote's powerset classes (no one, each speaker, each pair, ...) as rows of 0/1 per speaker."""
    from pyannote.audio.utils.powerset import Powerset

    mapping: Any = Powerset(classes, max_together).mapping  # a registered buffer: a Tensor
    return np.asarray(mapping.numpy())


def speech_activity(log_probs: np.ndarray, mapping: np.ndarray, threshold: float) -> np.ndarray:
    """Who speaks in each frame, from the powerset segmentation's log-probabilities.

    A frame holds speech when the classes with someone speaking add up to more than `threshold`,
    and then takes the likeliest of them. pyannote's own argmax calls a frame silent whenever
    "no one" beats each class alone (0.4 against 0.3 + 0.3), which loses quiet, far-field and
    overlapped speech.
    """
    probs = np.exp(log_probs)
    speech = 1.0 - probs[..., 0]
    best = np.argmax(probs[..., 1:], axis=-1) + 1
    classes = np.where(speech > threshold, best, 0)
    return mapping[classes]


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
