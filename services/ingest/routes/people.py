"""People: voice profiles of the API key, enrolment from a job's speaker or a sample, corrections.

A profile belongs to the key that made it (the open API's one caller without keys); another key's
profiles answer 404, as its jobs do.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import msgspec
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from contracts import keys
from contracts.api import JobAccepted, PeoplePage, Person, SpeakerPerson
from contracts.artifacts import VoiceProfile
from contracts.state import SpeakerIdentity
from runtime.profiles import ProfileStore
from runtime.storage.base import ObjectNotFound
from runtime.voices import holders, without_sample
from services.ingest import exports, people
from services.ingest.access import load_job
from services.ingest.admission import GateDep
from services.ingest.answers import answers, refusals, reply
from services.ingest.auth import Caller
from services.ingest.deps import Services, ServicesDep
from services.ingest.submit import keeping_nothing_if_refused, new_job_id, options_from, queue_job
from services.ingest.upload import receive_upload

router = APIRouter(tags=["people"])


class PersonName(BaseModel):
    name: str = Field(description="the person's name, 1-80 printable characters")


class MergeFrom(BaseModel):
    from_id: str = Field(alias="from", description="the profile whose samples move here; it is deleted")


class SpeakerIs(BaseModel):
    person_id: str | None = Field(default=None, description="an existing profile")
    name: str | None = Field(default=None, description="or a name: that profile, else a new one")


def _store(services: Services, caller: str | None) -> ProfileStore:
    return ProfileStore(services.storage, caller)


@router.get("/v1/people", responses=answers(PeoplePage))
async def list_people(services: ServicesDep, caller: Caller) -> Response:
    """The key's voice profiles, by name: samples and seconds of speech each."""
    profiles = await asyncio.to_thread(_store(services, caller).list)
    return reply(PeoplePage(people=[people.person_view(p) for p in profiles]))


@router.post("/v1/people", status_code=201, responses=answers(Person, 409, 422, status=201))
async def create_person(body: PersonName, services: ServicesDep, caller: Caller) -> Response:
    """A new profile with no voice yet (enrol one from a job's speaker or a sample)."""
    name, store = people.clean_name(body.name), _store(services, caller)

    def create() -> Person:
        if (same := people.named(store.list(), name)) is not None:
            raise HTTPException(409, f"there is already a person named {same.name} ({same.person_id})")
        return people.person_view(store.create(name))

    return reply(await asyncio.to_thread(create), status=201)


@router.get("/v1/people/{person_id}", responses=answers(Person, 404))
async def get_person(person_id: str, services: ServicesDep, caller: Caller) -> Response:
    """One profile, with where each sample of its voice came from."""
    profile = await asyncio.to_thread(people.profile_or_404, _store(services, caller), person_id)
    return reply(people.person_view(profile, sources=True))


@router.patch("/v1/people/{person_id}", responses=answers(Person, 404, 409, 422))
async def rename_person(person_id: str, body: PersonName, services: ServicesDep, caller: Caller) -> Response:
    """Rename a profile: later matches carry the new name (a job's names change when it runs again)."""
    name, store = people.clean_name(body.name), _store(services, caller)

    def rename() -> Person:
        profile = people.profile_or_404(store, person_id)
        same = people.named(store.list(), name)
        if same is not None and same.person_id != person_id:
            raise HTTPException(409, f"there is already a person named {same.name} ({same.person_id})")
        renamed = msgspec.structs.replace(profile, name=name)
        store.put(renamed)
        return people.person_view(renamed, sources=True)

    return reply(await asyncio.to_thread(rename))


@router.delete("/v1/people/{person_id}", status_code=204, responses=refusals(404))
async def delete_person(person_id: str, services: ServicesDep, caller: Caller) -> Response:
    """Forget the person: the profile and every voice vector kept of them are deleted."""
    if not await asyncio.to_thread(_store(services, caller).delete, person_id):
        raise HTTPException(404, f"unknown person {person_id}")
    return Response(status_code=204)


@router.post("/v1/people/{person_id}/merge", responses=answers(Person, 404, 422))
async def merge_people(person_id: str, body: MergeFrom, services: ServicesDep, caller: Caller) -> Response:
    """Two profiles of one person: the samples of `from` move here, and `from` is deleted."""
    if body.from_id == person_id:
        raise HTTPException(422, "a person cannot be merged into themselves")
    store = _store(services, caller)

    def merge() -> Person:
        into, source = people.profile_or_404(store, person_id), people.profile_or_404(store, body.from_id)
        merged = into
        for sample in source.samples:
            if sample.job_id is None or not holders([merged], sample.job_id, sample.speaker or ""):
                merged = msgspec.structs.replace(merged, samples=[*merged.samples, sample])
        store.put(msgspec.structs.replace(merged, updated_at=time.time()))
        store.delete(source.person_id)
        return people.person_view(people.profile_or_404(store, person_id), sources=True)

    return reply(await asyncio.to_thread(merge))


@router.post(
    "/v1/people/{person_id}/samples",
    status_code=202,
    responses=answers(JobAccepted, 400, 404, 413, 415, 422, 429, 503, 507, status=202),
)
async def enrol_sample(
    person_id: str, request: Request, services: ServicesDep, caller: Caller, gate: GateDep
) -> Response:
    """A recording of the person (field 'file'): a job whose main speaker's voice joins the profile.

    It runs as any job (follow it at its status_url); summary_method is "none". When it is done, the
    speaker with the most speech is enrolled; a sample with several voices says so in its warnings.
    """
    await asyncio.to_thread(people.profile_or_404, _store(services, caller), person_id)
    limit = services.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else None
    if size is not None and size > limit + 1024 * 1024:
        raise HTTPException(413, f"upload is larger than the limit of {limit / 2**30:.2f} GiB")
    job_id = new_job_id()
    async with gate.admit(caller, job_id, size) as ticket:
        async with keeping_nothing_if_refused(services, job_id):
            upload = await receive_upload(
                request.headers.get("content-type", ""),
                request.stream(),
                services.storage,
                lambda name: keys.source_key(job_id, name),
                limit,
            )
            if upload.size_bytes == 0:
                raise HTTPException(400, "upload is empty: 0 bytes")
            assert upload.file_key is not None and upload.original_name is not None
            options = options_from(_sample_options(upload.fields.get("options", ""), person_id))
            await ticket.settle(upload.size_bytes)
        return await queue_job(
            services,
            job_id=job_id,
            source_key=upload.file_key,
            original_name=upload.original_name,
            size_bytes=upload.size_bytes,
            options=options,
            owner=caller,
        )


def _sample_options(raw: str, person_id: str) -> object:
    """The upload's options (language, speakers...), enrolling into the person, with no summary."""
    try:
        given = msgspec.json.decode(raw.strip().encode() or b"{}")
    except msgspec.DecodeError as exc:
        raise HTTPException(422, f"bad options: not JSON ({exc})") from exc
    if not isinstance(given, dict):
        return given  # options_from says why
    return {**given, "enroll_person": person_id, "summary_method": "none"}


@router.put("/v1/jobs/{job_id}/speakers/{label}/person", responses=answers(SpeakerPerson, 404, 409, 422))
async def speaker_is(
    job_id: str,
    label: str,
    services: ServicesDep,
    caller: Caller,
    body: Annotated[SpeakerIs, Body(examples=[{"person_id": "p0123456789abcdef"}, {"name": "Alice Martin"}])],
) -> Response:
    """Say who a speaker is (SPEAKER_2 is Alice Martin): the name, and the voice into her profile only."""
    if (body.person_id is None) == (body.name is None):
        raise HTTPException(422, "give either person_id (an existing profile) or name, not both")
    name = people.clean_name(body.name) if body.name is not None else None
    state = await load_job(services, job_id, caller)
    storage, store = services.storage, _store(services, caller)
    labelled, voices = await asyncio.to_thread(people.job_voices, storage, state)
    people.check_label(labelled, label)
    voice = people.voice_of(voices, label)

    def enrol() -> tuple[Person, SpeakerIdentity]:
        if body.person_id is not None:
            target: VoiceProfile | None = people.profile_or_404(store, body.person_id)
        else:
            target = people.named(store.list(), name or "")
        wanted = target.name if target is not None else name or ""
        clash = people.name_clash(state, label, wanted)
        if clash is not None:  # checked before a new profile is made
            raise HTTPException(409, f"{clash} of this job is already {wanted}: one label per person")
        moved, confidence = people.move_sample(
            store, target or store.create(wanted), voice, voices.model, job_id
        )
        identity = SpeakerIdentity(
            person_id=moved.person_id, name=moved.name, confidence=round(confidence, 4), confirmed=True
        )
        return people.person_view(moved, sources=True), identity

    person, identity = await asyncio.to_thread(enrol)
    updated = await services.jobs.update(job_id, lambda job: people.set_identity(job, label, identity))
    await asyncio.to_thread(exports.rewrite_exports, storage, job_id, updated.speaker_names, labelled)
    return reply(people.answer(updated, label, person))


@router.delete("/v1/jobs/{job_id}/speakers/{label}/person", responses=answers(SpeakerPerson, 404, 409))
async def speaker_is_not(
    job_id: str,
    label: str,
    services: ServicesDep,
    caller: Caller,
    person_id: str | None = Query(None, description="the person it is not (default: the one it is now)"),
) -> Response:
    """Say who a speaker is not: that profile loses the label's voice, the label its name, for good.

    Without person_id: the person the label is now (a profile that holds its voice, else its identity's).
    A profile deleted since still lets the identity go (the answer's person is then None).
    """
    state = await load_job(services, job_id, caller)
    storage, store = services.storage, _store(services, caller)
    try:
        labelled = await asyncio.to_thread(exports.labelled_transcript, storage, job_id)
    except ObjectNotFound as exc:
        raise HTTPException(409, f"job {job_id} has no transcript yet (it is {state.status})") from exc
    people.check_label(labelled, label)
    current = state.speaker_identities.get(label)

    def forget() -> tuple[str, Person | None]:
        holding = holders(store.list(), job_id, label) if person_id is None else []
        chosen = person_id or (holding[0].person_id if holding else None) or (current and current.person_id)
        if not chosen:
            raise HTTPException(409, f"{label} of this job is nobody yet: say whom it is not (?person_id=)")
        profile = store.find(chosen)
        if profile is None:
            if current is not None and current.person_id == chosen:
                return chosen, None  # merged or deleted since: only the job's identity is left to drop
            raise HTTPException(404, f"unknown person {chosen}")
        kept = without_sample(profile, job_id, label)
        if kept is not profile:
            store.put(kept)
        return chosen, people.person_view(kept, sources=True)

    chosen, person = await asyncio.to_thread(forget)
    # without person_id, the label's identity goes even when it names a profile merged away since
    refused = [chosen] if person_id is not None or current is None else list({chosen, current.person_id})
    updated = await services.jobs.update(job_id, lambda job: people.drop_identity(job, label, refused))
    await asyncio.to_thread(exports.rewrite_exports, storage, job_id, updated.speaker_names, labelled)
    return reply(people.answer(updated, label, person))
