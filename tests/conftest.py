"""Shared fixtures: real servers (tests/servers.py) and an isolated bus per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from runtime.bus import connect, provision
from runtime.jobs import JobStore
from runtime.settings import NatsSettings
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.servers import *  # noqa: F403  (nats_server, s3_server, s3_storage, dir_storage)
from tests.stagekit import test_settings


@dataclass
class Bus:
    nc: Client
    js: JetStreamContext
    settings: NatsSettings
    jobs: JobStore


@pytest.fixture
async def bus(nats_server) -> AsyncIterator[Bus]:
    """A provisioned stream, consumers and jobs bucket on a namespace of this test's own."""
    settings = test_settings(nats_server.url)
    nc = await connect(settings)
    js = nc.jetstream()
    await provision(js, settings, settings.topology)
    jobs = await JobStore.open(js, settings.topology.jobs_bucket)
    yield Bus(nc, js, settings, jobs)
    await js.delete_stream(settings.topology.stream)
    await js.delete_key_value(settings.topology.jobs_bucket)
    await nc.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test module (the modules skip without either)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
