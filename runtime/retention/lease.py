"""A lease in a NATS KV bucket: one holder at a time across replicas, taken by compare-and-set.

The entry says who holds it and until when. A replica takes it when it is absent, expired or its
own (a create, or an update against the revision it read); losing that race means another replica
holds it. Expiry is read from the entry, not from the bucket's TTL, so a test's clock can move it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from contracts.subjects import Topology
from runtime.bus import ensure_key_value
from runtime.settings import NatsSettings

log = logging.getLogger(__name__)


class Held(msgspec.Struct, frozen=True):
    holder: str
    until: float


async def open_retention_bucket(js: JetStreamContext, settings: NatsSettings, topology: Topology) -> KeyValue:
    """The retention bucket (lease and storage usage), created when missing."""
    return await ensure_key_value(js, topology.retention_bucket, 1, settings.stream_replicas)


class Lease:
    """One named lease; `holder` tells this replica's sweeper from the others'."""

    def __init__(self, kv: KeyValue, name: str, holder: str, clock: Callable[[], float]) -> None:
        self._kv, self.name, self.holder, self._clock = kv, name, holder, clock
        self._revision: int | None = None
        self.until = 0.0

    async def acquire(self, duration_s: float) -> bool:
        """Take (or extend) the lease for duration_s; False while another replica holds it."""
        now = self._clock()
        try:
            entry = await self._kv.get(self.name)
        except KeyNotFoundError:
            entry = None
        if entry is None or entry.value is None or entry.revision is None:
            return await self._write(now + duration_s, last=None)
        try:
            held = msgspec.json.decode(entry.value, type=Held)
        except msgspec.DecodeError:
            held = Held("", 0.0)  # unreadable: treat as expired
        if held.holder != self.holder and held.until > now:
            return False
        return await self._write(now + duration_s, last=entry.revision)

    async def renew(self, duration_s: float) -> bool:
        """Extend a lease this replica holds; False when it was lost (taken over after expiring)."""
        if self._revision is None:
            return False
        return await self._write(self._clock() + duration_s, last=self._revision)

    async def _write(self, until: float, last: int | None) -> bool:
        value = msgspec.json.encode(Held(self.holder, until))
        try:
            if last is None:
                self._revision = await self._kv.create(self.name, value)
            else:
                self._revision = await self._kv.update(self.name, value, last=last)
        except KeyWrongLastSequenceError:
            self._revision = None
            return False
        self.until = until
        return True
