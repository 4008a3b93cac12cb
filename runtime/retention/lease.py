"""A lease in a NATS KV bucket: one holder at a time across replicas, taken by compare-and-set.

The entry says who holds it and until when. A replica takes it when it is absent, expired or its
own (a create, or an update against the revision it read); losing that race means another replica
holds it. Expiry is read from the entry, not from the bucket's TTL, so a test's clock can move it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import msgspec
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from contracts.subjects import Topology
from runtime.settings import NatsSettings

log = logging.getLogger(__name__)


class Held(msgspec.Struct, frozen=True):
    holder: str
    until: float


async def open_retention_bucket(js: JetStreamContext, settings: NatsSettings, topology: Topology) -> KeyValue:
    """The retention bucket (lease and storage usage), created when missing."""
    config = api.KeyValueConfig(
        bucket=topology.retention_bucket,
        history=1,
        storage=api.StorageType.FILE,
        replicas=settings.stream_replicas,
    )
    try:
        return await js.create_key_value(config)
    except BadRequestError as exc:
        if exc.err_code != 10058:  # not "stream name already in use with a different configuration"
            raise
        info = await js.stream_info(f"KV_{topology.retention_bucket}")
        if info.config.num_replicas != settings.stream_replicas:
            await js.update_stream(dataclasses.replace(info.config, num_replicas=settings.stream_replicas))
        return await js.key_value(topology.retention_bucket)


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
