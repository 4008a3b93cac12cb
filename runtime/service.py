"""Run one stage as a long-lived service: connect, provision, check storage, consume, drain on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from runtime.bus import connect, disconnect, provision
from runtime.jobs import JobStore
from runtime.memory import ALLOCATOR_TUNABLES, allocator_tuned
from runtime.settings import NatsSettings, StorageSettings
from runtime.stage import Handler
from runtime.storage import open_storage
from runtime.worker import Worker

log = logging.getLogger(__name__)


PROVISION_PATIENCE_S = 120.0


async def provision_patiently(js: JetStreamContext, settings: NatsSettings) -> None:
    """Provision, retrying while JetStream answers with time-outs (a cluster electing its leader)."""
    deadline = time.monotonic() + PROVISION_PATIENCE_S
    delay = 1.0
    while True:
        try:
            await provision(js, settings, settings.topology)
            return
        except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning(
                "JetStream is not ready (%s); provisioning again in %.0f s", type(exc).__name__, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def serve_stage(
    handler: Handler,
    nats_settings: NatsSettings,
    storage_settings: StorageSettings,
    concurrency: int = 1,
) -> None:
    """Consume the handler's stage until SIGTERM or SIGINT, then drain and exit."""
    storage = open_storage(storage_settings)
    await asyncio.to_thread(storage.check)
    storage_settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    nc = await connect(nats_settings, name=f"aodio-{handler.stage}")
    js = nc.jetstream()
    await provision_patiently(js, nats_settings)
    jobs = await JobStore.open(js, nats_settings.topology.jobs_bucket)
    worker = Worker(
        handler,
        nc=nc,
        settings=nats_settings,
        storage=storage,
        jobs=jobs,
        scratch_dir=storage_settings.scratch_dir,
        concurrency=concurrency,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    if not allocator_tuned():
        log.warning(
            "stage %s runs with glibc's default allocator: model stages spend about a third more CPU "
            "in page faults; start it with GLIBC_TUNABLES=%s (runtime/memory.py)",
            handler.stage,
            ":".join(ALLOCATOR_TUNABLES),
        )
    log.info(
        "stage %s ready: nats %s, artifacts in %s",
        handler.stage,
        nats_settings.url,
        storage.describe(),
    )
    try:
        abandoned = await worker.run()
    finally:
        await disconnect(nc)
    if abandoned:
        exit_leaving_threads(handler.stage, abandoned, nats_settings.drain_timeout_s)


def exit_leaving_threads(stage: str, abandoned: int, drain_timeout_s: float) -> None:
    """Exit now, though a handler's thread still works on a message the drain gave up on.

    Its message is unacked, so JetStream redelivers it to another replica after ack_wait. Returning
    instead would wait for that thread twice over (asyncio.run joins its executor, the interpreter its
    threads): a diarization left after the 30 s drain held the process past the container's stop
    grace, and the stop became a SIGKILL (found by the images smoke run).
    """
    log.warning(
        "stage %s: %d message(s) still in work after the %.0f s drain: left for redelivery; exiting",
        stage,
        abandoned,
        drain_timeout_s,
    )
    logging.shutdown()
    os._exit(0)
