"""The one failure the consume loop cannot see: a worker that died on a message's last delivery.

JetStream then stops redelivering and publishes a MAX_DELIVERIES advisory. Without this watcher the job
would wait forever; with it, the job fails with the reason and the message becomes a dead letter.
"""

from __future__ import annotations

import json
import logging

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.events import decode_event
from contracts.subjects import Topology
from runtime.failures import Failures

log = logging.getLogger(__name__)


def max_deliveries_subject(topology: Topology, consumer: str) -> str:
    return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{topology.stream}.{consumer}"


async def watch_max_deliveries(
    nc: Client, topology: Topology, stage: str, failures: Failures, consumer: str | None = None
) -> Subscription:
    """Subscribe every replica; recording the same failure twice is harmless (CAS + Nats-Msg-Id)."""
    js = nc.jetstream()

    async def on_advisory(advisory: Msg) -> None:
        try:
            info = json.loads(advisory.data)
            sequence, deliveries = int(info["stream_seq"]), int(info.get("deliveries", 0))
            stored = await js.get_msg(topology.stream, sequence)
        except Exception as exc:
            log.warning("max-deliveries advisory for %s not handled: %s", stage, exc)
            return
        payload = stored.data or b""
        reason = (
            f"the {stage} worker stopped {deliveries} times while working on this job "
            "(a crash or running out of memory); giving up"
        )
        job_id = None
        try:
            event = decode_event(payload)
            job_id = event.job_id
            await failures.fail_job(event, reason, deliveries)
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass
        await failures.dead_letter(stored.subject or "", payload, sequence, reason, deliveries, job_id)

    return await nc.subscribe(max_deliveries_subject(topology, consumer or stage), cb=on_advisory)
