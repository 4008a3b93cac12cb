"""Agglomerative clustering of speaker embeddings: cosine distance, average linkage.

Used twice: inside a window (one embedding per speaker per segmentation chunk) and across the whole
recording (one centroid per local speaker per window). Light points (little speech) do not shape the
clusters; they join the nearest cluster afterwards, so a cough cannot become a speaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage


@dataclass(frozen=True)
class SpeakerBounds:
    """How many speakers a clustering may return: exact, or between low and high (None: unbounded)."""

    exact: int | None = None
    low: int | None = None
    high: int | None = None

    def capped(self) -> SpeakerBounds:
        """The same upper bound with no lower one: a window of a long recording may hold fewer speakers."""
        return SpeakerBounds(high=self.exact or self.high)


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cluster(
    embeddings: np.ndarray,
    weights: np.ndarray,
    threshold: float,
    bounds: SpeakerBounds = SpeakerBounds(),
    min_weight: float = 0.0,
) -> np.ndarray:
    """Cluster index (0..k-1) of each embedding row; `threshold` is a cosine distance."""
    count = len(embeddings)
    if count == 0:
        return np.zeros(0, dtype=int)
    vectors = normalise(embeddings)
    heavy = weights >= min_weight
    if not heavy.any():
        heavy = weights >= weights.max()
    labels = np.full(count, -1)
    labels[heavy] = _agglomerate(vectors[heavy], threshold, bounds)
    if (~heavy).any():
        centroids = normalise(np.stack([vectors[labels == k].mean(0) for k in range(labels.max() + 1)]))
        labels[~heavy] = np.argmax(vectors[~heavy] @ centroids.T, axis=1)
    return _by_first_appearance(labels)


def _agglomerate(vectors: np.ndarray, threshold: float, bounds: SpeakerBounds) -> np.ndarray:
    count = len(vectors)
    if count == 1:
        return np.zeros(1, dtype=int)
    tree = linkage(vectors, method="average", metric="cosine")
    if bounds.exact is not None:
        return fcluster(tree, min(bounds.exact, count), criterion="maxclust") - 1
    labels = fcluster(tree, threshold, criterion="distance") - 1
    found = labels.max() + 1
    if bounds.low is not None and found < bounds.low:
        return fcluster(tree, min(bounds.low, count), criterion="maxclust") - 1
    if bounds.high is not None and found > bounds.high:
        return fcluster(tree, bounds.high, criterion="maxclust") - 1
    return labels


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    order: dict[int, int] = {}
    for label in labels.tolist():
        order.setdefault(label, len(order))
    return np.array([order[label] for label in labels.tolist()], dtype=int)


def centroids_of(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Normalised mean embedding of each cluster, in label order."""
    return normalise(np.stack([normalise(embeddings[labels == k]).mean(0) for k in range(labels.max() + 1)]))
