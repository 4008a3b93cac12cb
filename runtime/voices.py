"""Voice profiles matched against a job's speakers: cosine similarity on plain lists of floats.

A profile's voice is the speech-weighted mean of its samples' vectors, normalised; only samples made
by the job's embedding model are compared (vectors of two models live in different spaces). Pure
Python on purpose: ingest re-identifies a job on a replay from summarize, and its image has no numpy.
A 192-float dot product per (label, person) pair costs microseconds.

identify() assigns one person per label and one label per person: every pair at or above the
threshold, best similarity first (greedy). With a handful of speakers and people this is what an
optimal assignment gives unless two close pairs cross, and it never gives a label a person that a
closer label holds.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Collection, Iterable, Sequence

from msgspec.structs import replace

from contracts.artifacts import SpeakerVoice, SpeakerVoices, VoiceProfile, VoiceSample
from contracts.state import SpeakerIdentity

__all__ = [
    "MATCH_THRESHOLD",
    "MIN_SPEECH_S",
    "cosine",
    "holders",
    "identify",
    "new_person_id",
    "normalised",
    "profile_voice",
    "relabelled",
    "sample_of",
    "similarity",
    "with_sample",
    "without_sample",
]

# The one default of the match threshold (AssembleSettings and IngestSettings read it from here):
# a label is a person only when its voice's cosine similarity to the person's is at least this.
# Measured on real speech (bench/identify.py, the AMI clips, enrolment from one clip and identification
# in every other): the lowest threshold whose precision over every scenario is at least 0.9. Espeak
# voices are far closer to one another (up to 0.77 between two voices): tests set their own threshold.
MATCH_THRESHOLD = 0.55
# A label with less speech than this is never matched by voice: a vector of a few words is mostly noise
# (bench/identify.py leaves such labels out the same way). A person may still confirm it by hand.
MIN_SPEECH_S = 3.0

Vector = Sequence[float]


def normalised(vector: Iterable[float]) -> list[float]:
    """The vector scaled to length 1 (a zero vector stays zero)."""
    values = [float(x) for x in vector]
    norm = math.sqrt(sum(x * x for x in values))
    return [x / norm for x in values] if norm > 0 else values


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two vectors of one length; 0.0 when either is zero or they differ in length."""
    if len(a) != len(b) or not a:
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms > 0 else 0.0


def profile_voice(profile: VoiceProfile, model: str) -> list[float] | None:
    """The profile's voice for one embedding model: its samples' vectors weighted by speech; None if none."""
    samples = [s for s in profile.samples if s.model == model and s.vector]
    if not samples:
        return None
    size = len(samples[0].vector)
    total = [0.0] * size
    for sample in samples:
        if len(sample.vector) != size:
            continue  # not comparable: a damaged sample never poisons the mean
        weight = max(sample.speech_s, 1e-3)
        unit = normalised(sample.vector)
        total = [t + weight * x for t, x in zip(total, unit, strict=True)]
    return normalised(total)


def similarity(voice: SpeakerVoice, profile: VoiceProfile, model: str) -> float | None:
    """Cosine similarity of one label's voice to a profile's; None when the profile has no sample of model."""
    mean = profile_voice(profile, model)
    return None if mean is None else round(cosine(voice.vector, mean), 4)


def identify(
    voices: SpeakerVoices,
    profiles: Sequence[VoiceProfile],
    threshold: float,
    excluded: Collection[tuple[str, str]] = (),
) -> dict[str, SpeakerIdentity]:
    """Label -> the person whose voice it is (confidence: the similarity), one to one, at >= threshold.

    `excluded` holds (label, person_id) pairs a person said are not the same (they never match).
    """
    means = [(p, profile_voice(p, voices.model)) for p in profiles]
    pairs: list[tuple[float, str, str, VoiceProfile]] = []
    for voice in voices.speakers:
        for profile, mean in means:
            if mean is None or (voice.speaker, profile.person_id) in excluded:
                continue
            score = cosine(voice.vector, mean)
            if score >= threshold:
                pairs.append((score, voice.speaker, profile.person_id, profile))
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))  # best first; ties in a fixed order
    found: dict[str, SpeakerIdentity] = {}
    taken: set[str] = set()
    for score, label, person_id, profile in pairs:
        if label in found or person_id in taken:
            continue
        found[label] = SpeakerIdentity(person_id=person_id, name=profile.name, confidence=round(score, 4))
        taken.add(person_id)
    return found


def relabelled(voices: SpeakerVoices, speaker_map: dict[str, str]) -> SpeakerVoices:
    """The voices under the transcript's labels: diarize names SPEAKER_00..., assemble SPEAKER_1...

    speaker_map is the transcript's `diarization.speaker_map` (diarization label -> transcript label);
    a diarization label with no words has no transcript label, so it can be nobody's in this job.
    """
    speakers = [
        replace(v, speaker=speaker_map[v.speaker]) for v in voices.speakers if v.speaker in speaker_map
    ]
    return replace(voices, speakers=speakers)


def new_person_id() -> str:
    """A profile id: unguessable, in the shape of contracts.options.PersonId."""
    return "p" + secrets.token_hex(8)


def sample_of(voice: SpeakerVoice, model: str, job_id: str) -> VoiceSample:
    """One label's voice as a profile's sample, remembering the job and label it came from."""
    return VoiceSample(
        vector=list(voice.vector),
        speech_s=voice.speech_s,
        model=model,
        job_id=job_id,
        speaker=voice.speaker,
        at=time.time(),
    )


def with_sample(profile: VoiceProfile, sample: VoiceSample) -> VoiceProfile:
    """The profile with the sample added; one of the same job and label is replaced (idempotent)."""
    kept = [s for s in profile.samples if (s.job_id, s.speaker) != (sample.job_id, sample.speaker)]
    return replace(profile, samples=[*kept, sample], updated_at=time.time())


def without_sample(profile: VoiceProfile, job_id: str, speaker: str) -> VoiceProfile:
    """The profile without the sample of that job's label (unchanged when it has none)."""
    kept = [s for s in profile.samples if (s.job_id, s.speaker) != (job_id, speaker)]
    if len(kept) == len(profile.samples):
        return profile
    return replace(profile, samples=kept, updated_at=time.time())


def holders(profiles: Iterable[VoiceProfile], job_id: str, speaker: str) -> list[VoiceProfile]:
    """The profiles holding a sample of that job's label (a person confirmed it was them)."""
    return [p for p in profiles if any((s.job_id, s.speaker) == (job_id, speaker) for s in p.samples)]
