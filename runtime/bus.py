"""Connecting to NATS and idempotent provisioning of the stream, the stage consumers and the KV bucket."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError
from nats.js.kv import KeyValue

from contracts.events import LANES
from contracts.subjects import STAGE_INPUTS, Topology, consumer_name
from runtime.settings import NatsSettings

log = logging.getLogger(__name__)

DAY_S = 86400.0


async def connect(settings: NatsSettings, name: str = "aodio") -> Client:
    """Connect with the configured credentials; reconnects forever so a restarted server is picked up."""
    options: dict[str, object] = {
        "servers": [u.strip() for u in settings.url.split(",")],
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 1,
        "connect_timeout": 5,
    }
    if settings.user:
        options["user"] = settings.user
        options["password"] = settings.password.get_secret_value() if settings.password else None
    if settings.token:
        options["token"] = settings.token.get_secret_value()
    if settings.creds_file:
        options["user_credentials"] = str(settings.creds_file)
    if settings.nkey_seed_file:
        options["nkeys_seed"] = str(settings.nkey_seed_file)
    if settings.tls_ca_file or settings.tls_cert_file:
        options["tls"] = tls_context(settings)
    refused: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()
    options |= _connection_logging(name, refused)
    # Until NATS answers, keep trying (services may start before it); but refused credentials or an
    # untrusted certificate will never get better: fail at once with what to check.
    attempt = asyncio.ensure_future(nats.connect(**options))  # type: ignore[arg-type]
    waiting: set[asyncio.Future[Any]] = {attempt, refused}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if attempt.done():
        return attempt.result()
    attempt.cancel()
    with contextlib.suppress(BaseException):
        await attempt
    raise NatsRefused(
        f"NATS at {settings.url} refused {name}: {refused.result()}; check AODIO_NATS_USER/_PASSWORD, "
        "_TOKEN, _CREDS_FILE, _NKEY_SEED_FILE and the TLS settings (AODIO_NATS_TLS_CA_FILE...)"
    )


class NatsRefused(ConnectionError):
    """NATS answered but refused us: bad credentials or an untrusted certificate."""


def _is_refusal(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, ssl.SSLCertVerificationError) or any(
        sign in text for sign in ("authorization violation", "authentication", "certificate verify failed")
    )


def tls_context(settings: NatsSettings) -> ssl.SSLContext:
    """Trust the configured CA (else the system's); present a client certificate when one is set."""
    context = ssl.create_default_context(cafile=str(settings.tls_ca_file) if settings.tls_ca_file else None)
    if settings.tls_cert_file:
        key = str(settings.tls_key_file) if settings.tls_key_file else None
        context.load_cert_chain(str(settings.tls_cert_file), key)
    return context


def _connection_logging(name: str, refused: asyncio.Future[Exception]) -> dict[str, object]:
    """One log line per disconnect, reconnect and new error, instead of a traceback a second."""
    seen: set[str] = set()

    async def error(exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if text not in seen:
            log.warning("%s: NATS error: %s", name, text)
            seen.add(text)
        if _is_refusal(exc) and not refused.done():
            refused.set_result(exc)

    async def disconnected() -> None:
        log.warning("%s: disconnected from NATS; reconnecting", name)

    async def reconnected() -> None:
        seen.clear()
        log.warning("%s: reconnected to NATS", name)

    return {"error_cb": error, "disconnected_cb": disconnected, "reconnected_cb": reconnected}


def stream_config(settings: NatsSettings, topology: Topology) -> api.StreamConfig:
    """The one stream: history kept by age so any event can be replayed."""
    return api.StreamConfig(
        name=topology.stream,
        subjects=topology.stream_subjects,
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        max_age=settings.stream_max_age_days * DAY_S,
        duplicate_window=settings.duplicate_window_s,
        num_replicas=settings.stream_replicas,
    )


def consumer_config(name: str, settings: NatsSettings, filter_subjects: list[str]) -> api.ConsumerConfig:
    """One durable pull consumer per stage and lane, shared by all the stage's replicas."""
    return api.ConsumerConfig(
        durable_name=name,
        name=name,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.NEW,
        ack_wait=settings.ack_wait_s,
        max_deliver=settings.max_deliver,
        filter_subjects=filter_subjects,
        max_ack_pending=1000,
    )


async def ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    try:
        await js.stream_info(config.name or "")
        await js.update_stream(config)
    except NotFoundError:
        await js.add_stream(config)
        log.info("created stream %s", config.name)


async def ensure_consumer(js: JetStreamContext, stream: str, config: api.ConsumerConfig) -> None:
    try:
        await js.add_consumer(stream, config=config)
    except BadRequestError as exc:
        # An existing consumer with other settings: update what the server lets us update.
        log.warning("consumer %s exists with other settings (%s); keeping it", config.durable_name, exc)


async def provision(js: JetStreamContext, settings: NatsSettings, topology: Topology) -> None:
    """Create or update the stream, every stage's consumer and the jobs KV bucket. Safe to run often."""
    await ensure_stream(js, stream_config(settings, topology))
    for stage in STAGE_INPUTS:
        for lane in LANES:
            name, subjects = consumer_name(stage, lane), topology.stage_subjects(stage, lane)
            await ensure_consumer(js, topology.stream, consumer_config(name, settings, subjects))
    await ensure_jobs_bucket(js, settings, topology)


async def ensure_key_value(js: JetStreamContext, bucket: str, history: int, replicas: int) -> KeyValue:
    """Create a KV bucket, or open the existing one, giving it `replicas` (1 -> 3 on a new cluster).

    Several processes may race to create it: the loser's "already in use" is the same as found.
    """
    config = api.KeyValueConfig(
        bucket=bucket, history=history, storage=api.StorageType.FILE, replicas=replicas
    )
    try:
        return await js.create_key_value(config)
    except BadRequestError as exc:
        if exc.err_code != 10058:  # not "stream name already in use with a different configuration"
            raise
    info = await js.stream_info(f"KV_{bucket}")
    if info.config.num_replicas != replicas:
        await js.update_stream(dataclasses.replace(info.config, num_replicas=replicas))
        log.info("bucket %s now has %d replicas", bucket, replicas)
    return await js.key_value(bucket)


async def ensure_jobs_bucket(js: JetStreamContext, settings: NatsSettings, topology: Topology) -> None:
    """Create the jobs KV bucket (five revisions a job), with the configured replicas."""
    await ensure_key_value(js, topology.jobs_bucket, 5, settings.stream_replicas)


async def disconnect(nc: Client, timeout_s: float = 10.0) -> None:
    """Drain when connected (acks and publishes in flight go out); close at once when NATS is gone.

    Draining a connection that is reconnecting raises or waits on a server that may never come back
    (a stack stopping all at once stops its nats-server too), so the process would linger.
    """
    if nc.is_connected:
        try:
            await asyncio.wait_for(nc.drain(), timeout_s)
            return
        except (Exception, TimeoutError) as exc:
            log.warning("could not drain the NATS connection (%s); closing it", exc or type(exc).__name__)
    with contextlib.suppress(Exception, TimeoutError):
        await asyncio.wait_for(nc.close(), timeout_s)
