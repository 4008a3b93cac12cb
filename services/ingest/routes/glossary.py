"""The API key's glossary: names, products and jargon every job of the key spells as given."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import Response

from contracts.artifacts import Glossary
from services.ingest.answers import answers, reply
from services.ingest.auth import Caller
from services.ingest.deps import ServicesDep
from services.ingest.glossary import GlossaryError, load_glossary, parse_update, save_glossary

router = APIRouter(prefix="/v1/glossary", tags=["glossary"])

_EXAMPLE = {"terms": ["ComfyUI", "Nguyen Thi Hoa", "Kubernetes"]}


@router.get("", responses=answers(Glossary))
async def get_glossary(services: ServicesDep, caller: Caller) -> Response:
    """The key's glossary (empty until set); merged into every job it submits."""
    try:
        glossary = await asyncio.to_thread(load_glossary, services.storage, caller)
    except msgspec.DecodeError as exc:
        raise HTTPException(500, f"the glossary is damaged ({exc}): set it again with PUT") from exc
    return reply(glossary)


@router.put("", responses=answers(Glossary, 422))
async def put_glossary(
    services: ServicesDep,
    caller: Caller,
    body: Annotated[dict[str, Any], Body(examples=[_EXAMPLE])],
) -> Response:
    """Replace the key's glossary: at most 200 terms of 1-64 characters, repeats (any case) kept once.

    Jobs submitted from now on get these terms after their own `vocabulary`; jobs already
    submitted keep the words they were given.
    """
    try:
        terms = parse_update(msgspec.json.encode(body))
    except GlossaryError as exc:
        raise HTTPException(422, str(exc)) from exc
    return reply(await asyncio.to_thread(save_glossary, services.storage, caller, terms))
