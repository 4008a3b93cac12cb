"""Storage use per kind of artifact, measured by the sweep's listing and kept in the retention bucket.

Listing a big store at every metrics scrape would be too slow; the sweeper already lists every job,
so it counts as it goes and stores the figures, and every replica's /metrics reads the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from contracts.keys import ARTIFACT_KINDS, OTHER_KIND
from runtime.retention.rules import by_kind
from runtime.storage.base import StoredObject

USAGE_KEY = "usage"
KINDS = (*ARTIFACT_KINDS, OTHER_KIND)


class KindUsage(msgspec.Struct):
    objects: int = 0
    size_bytes: int = 0


class StorageUsage(msgspec.Struct):
    measured_at: float = 0.0  # when the sweep that counted these finished
    kinds: dict[str, KindUsage] = msgspec.field(default_factory=lambda: {k: KindUsage() for k in KINDS})

    def add(self, objects: Iterable[StoredObject]) -> None:
        """Count objects under their kind."""
        for kind, group in by_kind(objects).items():
            usage = self.kinds.setdefault(kind, KindUsage())
            usage.objects += len(group)
            usage.size_bytes += sum(o.size for o in group)


async def save_usage(kv: KeyValue, usage: StorageUsage) -> None:
    await kv.put(USAGE_KEY, msgspec.json.encode(usage))


async def load_usage(kv: KeyValue) -> StorageUsage | None:
    """The latest figures, or None before the first sweep."""
    try:
        entry = await kv.get(USAGE_KEY)
    except KeyNotFoundError:
        return None
    if not entry.value:
        return None
    return msgspec.json.decode(entry.value, type=StorageUsage)
