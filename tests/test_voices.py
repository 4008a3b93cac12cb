"""Voice profiles without models: matching (runtime/voices.py), job identities (runtime/identities.py),
and the profile store on real storage (a directory and SeaweedFS S3)."""

from __future__ import annotations

import math

import pytest

from contracts import keys
from contracts.artifacts import SpeakerVoice, SpeakerVoices, VoiceProfile, VoiceSample
from contracts.state import JobState, SpeakerIdentity
from runtime.identities import apply_identities, identities_now
from runtime.profiles import ProfileNotFound, ProfileStore
from runtime.voices import (
    cosine,
    holders,
    identify,
    profile_voice,
    relabelled,
    sample_of,
    with_sample,
    without_sample,
)

MODEL = "campplus_cn_en_common.pt"
DIM = 192


def direction(*weights: float) -> list[float]:
    """A 192-dim vector whose first components are `weights` (the rest 0): angles are easy to reason on."""
    return [*weights, *([0.0] * (DIM - len(weights)))]


def at_angle(similarity: float, axis: int = 0, towards: int = 1) -> list[float]:
    """A unit vector whose cosine with the `axis` unit vector is exactly `similarity`."""
    vector = [0.0] * DIM
    vector[axis], vector[towards] = similarity, math.sqrt(1 - similarity**2)
    return vector


def voices(*pairs: tuple[str, list[float]], model: str = MODEL) -> SpeakerVoices:
    return SpeakerVoices(
        model=model, speakers=[SpeakerVoice(speaker=s, speech_s=30.0, vector=v) for s, v in pairs]
    )


def person(person_id: str, name: str, *vectors: list[float], model: str = MODEL) -> VoiceProfile:
    samples = [
        VoiceSample(vector=v, speech_s=20.0, model=model, job_id=f"job-{person_id}-{i}", speaker="SPEAKER_1")
        for i, v in enumerate(vectors)
    ]
    return VoiceProfile(person_id=person_id, name=name, samples=samples)


def test_cosine_and_the_speech_weighted_voice_of_a_profile():
    assert cosine(direction(1), direction(0, 1)) == 0.0
    assert cosine(direction(3, 4), direction(6, 8)) == pytest.approx(1.0)
    assert cosine(direction(1), [1.0, 0.0]) == 0.0  # of different lengths: not comparable
    long = VoiceSample(vector=direction(1), speech_s=90.0, model=MODEL)
    short = VoiceSample(vector=direction(0, 1), speech_s=10.0, model=MODEL)
    voice = profile_voice(VoiceProfile(person_id="palice001", name="Alice", samples=[long, short]), MODEL)
    assert voice is not None and math.isclose(math.hypot(*voice[:2]), 1.0)
    assert voice[0] / voice[1] == pytest.approx(9.0)  # 90 s of speech weigh nine times 10 s


def test_a_speaker_is_the_closest_person_at_or_above_the_threshold():
    alice, bob = person("palice001", "Alice", direction(1)), person("pbob00001", "Bob", direction(0, 0, 1))
    found = identify(voices(("SPEAKER_1", at_angle(0.8)), ("SPEAKER_2", at_angle(0.3, 2))), [alice, bob], 0.5)
    assert found == {"SPEAKER_1": SpeakerIdentity(person_id="palice001", name="Alice", confidence=0.8)}
    assert identify(voices(("SPEAKER_1", at_angle(0.5))), [alice], 0.5)["SPEAKER_1"].confidence == 0.5
    assert identify(voices(("SPEAKER_1", at_angle(0.49))), [alice], 0.5) == {}


def test_one_person_per_label_and_one_label_per_person():
    alice = person("palice001", "Alice", direction(1))
    # both labels resemble Alice: only the closer one is her; the other stays unnamed
    found = identify(voices(("SPEAKER_1", at_angle(0.7)), ("SPEAKER_2", at_angle(0.9, 0, 2))), [alice], 0.5)
    assert list(found) == ["SPEAKER_2"]
    # one label close to two people: the closer person; the other is free for another label
    bob = person("pbob00001", "Bob", at_angle(0.8))
    found = identify(voices(("SPEAKER_1", direction(1)), ("SPEAKER_2", at_angle(0.75))), [alice, bob], 0.5)
    assert {label: i.name for label, i in found.items()} == {"SPEAKER_1": "Alice", "SPEAKER_2": "Bob"}


def test_only_samples_of_the_jobs_embedding_model_compare():
    other_model = person("palice001", "Alice", direction(1), model="wespeaker-resnet34")
    assert identify(voices(("SPEAKER_1", direction(1))), [other_model], 0.5) == {}
    mixed = with_sample(other_model, VoiceSample(vector=direction(0, 1), speech_s=5.0, model=MODEL))
    assert profile_voice(mixed, MODEL) == pytest.approx(direction(0, 1))
    assert identify(voices(("SPEAKER_1", direction(1)), ("SPEAKER_2", direction(0, 1))), [mixed], 0.5) == {
        "SPEAKER_2": SpeakerIdentity(person_id="palice001", name="Alice", confidence=1.0)
    }


def test_a_refused_pair_never_matches_and_labels_follow_the_transcript():
    alice = person("palice001", "Alice", direction(1))
    assert identify(voices(("SPEAKER_1", direction(1))), [alice], 0.5, {("SPEAKER_1", "palice001")}) == {}
    diarized = voices(("SPEAKER_00", direction(1)), ("SPEAKER_01", direction(0, 1)))
    # assemble numbers speakers by their first word; a label with no words is nobody in the transcript
    assert [v.speaker for v in relabelled(diarized, {"SPEAKER_01": "SPEAKER_1"}).speakers] == ["SPEAKER_1"]


def test_samples_are_kept_once_per_job_and_label():
    voice = SpeakerVoice(speaker="SPEAKER_2", speech_s=12.5, vector=direction(1))
    alice = with_sample(person("palice001", "Alice"), sample_of(voice, MODEL, "job-a"))
    again = with_sample(alice, sample_of(voice, MODEL, "job-a"))
    assert len(again.samples) == 1 and again.samples[0].job_id == "job-a"
    assert holders([again], "job-a", "SPEAKER_2") == [again] and holders([again], "job-b", "SPEAKER_2") == []
    assert without_sample(again, "job-a", "SPEAKER_2").samples == []


def job(**fields) -> JobState:
    return JobState(job_id="20260101-000000-aaaaaaaa", **fields)


def test_a_voice_match_names_the_speaker_and_goes_when_the_profile_does():
    alice = person("palice001", "Alice", direction(1))
    state = job()
    heard = voices(("SPEAKER_1", direction(1)), ("SPEAKER_2", direction(0, 1)))
    apply_identities(state, identities_now(state, heard, [alice], 0.5))
    assert (
        state.speaker_names == {"SPEAKER_1": "Alice"} and not state.speaker_identities["SPEAKER_1"].confirmed
    )
    apply_identities(state, identities_now(state, heard, [], 0.5))  # Alice deleted since
    assert state.speaker_names == {} and state.speaker_identities == {}


def test_a_speaker_with_a_few_words_is_not_matched():
    alice = person("palice001", "Alice", direction(1))
    few = SpeakerVoices(
        model=MODEL, speakers=[SpeakerVoice(speaker="SPEAKER_1", speech_s=1.5, vector=direction(1))]
    )
    state = job()
    assert identities_now(state, few, [alice], 0.5) == {}
    assert identify(few, [alice], 0.5) != {}  # identify itself leaves the choice to its caller


def test_hand_given_names_win_over_voice_matches():
    alice = person("palice001", "Alice", direction(1))
    heard = voices(("SPEAKER_1", direction(1)))
    named = job(speaker_names={"SPEAKER_1": "Chair"})
    apply_identities(named, identities_now(named, heard, [alice], 0.5))
    assert named.speaker_names == {"SPEAKER_1": "Chair"} and named.speaker_identities == {}
    # a name a person gave another label is not given twice by a voice
    taken = job(speaker_names={"SPEAKER_2": "Alice"})
    apply_identities(taken, identities_now(taken, heard, [alice], 0.5))
    assert taken.speaker_names == {"SPEAKER_2": "Alice"}
    # renamed by hand after a match: the hand name stays, the match is not made again
    renamed = job(
        speaker_names={"SPEAKER_1": "Alicia"},
        speaker_identities={
            "SPEAKER_1": SpeakerIdentity(person_id="palice001", name="Alice", confidence=0.9)
        },
    )
    apply_identities(renamed, identities_now(renamed, heard, [alice], 0.5))
    assert renamed.speaker_names == {"SPEAKER_1": "Alicia"} and renamed.speaker_identities == {}


def test_a_confirmed_speaker_follows_the_profile_holding_its_sample():
    voice = SpeakerVoice(speaker="SPEAKER_1", speech_s=30.0, vector=direction(1))
    state = job(
        speaker_names={"SPEAKER_1": "Alice"},
        speaker_identities={
            "SPEAKER_1": SpeakerIdentity(person_id="palice001", name="Alice", confidence=1.0, confirmed=True)
        },
    )
    merged = with_sample(person("pmerged01", "Alice Martin"), sample_of(voice, MODEL, state.job_id))
    heard = voices(("SPEAKER_1", direction(1)))
    apply_identities(state, identities_now(state, heard, [merged], 0.5))
    assert state.speaker_names == {"SPEAKER_1": "Alice Martin"}
    assert state.speaker_identities["SPEAKER_1"].person_id == "pmerged01"
    apply_identities(state, identities_now(state, heard, [], 0.5))  # the profile was deleted
    assert state.speaker_identities == {} and state.speaker_names == {"SPEAKER_1": "Alice Martin"}


@pytest.mark.parametrize("backend", ["dir_storage", "s3_storage"])
def test_profiles_are_one_object_each_and_other_owners_never_see_them(backend, request):
    storage = request.getfixturevalue(backend)
    alice, mallory = ProfileStore(storage, "alice"), ProfileStore(storage, "mallory")
    bob = alice.create("Bob")
    carol = alice.create("carol")
    alice.put(with_sample(bob, VoiceSample(vector=direction(1), speech_s=3.0, model=MODEL, job_id="job-a")))
    assert [p.name for p in alice.list()] == ["Bob", "carol"] and alice.get(bob.person_id).samples
    assert mallory.list() == [] and mallory.find(bob.person_id) is None
    assert alice.find("../../jobs") is None
    assert alice.delete(bob.person_id) and not storage.exists(keys.voice_profile_key("alice", bob.person_id))
    assert not alice.delete(bob.person_id)
    with pytest.raises(ProfileNotFound):
        alice.get(bob.person_id)
    assert [p.person_id for p in alice.list()] == [carol.person_id]
