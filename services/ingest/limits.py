"""Limits per API key: jobs at once and bytes a rolling 24 h; what a key used, and when a refusal ends.

A job counts from its admission until its state says it finished (uploading, queued and running
count). Bytes count from admission for 24 h: the declared size while the upload streams, then what
was stored; an upload refused or discarded counts nothing, a stored one counts even if its job
fails or is deleted. Pure: no NATS, no web framework; services/ingest/admission.py keeps each key's
`Usage` in a KV bucket and changes it only by compare-and-set.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import msgspec
from pydantic import ByteSize, TypeAdapter, ValidationError

from contracts.state import JobState

DAY_S = 24 * 3600.0  # the bytes allowance is a rolling 24 h, not a calendar day: no midnight rush
BUSY_RETRY_S = 60  # when a running job ends cannot be foreseen: a minute is a polite retry
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")  # an API key name (services/ingest/apikeys.py)
_bytes = TypeAdapter(ByteSize)


class LimitConfigError(ValueError):
    """AODIO_INGEST_KEY_LIMITS is malformed; the message says which entry and why."""


@dataclass(frozen=True)
class Limits:
    """One caller's limits; 0 means no limit."""

    jobs: int = 0
    bytes_per_day: int = 0

    @property
    def unlimited(self) -> bool:
        return self.jobs == 0 and self.bytes_per_day == 0


@dataclass(frozen=True)
class LimitTable:
    """The default limits and the per-key overrides (a key not listed gets the default)."""

    default: Limits
    by_key: dict[str, Limits] = field(default_factory=dict)

    def for_caller(self, caller: str | None) -> Limits:
        """The limits of a key name; the open API's one caller (None) gets the default."""
        return self.by_key.get(caller, self.default) if caller is not None else self.default


def parse_key_limits(raw: str, default: Limits) -> dict[str, Limits]:
    """`alice:jobs=2:bytes=10GiB,ci:jobs=1` -> {name: Limits}; unnamed limits keep the default."""
    table: dict[str, Limits] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, *pairs = (part.strip() for part in entry.split(":"))
        values = {"jobs": default.jobs, "bytes": default.bytes_per_day}
        if not _NAME.match(name) or not pairs:
            raise LimitConfigError(f"AODIO_INGEST_KEY_LIMITS entry {entry!r} is not NAME:jobs=N:bytes=SIZE")
        for pair in pairs:
            what, _, value = pair.partition("=")
            try:
                if what == "jobs" and value.isdigit():
                    values["jobs"] = int(value)
                elif what == "bytes":
                    values["bytes"] = int(_bytes.validate_python(value))
                else:
                    raise ValueError
            except (ValueError, ValidationError):
                raise LimitConfigError(
                    f"AODIO_INGEST_KEY_LIMITS entry {entry!r}: {pair!r} is not jobs=N or bytes=SIZE "
                    "(SIZE like 10GiB or 500MB; 0: no limit)"
                ) from None
        table[name] = Limits(jobs=values["jobs"], bytes_per_day=values["bytes"])
    return table


class Hold(msgspec.Struct, frozen=True, kw_only=True):
    """A job admitted under the key's limits and not yet seen finished."""

    job_id: str
    at: float  # when it was admitted: its bytes leave the rolling day 24 h later
    size_bytes: int  # declared while the upload streams, what was stored once it is
    stored: bool = False
    generation: int = 1  # the run it holds a place for: a replay holds one for the run it starts


class Usage(msgspec.Struct, kw_only=True):
    """One key's record in the usage bucket."""

    holds: list[Hold] = msgspec.field(default_factory=list)
    # (admitted at, bytes) of stored uploads whose job has finished, last 24 h, one entry a minute.
    spent: list[tuple[float, int]] = msgspec.field(default_factory=list)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Usage)


def encode_usage(usage: Usage) -> bytes:
    return _encoder.encode(usage)


def decode_usage(payload: bytes) -> Usage:
    return _decoder.decode(payload)


def holds_place(
    hold: Hold, state: JobState | None, deleted: bool, now: float, hold_s: float, upload_s: float
) -> bool:
    """Whether an admitted job still counts as one of the key's jobs at once."""
    if deleted:
        return False
    if state is None:  # its upload is still streaming, or the replica receiving it died
        return now - hold.at < hold_s
    if state.generation > hold.generation:  # a later run began: this one is over
        return False
    if state.generation < hold.generation:  # a replay admitted, its run not recorded yet
        return now - hold.at < hold_s
    if state.status == "uploading":  # a presigned upload: gone once its URLs expired
        return now - state.created_at < upload_s
    return state.status in ("queued", "running")


def retire(usage: Usage, finished: set[Hold], now: float) -> Usage:
    """Drop the holds of finished jobs, keeping their stored bytes in `spent` for the rest of the day."""
    entries = [(at, size) for at, size in usage.spent if at > now - DAY_S]
    entries += [
        (h.at, h.size_bytes) for h in usage.holds if h in finished and h.stored and h.at > now - DAY_S
    ]
    by_minute: dict[int, tuple[float, int]] = {}  # one entry a minute keeps a busy key's record small
    for at, size in entries:
        latest, total = by_minute.get(int(at // 60), (at, 0))
        by_minute[int(at // 60)] = (max(latest, at), total + size)  # the later time: retry times stay honest
    holds = [hold for hold in usage.holds if hold not in finished]
    return Usage(holds=holds, spent=sorted(by_minute.values()))


def _day_entries(usage: Usage, now: float, without: str | None = None) -> list[tuple[float, int]]:
    entries = [(h.at, h.size_bytes) for h in usage.holds if h.job_id != without and h.at > now - DAY_S]
    return sorted(entries + [(at, size) for at, size in usage.spent if at > now - DAY_S])


def bytes_today(usage: Usage, now: float, without: str | None = None) -> int:
    """Bytes the key uploaded (or is uploading) in the last 24 h, leaving out one job's hold."""
    return sum(size for _, size in _day_entries(usage, now, without))


def seconds_until_free(usage: Usage, now: float, needed: int, without: str | None = None) -> int:
    """When `needed` bytes of the rolling day will have aged out (at least 1 s)."""
    freed = 0
    for at, size in _day_entries(usage, now, without):
        freed += size
        if freed >= needed:
            return max(1, math.ceil(at + DAY_S - now))
    return math.ceil(DAY_S)  # holds still streaming with no size yet: a day is the honest bound


@dataclass(frozen=True)
class Refusal:
    """A limit the request is over: the HTTP status, the reason, and when to try again."""

    status: int
    limit: str
    value: int
    used: int
    reason: str
    retry_after_s: int | None = None

    @property
    def detail(self) -> dict[str, object]:
        return {"reason": self.reason, "limit": self.limit, "value": self.value, "used": self.used}


def who(caller: str | None) -> str:
    return f"API key {caller!r}" if caller is not None else "the open API"


def gib(size: int) -> str:
    """Bytes as a person reads them: 1.2 GiB, 340 MiB, 512 bytes."""
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    return f"{size / 2**20:.0f} MiB" if size >= 2**20 else f"{size} bytes"


def over_jobs(limits: Limits, caller: str | None, running: int) -> Refusal | None:
    """429 when the caller already has its limit of jobs uploading, queued or running."""
    if limits.jobs == 0 or running < limits.jobs:
        return None
    reason = (
        f"{who(caller)} has {running} jobs uploading, queued or running, its limit "
        f"(AODIO_INGEST_MAX_JOBS_PER_KEY or AODIO_INGEST_KEY_LIMITS): submit again when one finishes"
    )
    return Refusal(429, "jobs_at_once", limits.jobs, running, reason, BUSY_RETRY_S)


def over_bytes(
    limits: Limits, caller: str | None, usage: Usage, size: int, now: float, without: str | None = None
) -> Refusal | None:
    """429 when `size` more bytes would pass the caller's rolling-day allowance; 413 when it alone does."""
    allowance = limits.bytes_per_day
    if allowance == 0:
        return None
    used = bytes_today(usage, now, without)
    if size > allowance:
        reason = (
            f"this upload ({gib(size)}) is larger than the daily allowance of {who(caller)} "
            f"({gib(allowance)}, AODIO_INGEST_MAX_DAILY_BYTES_PER_KEY or AODIO_INGEST_KEY_LIMITS)"
        )
        return Refusal(413, "bytes_per_day", allowance, used, reason)
    if used + size <= allowance and used < allowance:
        return None
    wait = seconds_until_free(usage, now, used + max(size, 1) - allowance, without)
    reason = (
        f"{who(caller)} uploaded {gib(used)} in the last 24 h of its {gib(allowance)} a day; this upload "
        f"needs {gib(size) if size else 'more'}: try again in {wait} s"
    )
    return Refusal(429, "bytes_per_day", allowance, used, reason, wait)
