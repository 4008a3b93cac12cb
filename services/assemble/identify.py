"""Who speaks: the job's voices matched against its owner's voice profiles, and a voice sample enrolled.

Runs in assemble before the exports are rendered, so every export carries the names. A job without
diarization/voices.json (diarization off, or diarized before voices were kept) is left as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import msgspec

from contracts import keys
from contracts.artifacts import SpeakerVoices, Transcript, VoiceProfile, decode_speaker_voices
from contracts.state import JobState, JobWarning, SpeakerIdentity
from runtime.identities import apply_identities, identities_now
from runtime.profiles import ProfileStore
from runtime.storage.base import ObjectNotFound, Storage
from runtime.voices import MIN_SPEECH_S, relabelled, sample_of, similarity, with_sample

STAGE = "assemble"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identification:
    """What this run found: every label's identity, and what a person should know about it."""

    identities: dict[str, SpeakerIdentity]
    warnings: list[JobWarning] = field(default_factory=list)


def identify_speakers(
    storage: Storage, state: JobState, transcript: Transcript, threshold: float
) -> Identification | None:
    """Match (and, for a voice sample job, enrol) the speakers; None when the job has no voices."""
    try:
        stored = decode_speaker_voices(storage.get_bytes(keys.diarization_voices_key(state.job_id)))
    except ObjectNotFound:
        return None
    except msgspec.DecodeError as exc:
        warning = JobWarning(
            stage=STAGE,
            code="voices_unreadable",
            message=f"diarization/voices.json is not readable ({exc}): no speaker was recognised by voice",
        )
        return Identification(dict(state.speaker_identities), [warning])
    voices = relabelled(stored, (transcript.diarization or {}).get("speaker_map") or {})
    store = ProfileStore(storage, state.owner)
    profiles = store.list()
    confirmed: dict[str, SpeakerIdentity] = {}
    warnings: list[JobWarning] = []
    if state.options.enroll_person is not None:
        confirmed, warnings, profiles = _enrol(store, state, voices, profiles)
    return Identification(identities_now(state, voices, profiles, threshold, confirmed), warnings)


def _enrol(
    store: ProfileStore, state: JobState, voices: SpeakerVoices, profiles: list[VoiceProfile]
) -> tuple[dict[str, SpeakerIdentity], list[JobWarning], list[VoiceProfile]]:
    """The sample's speaker with the most speech, added to the profile the job was submitted for."""
    person_id = state.options.enroll_person
    profile = next((p for p in profiles if p.person_id == person_id), None)
    if profile is None:
        message = f"voice profile {person_id} was deleted before this sample was enrolled: no voice was kept"
        return {}, [JobWarning(stage=STAGE, code="enrol_person_gone", message=message)], profiles
    if not voices.speakers:
        message = f"no speech with words was heard in the sample: nothing was enrolled into {profile.name}"
        return {}, [JobWarning(stage=STAGE, code="enrol_no_voice", message=message)], profiles
    ranked = sorted(voices.speakers, key=lambda v: (-v.speech_s, v.speaker))
    main = ranked[0]
    if profile.person_id in state.voice_rejections.get(main.speaker, []):
        message = f"{main.speaker} was marked as not {profile.name}: the sample was not enrolled again"
        return {}, [JobWarning(stage=STAGE, code="enrol_rejected", message=message)], profiles
    warnings = []
    if main.speech_s < MIN_SPEECH_S:
        message = (
            f"the sample has only {main.speech_s:.1f} s of speech: it was enrolled into {profile.name}, but "
            f"a voice is recognised from {MIN_SPEECH_S:.0f} s on; enrol a longer one"
        )
        warnings.append(JobWarning(stage=STAGE, code="enrol_little_speech", message=message))
    if len(ranked) > 1:
        others = ", ".join(f"{v.speaker} ({v.speech_s:.0f} s)" for v in ranked[1:])
        message = (
            f"the sample has {len(ranked)} speakers: {main.speaker} ({main.speech_s:.0f} s, the most speech) "
            f"was enrolled into {profile.name}; not enrolled: {others}"
        )
        warnings.append(JobWarning(stage=STAGE, code="enrol_several_voices", message=message))
    before = similarity(main, profile, voices.model)
    enrolled = with_sample(profile, sample_of(main, voices.model, state.job_id))
    store.put(enrolled)
    log.info("enrolled %s of job %s into voice profile %s", main.speaker, state.job_id, person_id)
    identity = SpeakerIdentity(
        person_id=profile.person_id,
        name=profile.name,
        confidence=1.0 if before is None else before,  # a first sample: the profile is this voice
        confirmed=True,
    )
    updated = [enrolled if p.person_id == person_id else p for p in profiles]
    return {main.speaker: identity}, warnings, updated


def names_after(state: JobState, found: Identification | None) -> dict[str, str]:
    """The speaker names the exports of this run carry (the state itself changes in record_identities)."""
    if found is None:
        return dict(state.speaker_names)
    copy = msgspec.structs.replace(
        state, speaker_names=dict(state.speaker_names), speaker_identities=dict(state.speaker_identities)
    )
    apply_identities(copy, found.identities)
    return copy.speaker_names


def record_identities(state: JobState, found: Identification | None) -> None:
    """Idempotent: the identities and their names in the job state, and the warnings."""
    if found is None:
        return
    apply_identities(state, found.identities)
    for warning in found.warnings:
        state.warn(warning)
