"""Publishing an event: on its subject, with the Nats-Msg-Id that lets JetStream drop a repeat."""

from __future__ import annotations

from nats.js import JetStreamContext, api

from contracts.events import Event, encode
from contracts.subjects import Topology, message_id


async def publish_event(js: JetStreamContext, topology: Topology, event: Event) -> api.PubAck:
    """Publish `event` on its subject (its lane's); a second publish of the same event is a duplicate."""
    return await js.publish(
        topology.subject_for(event), encode(event), headers={"Nats-Msg-Id": message_id(event)}
    )
