"""Voice profiles from the API's side: a job's speaker confirmed as a person, or not; re-identification.

"SPEAKER_2 of this job is Alice Martin" (confirm_speaker) names the label, marks its identity
confirmed and adds the label's voice to Alice's profile, taking it out of any other profile that held
it (the one-action correction of a wrong match). "not them" (reject_speaker) takes the sample back
out and remembers the refusal in the job (JobState.voice_rejections), so no later run matches the
two again. Both rewrite the stored exports, as a rename does. Hand-given names and voice matches are
told apart as runtime/identities.py says.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from fastapi import HTTPException

from contracts import keys
from contracts.api import Person, PersonSource, SpeakerPerson
from contracts.artifacts import SpeakerVoice, SpeakerVoices, Transcript, VoiceProfile, decode_speaker_voices
from contracts.state import JobState, JobWarning, SpeakerIdentity
from runtime.identities import apply_identities, from_voice, identities_now
from runtime.profiles import ProfileStore
from runtime.storage.base import ObjectNotFound, Storage
from runtime.voices import holders, relabelled, sample_of, similarity, with_sample, without_sample
from services.ingest import exports
from services.ingest.deps import Services

log = logging.getLogger(__name__)
MAX_NAME_CHARS = 80  # as speaker names (routes/results.py)


def person_view(profile: VoiceProfile, sources: bool = False) -> Person:
    """A profile as the API shows it: counts and origins, never a vector."""
    return Person(
        person_id=profile.person_id,
        name=profile.name,
        samples=len(profile.samples),
        speech_s=round(sum(s.speech_s for s in profile.samples), 3),
        created_at=profile.created_at,
        updated_at=profile.updated_at,
        sources=[
            PersonSource(job_id=s.job_id, speaker=s.speaker, speech_s=s.speech_s, model=s.model, at=s.at)
            for s in profile.samples
        ]
        if sources
        else [],
    )


def clean_name(name: str) -> str:
    """The name on one line with single spaces; 422 when it is empty, too long or not printable."""
    cleaned = " ".join(name.split())
    if not cleaned or not cleaned.isprintable() or len(cleaned) > MAX_NAME_CHARS:
        raise HTTPException(422, f"a person's name must be 1-{MAX_NAME_CHARS} printable characters")
    return cleaned


def named(profiles: list[VoiceProfile], name: str) -> VoiceProfile | None:
    """The profile of that name (case and spacing aside), if the owner has one."""
    wanted = name.casefold()
    return next((p for p in profiles if p.name.casefold() == wanted), None)


def profile_or_404(store: ProfileStore, person_id: str) -> VoiceProfile:
    profile = store.find(person_id)
    if profile is None:
        raise HTTPException(404, f"unknown person {person_id}")
    return profile


def job_voices(storage: Storage, state: JobState) -> tuple[Transcript, SpeakerVoices]:
    """The job's labelled transcript and its voices under the transcript's labels; 409 before they exist."""
    try:
        labelled = exports.labelled_transcript(storage, state.job_id)
    except ObjectNotFound as exc:
        raise HTTPException(
            409, f"job {state.job_id} has no transcript yet (it is {state.status}): wait until it is done"
        ) from exc
    try:
        stored = decode_speaker_voices(storage.get_bytes(keys.diarization_voices_key(state.job_id)))
    except ObjectNotFound as exc:
        raise HTTPException(
            409,
            f"job {state.job_id} has no speaker voices (diarization/voices.json): it was not diarized, or "
            "before voices were kept; replay it from diarize",
        ) from exc
    except msgspec.DecodeError as exc:
        raise HTTPException(
            409, f"the speaker voices of job {state.job_id} are not readable ({exc})"
        ) from exc
    return labelled, relabelled(stored, (labelled.diarization or {}).get("speaker_map") or {})


def check_label(labelled: Transcript, label: str) -> None:
    if label not in labelled.speakers:
        known = ", ".join(labelled.speakers) or "none"
        raise HTTPException(404, f"no speaker {label!r} in this job (it has: {known})")


def voice_of(voices: SpeakerVoices, label: str) -> SpeakerVoice:
    voice = next((v for v in voices.speakers if v.speaker == label), None)
    if voice is None:
        raise HTTPException(409, f"the diarizer kept no voice for {label} of this job: it cannot be enrolled")
    return voice


def name_clash(state: JobState, label: str, name: str) -> str | None:
    """Another label of the job already named `name` by a person (a voice match would give way)."""
    for other, given in state.speaker_names.items():
        identity = state.speaker_identities.get(other)
        by_voice = identity is not None and not identity.confirmed and from_voice(state, other)
        if other != label and given.casefold() == name.casefold() and not by_voice:
            return other
    return None


def move_sample(
    store: ProfileStore, target: VoiceProfile, voice: SpeakerVoice, model: str, job_id: str
) -> tuple[VoiceProfile, float]:
    """The label's voice into target, out of every other profile; returns target and the similarity."""
    for other in holders(store.list(), job_id, voice.speaker):
        if other.person_id != target.person_id:
            store.put(without_sample(other, job_id, voice.speaker))
    before = similarity(voice, target, model)
    moved = with_sample(target, sample_of(voice, model, job_id))
    store.put(moved)
    return moved, 1.0 if before is None else before  # a first sample: the profile is this voice


def set_identity(state: JobState, label: str, identity: SpeakerIdentity) -> None:
    """Idempotent: the label is that person (a voice match of them on another label was wrong)."""
    for other, old in list(state.speaker_identities.items()):
        if other != label and old.person_id == identity.person_id:
            if from_voice(state, other):
                del state.speaker_names[other]
            del state.speaker_identities[other]
    state.speaker_identities[label] = identity
    state.speaker_names[label] = identity.name
    refused = [p for p in state.voice_rejections.get(label, []) if p != identity.person_id]
    if refused:
        state.voice_rejections[label] = refused
    else:
        state.voice_rejections.pop(label, None)


def drop_identity(state: JobState, label: str, person_ids: list[str]) -> None:
    """Idempotent: the label is none of them: no identity, no name from it, and never matched again."""
    identity = state.speaker_identities.get(label)
    if identity is not None and identity.person_id in person_ids:
        if from_voice(state, label):
            del state.speaker_names[label]
        del state.speaker_identities[label]
    refused = state.voice_rejections.setdefault(label, [])
    refused += [p for p in person_ids if p not in refused]


def answer(state: JobState, label: str, person: Person | None) -> SpeakerPerson:
    """The job's speaker, names and identities after a PUT or DELETE of its person."""
    return SpeakerPerson(
        job_id=state.job_id,
        speaker=label,
        person=person,
        identity=state.speaker_identities.get(label),
        speaker_names=dict(state.speaker_names),
        speaker_identities=dict(state.speaker_identities),
    )


async def reidentify(services: Services, job_id: str) -> None:
    """Match the job's speakers against the profiles as they are now (a replay from summarize).

    Assemble does this on every other run; a failure here must not stop the replay, so it is logged
    and the job says its speakers were not checked.
    """
    try:
        state = await services.jobs.get(job_id)
        found = await asyncio.to_thread(_identities, services, state)
        if found is None:
            return
        labelled, identities = found
        updated = await services.jobs.update(job_id, lambda job: apply_identities(job, identities))
        if updated.speaker_names != state.speaker_names:
            await asyncio.to_thread(
                exports.rewrite_exports, services.storage, job_id, updated.speaker_names, labelled
            )
    except Exception as exc:
        log.warning("job %s: speakers not identified again before the replay: %s", job_id, exc)
        warning = JobWarning(
            stage="ingest",
            code="voices_not_checked",
            message=f"speakers were not matched against the voice profiles again ({exc}): names as before",
        )
        await services.jobs.update(job_id, lambda job: job.warn(warning))


def _identities(services: Services, state: JobState) -> tuple[Transcript, dict[str, SpeakerIdentity]] | None:
    try:
        labelled, voices = job_voices(services.storage, state)
    except HTTPException:
        return None  # not diarized (or no transcript): nobody to recognise
    profiles = ProfileStore(services.storage, state.owner).list()
    threshold = services.settings.voice_match_threshold
    return labelled, identities_now(state, voices, profiles, threshold)
