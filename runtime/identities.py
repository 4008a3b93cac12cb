"""Who each speaker of a job is: voice matches and confirmations, as edits of the job state.

Assemble runs this before it renders the exports, and ingest on a replay from summarize, so that every
run of a job sees the profiles as they are now. Names and identities are told apart like this:

- a hand-given name is a speaker_names entry with no identity, or one whose name differs from its
  identity's (renamed by hand after a match): it always wins, and its label is never matched;
- a voice match (confirmed False) carries its name into speaker_names; the next run drops it and
  matches again, so a profile enrolled, renamed or deleted since is seen; a label with less than
  MIN_SPEECH_S of speech is never matched;
- a confirmed identity (a person said so, or the job enrolled a sample) is kept while a profile holds
  that job and label's sample, under that profile's id and name (so a merge or rename follows);
  when no profile holds it any more (deleted), the identity goes and its name stays, as a hand-given one.
"""

from __future__ import annotations

from collections.abc import Sequence

from msgspec.structs import replace

from contracts.artifacts import SpeakerVoices, VoiceProfile
from contracts.state import JobState, SpeakerIdentity
from runtime.voices import MIN_SPEECH_S, holders, identify


def from_voice(state: JobState, label: str) -> bool:
    """Whether the label's name is its identity's (so it goes when the identity goes)."""
    identity = state.speaker_identities.get(label)
    return identity is not None and state.speaker_names.get(label) == identity.name


def identities_now(
    state: JobState,
    voices: SpeakerVoices,
    profiles: Sequence[VoiceProfile],
    threshold: float,
    confirmed: dict[str, SpeakerIdentity] | None = None,
) -> dict[str, SpeakerIdentity]:
    """The job's identities against today's profiles; `confirmed` adds ones made in this run (enrolment).

    `voices` are under the transcript's labels (runtime.voices.relabelled).
    """
    kept = {} if confirmed is None else dict(confirmed)
    for label, identity in state.speaker_identities.items():
        if not identity.confirmed or label in kept or not from_voice(state, label):
            continue  # voice matches are made again below; a hand rename ended the identity
        holder = next(iter(holders(profiles, state.job_id, label)), None)
        if holder is not None:
            kept[label] = replace(identity, person_id=holder.person_id, name=holder.name)
    by_hand = {
        label: name
        for label, name in state.speaker_names.items()
        if label not in kept and not from_voice(state, label)
    }
    names_used = {*by_hand.values(), *(i.name for i in kept.values())}
    people_used = {i.person_id for i in kept.values()}
    open_voices = [
        v
        for v in voices.speakers
        if v.speaker not in kept and v.speaker not in by_hand and v.speech_s >= MIN_SPEECH_S
    ]
    candidates = [p for p in profiles if p.person_id not in people_used and p.name not in names_used]
    rejected = {(label, person) for label, people in state.voice_rejections.items() for person in people}
    matched = identify(replace(voices, speakers=open_voices), candidates, threshold, rejected)
    return kept | matched


def apply_identities(state: JobState, identities: dict[str, SpeakerIdentity]) -> None:
    """Idempotent: the job's identities become `identities`, their names with them; hand names stay.

    A confirmed identity that is gone keeps its name (a person gave it); a voice match's name goes.
    """
    for label, old in state.speaker_identities.items():
        if from_voice(state, label) and (not old.confirmed or label in identities):
            del state.speaker_names[label]
    state.speaker_identities = dict(identities)
    for label, identity in identities.items():
        state.speaker_names.setdefault(label, identity.name)
