"""FastAPI dependencies: the shared clients built once in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client

from contracts.subjects import Topology
from runtime.egress import EgressPolicy
from runtime.jobs import JobStore
from runtime.storage.base import Storage
from services.ingest.config import IngestSettings


@dataclass
class Services:
    settings: IngestSettings
    nc: Client
    topology: Topology
    jobs: JobStore
    storage: Storage
    egress: EgressPolicy  # what from-url fetches may reach


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]
