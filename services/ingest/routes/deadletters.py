"""Dead letters: the messages a stage gave up on, to read, retry, or drop.

With API keys, a key sees only the letters of jobs it submitted; letters without a job (a malformed
message) or of a deleted job are shown only on an open API (no keys: the loopback operator).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from contracts.api import DeadLetterPage, DeadLetterRetried, StoredDeadLetter
from runtime.deadletters import DeadLetters, JobGone, LetterNotFound
from services.ingest.answers import answers, refusals, reply
from services.ingest.auth import Caller
from services.ingest.deps import ServicesDep

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])


def _dead_letters(services: ServicesDep) -> DeadLetters:
    return DeadLetters(services.nc.jetstream(), services.jobs, services.topology)


LettersDep = Annotated[DeadLetters, Depends(_dead_letters)]


async def _load(letters: DeadLetters, letter_id: str, caller: str | None) -> StoredDeadLetter:
    """The letter, if this caller may see it; unknown ids and other keys' letters answer the same 404."""
    if not letter_id.isdigit() or int(letter_id) < 1:
        raise HTTPException(404, f"unknown dead letter: {letter_id!r} is not a dead-letter id")
    try:
        letter = await letters.get(int(letter_id))
    except LetterNotFound as exc:
        raise HTTPException(404, f"unknown dead letter {letter_id}") from exc
    if caller is not None and await letters.owner_of(letter) != caller:
        raise HTTPException(404, f"unknown dead letter {letter_id}")
    return letter


@router.get("", responses=answers(DeadLetterPage))
async def list_dead_letters(
    letters: LettersDep,
    caller: Caller,
    limit: int = Query(50, ge=1, le=200),
    after: int = Query(0, ge=0, description="the next_after of the previous page"),
    stage: str | None = Query(None, pattern=r"^[a-z_]{1,32}$"),
    job_id: str | None = Query(None),
) -> Response:
    """Dead letters still waiting, oldest first, a page at a time (a page may be short; follow next_after)."""
    page, next_after = await letters.page(limit, after, stage=stage, job_id=job_id, owner=caller)
    return reply(DeadLetterPage(dead_letters=page, next_after=next_after))


@router.get("/{letter_id}", responses=answers(StoredDeadLetter, 404))
async def get_dead_letter(letter_id: str, letters: LettersDep, caller: Caller) -> Response:
    """One dead letter: its stage, reason, attempts, the job and the payload the stage gave up on."""
    return reply(await _load(letters, letter_id, caller))


@router.post(
    "/{letter_id}/retry", status_code=202, responses=answers(DeadLetterRetried, 404, 409, status=202)
)
async def retry_dead_letter(letter_id: str, letters: LettersDep, caller: Caller) -> Response:
    """Send the message to its stage again (the job leaves "failed" first); the letter is removed."""
    letter = await _load(letters, letter_id, caller)
    try:
        retried = await letters.retry(letter.id)
    except LetterNotFound as exc:
        raise HTTPException(404, f"unknown dead letter {letter_id}") from exc
    except JobGone as exc:
        raise HTTPException(409, str(exc)) from exc
    answer = DeadLetterRetried(
        id=retried.id,
        subject=retried.subject,
        sequence=retried.sequence,
        job_id=retried.job_id,
        job_status=retried.job_status,
    )
    return reply(answer, status=202)


@router.delete("/{letter_id}", status_code=204, responses=refusals(404))
async def drop_dead_letter(letter_id: str, letters: LettersDep, caller: Caller) -> Response:
    """Discard the letter without retrying it."""
    letter = await _load(letters, letter_id, caller)
    try:
        await letters.drop(letter.id)
    except LetterNotFound as exc:
        raise HTTPException(404, f"unknown dead letter {letter_id}") from exc
    return Response(status_code=204)
