"""Voice profiles end to end: the real stack (nats-server, ffmpeg, CAM++ diarizer, whisper tiny.en).

One stack for the module and few jobs, as the diarizer is slow on shared cores:
- a voice sample of Bob (en-us+m3, the A turns of tests/fixtures/audio/en_two_voices.mp3) enrolled,
- job A, tests/fixtures/conversations/two_voices.mp3 (B: en-us+f4, A: en-us+m3): Bob recognised, and
  the f4 speaker named "Alice Martin" by a person,
- job B, three_voices.mp3 (B: en-us+f4 again, A: en-us+m7, C: fr+m2): Alice recognised.

espeak-ng voices are closer to one another than people are (measured CAM++ cosines: 0.86 to 0.98 for
one voice in two recordings, up to 0.77 between two voices), so this stack matches at 0.8, not at the
deployment default.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.main import main
from cli.stack import LocalStack
from contracts import keys
from services.ingest.auth import new_key
from tests.test_speakers_e2e import reference_turns

pytest.importorskip("faster_whisper")
pytest.importorskip("pyannote.metrics")
FIXTURES = Path(__file__).parent / "fixtures"
CONVERSATIONS = FIXTURES / "conversations"
TWO_VOICES = FIXTURES / "audio" / "en_two_voices.mp3"
THRESHOLD = "0.8"
JOB_TIMEOUT_S = 420


@dataclass
class Api:
    url: str
    artifacts: Path
    alice: str  # API keys
    mallory: str

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {key}"}, timeout=60)


@pytest.fixture(scope="module")
def api(nats_server, tmp_path_factory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("people")
    alice, alice_entry = new_key("alice")
    mallory, mallory_entry = new_key("mallory")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_INGEST_API_KEYS": f"{alice_entry},{mallory_entry}",
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_MODEL": "openai/not-used",  # every job here asks for no summary
        "AODIO_ASSEMBLE_VOICE_MATCH_THRESHOLD": THRESHOLD,
        "AODIO_INGEST_VOICE_MATCH_THRESHOLD": THRESHOLD,
    }
    with LocalStack(
        data, api_port=0, nats_url=nats_server.url, extra_env=env, replicas={"transcribe": 1}
    ) as stack:
        yield Api(stack.api_url, data / "artifacts", alice, mallory)


def voice_of_bob(dest: Path) -> Path:
    """The en-us+m3 turns of en_two_voices.mp3 back to back: a recording of one voice."""
    truth = json.loads(TWO_VOICES.with_suffix(".json").read_text())
    spans = "+".join(f"between(t,{s['start']},{s['end']})" for s in truth["segments"] if s["speaker"] == "A")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(TWO_VOICES),
         "-af", f"aselect='{spans}',asetpts=N/SR/TB", "-ac", "1", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


def submit(client: httpx.Client, path: Path, url: str = "/v1/jobs") -> str:
    with path.open("rb") as handle:
        files = {"file": (path.name, handle)}
        reply = client.post(url, files=files, data={"options": json.dumps({"summary_method": "none"})})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


def finished(client: httpx.Client, job_id: str, generation: int = 1) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] != "failed", job["error"]
        if job["generation"] == generation and job["status"] == "completed":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


def label_of(client: httpx.Client, job_id: str, rttm: Path, who: str) -> str:
    """The transcript label most of the words spoken by `who` (an RTTM speaker) carry."""
    labelled = client.get(f"/v1/jobs/{job_id}/transcript", params={"format": "json"}).json()
    names = client.get(f"/v1/jobs/{job_id}").json()["speaker_names"]
    label_of_name = {name: label for label, name in names.items()}
    turns = [(start, end) for start, end, speaker in reference_turns(rttm) if speaker == who]
    votes: Counter[str] = Counter()
    for segment in labelled["segments"]:
        for word in segment["words"]:
            middle = (word["start"] + word["end"]) / 2
            if any(start <= middle <= end for start, end in turns):
                votes[label_of_name.get(word["speaker"], word["speaker"])] += 1
    return votes.most_common(1)[0][0]


def person(client: httpx.Client, person_id: str) -> dict[str, Any]:
    reply = client.get(f"/v1/people/{person_id}")
    assert reply.status_code == 200, reply.text
    return reply.json()


@dataclass
class Enrolled:
    bob: str  # person id
    sample_job: str


@pytest.fixture(scope="module")
def bob(api: Api, tmp_path_factory) -> Enrolled:
    sample = voice_of_bob(tmp_path_factory.mktemp("sample") / "bob.wav")
    with api.client(api.alice) as client:
        created = client.post("/v1/people", json={"name": "Bob Stone"})
        assert created.status_code == 201, created.text
        bob_id = created.json()["person_id"]
        job_id = submit(client, sample, f"/v1/people/{bob_id}/samples")
        finished(client, job_id)
    return Enrolled(bob_id, job_id)


@pytest.fixture(scope="module")
def job_a(api: Api, bob: Enrolled) -> str:
    with api.client(api.alice) as client:
        job_id = submit(client, CONVERSATIONS / "two_voices.mp3")
        finished(client, job_id)
    return job_id


@dataclass
class Named:
    alice: str  # person id
    label: str  # her label in job A


@pytest.fixture(scope="module")
def alice(api: Api, job_a: str) -> Named:
    with api.client(api.alice) as client:
        label = label_of(client, job_a, CONVERSATIONS / "two_voices.rttm", "B")
        reply = client.put(f"/v1/jobs/{job_a}/speakers/{label}/person", json={"name": "Alice Martin"})
        assert reply.status_code == 200, reply.text
    return Named(reply.json()["person"]["person_id"], label)


@pytest.fixture(scope="module")
def job_b(api: Api, alice: Named) -> str:
    with api.client(api.alice) as client:
        job_id = submit(client, CONVERSATIONS / "three_voices.mp3")
        finished(client, job_id)
    return job_id


def test_a_voice_sample_enrols_its_speaker(api: Api, bob: Enrolled) -> None:
    with api.client(api.alice) as client:
        profile = person(client, bob.bob)
        job = client.get(f"/v1/jobs/{bob.sample_job}").json()
    assert profile["samples"] == 1 and profile["speech_s"] > 5
    assert profile["sources"][0]["job_id"] == bob.sample_job
    label = profile["sources"][0]["speaker"]
    assert job["options"]["enroll_person"] == bob.bob and job["options"]["summary_method"] == "none"
    identity = job["speaker_identities"][label]
    assert (
        identity["confirmed"]
        and identity["name"] == "Bob Stone"
        and job["speaker_names"][label] == "Bob Stone"
    )


def test_a_later_recording_is_named_by_voice(api: Api, bob: Enrolled, job_a: str) -> None:
    with api.client(api.alice) as client:
        state = client.get(f"/v1/jobs/{job_a}").json()
        m3 = label_of(client, job_a, CONVERSATIONS / "two_voices.rttm", "A")
        vtt = client.get(f"/v1/jobs/{job_a}/outputs/transcript_vtt").text
    identity = state["speaker_identities"][m3]
    assert identity["person_id"] == bob.bob and not identity["confirmed"]
    assert identity["confidence"] >= float(THRESHOLD)
    assert list(state["speaker_identities"]) == [m3]  # the other voice is nobody known yet
    assert "<v Bob Stone>" in vtt and "<v SPEAKER_" in vtt


def test_naming_a_speaker_enrols_them_and_rewrites_the_exports(api: Api, job_a: str, alice: Named) -> None:
    path = f"/v1/jobs/{job_a}/speakers/{alice.label}/person"
    with api.client(api.alice) as client:
        state = client.get(f"/v1/jobs/{job_a}").json()
        srt = client.get(f"/v1/jobs/{job_a}/outputs/transcript_srt").text
        again = client.put(path, json={"name": "alice  martin"})  # the same person, by name
        profile = person(client, alice.alice)
    assert state["speaker_names"][alice.label] == "Alice Martin"
    assert state["speaker_identities"][alice.label] == {
        "person_id": alice.alice, "name": "Alice Martin", "confidence": 1.0, "confirmed": True
    }  # fmt: skip
    assert "Alice Martin: " in srt
    assert again.status_code == 200 and again.json()["person"]["person_id"] == alice.alice
    assert again.json()["identity"]["confidence"] > 0.99  # her own voice, compared with itself
    assert [(s["job_id"], s["speaker"]) for s in profile["sources"]] == [(job_a, alice.label)]  # once


def test_the_named_voice_is_recognised_in_another_recording(api: Api, alice: Named, job_b: str) -> None:
    with api.client(api.alice) as client:
        state = client.get(f"/v1/jobs/{job_b}").json()
        f4 = label_of(client, job_b, CONVERSATIONS / "three_voices.rttm", "B")
        txt = client.get(f"/v1/jobs/{job_b}/outputs/transcript_txt").text
    identity = state["speaker_identities"][f4]
    assert identity["person_id"] == alice.alice and not identity["confirmed"]
    assert identity["confidence"] >= float(THRESHOLD)
    assert {i["name"] for i in state["speaker_identities"].values()} == {"Alice Martin"}  # Bob is not here
    assert "Alice Martin: " in txt


def test_a_wrong_match_is_corrected_in_one_action(api: Api, bob: Enrolled, job_a: str, alice: Named) -> None:
    with api.client(api.alice) as client:
        m3 = label_of(client, job_a, CONVERSATIONS / "two_voices.rttm", "A")
        path = f"/v1/jobs/{job_a}/speakers/{m3}/person"
        carol = client.put(path, json={"name": "Carol Stone"}).json()  # "that was not Bob: it is Carol"
        assert carol["speaker_names"][m3] == "Carol Stone" and carol["person"]["samples"] == 1
        assert person(client, bob.bob)["samples"] == 1  # a voice match gave Bob nothing to take back
        moved = client.put(path, json={"person_id": bob.bob}).json()  # "no, it was Bob after all"
        assert moved["identity"]["confirmed"] and moved["speaker_names"][m3] == "Bob Stone"
        assert person(client, carol["person"]["person_id"])["samples"] == 0
        assert [s["job_id"] for s in person(client, bob.bob)["sources"]] == [bob.sample_job, job_a]
        refused = client.delete(path, params={"person_id": bob.bob})  # "not Bob either"
        assert refused.status_code == 200, refused.text
        assert m3 not in refused.json()["speaker_names"] and m3 not in refused.json()["speaker_identities"]
        assert [s["job_id"] for s in person(client, bob.bob)["sources"]] == [bob.sample_job]
        # a replay from summarize identifies again in ingest: Bob stays refused, Alice stays
        replay = client.post(f"/v1/jobs/{job_a}/replay", json={"from": "summarize"})
        assert replay.status_code == 202, replay.text
        state = finished(client, job_a, replay.json()["generation"])
        srt = client.get(f"/v1/jobs/{job_a}/outputs/transcript_srt").text
        assert client.delete(f"/v1/people/{carol['person']['person_id']}").status_code == 204
    assert state["voice_rejections"] == {m3: [bob.bob]} and m3 not in state["speaker_names"]
    assert state["speaker_names"] == {alice.label: "Alice Martin"}
    assert f"{m3}: " in srt and "Bob Stone" not in srt


def test_people_belong_to_the_key_that_made_them(api: Api, job_a: str, alice: Named) -> None:
    with api.client(api.mallory) as other, api.client(api.alice) as owner:
        assert other.get("/v1/people").json() == {"people": []}
        for method, path in (
            ("GET", f"/v1/people/{alice.alice}"),
            ("PATCH", f"/v1/people/{alice.alice}"),
            ("DELETE", f"/v1/people/{alice.alice}"),
            ("PUT", f"/v1/jobs/{job_a}/speakers/{alice.label}/person"),
            ("DELETE", f"/v1/jobs/{job_a}/speakers/{alice.label}/person"),
        ):
            body = {"name": "Mallory"} if method == "PATCH" else {"person_id": alice.alice}
            answer = other.request(method, path, json=body if method in ("PATCH", "PUT") else None)
            assert answer.status_code == 404, (method, path, answer.text)
        assert (
            other.post(f"/v1/people/{alice.alice}/samples", files={"file": ("x.wav", b"RIFF")}).status_code
            == 404
        )
        theirs = other.post("/v1/people", json={"name": "Mallory"}).json()["person_id"]
        mine = owner.put(f"/v1/jobs/{job_a}/speakers/{alice.label}/person", json={"person_id": theirs})
        assert mine.status_code == 404 and "unknown person" in mine.json()["detail"]
        assert person(owner, alice.alice)["name"] == "Alice Martin"


def test_people_are_listed_renamed_merged_and_refused_with_reasons(
    api: Api, job_a: str, job_b: str, alice: Named, capsys
) -> None:
    with api.client(api.alice) as client:
        other = label_of(client, job_a, CONVERSATIONS / "two_voices.rttm", "A")
        twice = client.put(f"/v1/jobs/{job_a}/speakers/{other}/person", json={"person_id": alice.alice})
        assert twice.status_code == 409 and "one label per person" in twice.json()["detail"]
        assert client.post("/v1/people", json={"name": "alice martin"}).status_code == 409
        assert client.post("/v1/people", json={"name": "  "}).status_code == 422
        assert client.post("/v1/people", json={}).status_code == 422
        dana = client.post("/v1/people", json={"name": "Dana"}).json()["person_id"]
        dee = client.post("/v1/people", json={"name": "Dee"}).json()["person_id"]
        assert client.patch(f"/v1/people/{dana}", json={"name": "Dana Scott"}).json()["name"] == "Dana Scott"
        assert client.patch(f"/v1/people/{dana}", json={"name": "Alice Martin"}).status_code == 409
        fr = label_of(client, job_b, CONVERSATIONS / "three_voices.rttm", "C")
        path = f"/v1/jobs/{job_b}/speakers/{fr}/person"
        assert client.put(path, json={"person_id": dee, "name": "Dee"}).status_code == 422
        assert client.put(path, json={"person_id": "pdeadbeefdeadbeef"}).status_code == 404
        assert (
            client.put(f"/v1/jobs/{job_b}/speakers/SPEAKER_9/person", json={"name": "X"}).status_code == 404
        )
        assert client.put(path, json={"person_id": dee}).json()["person"]["samples"] == 1
        assert client.post(f"/v1/people/{dana}/merge", json={"from": dana}).status_code == 422
        merged = client.post(f"/v1/people/{dana}/merge", json={"from": dee}).json()
        assert [(s["job_id"], s["speaker"]) for s in merged["sources"]] == [(job_b, fr)]
        assert client.get(f"/v1/people/{dee}").status_code == 404
        # "not them" on an identity whose profile was merged away: the profile holding the voice now
        refused = client.delete(path).json()
        assert refused["person"]["person_id"] == dana and refused["person"]["samples"] == 0
        assert fr not in refused["speaker_identities"] and fr not in refused["speaker_names"]
        assert client.put(path, json={"person_id": dana}).json()["person"]["samples"] == 1  # and back
        listing = {p["name"]: p for p in client.get("/v1/people").json()["people"]}
        assert listing["Dana Scott"]["samples"] == 1 and listing["Dana Scott"]["speech_s"] > 0
        # a job with no transcript (yet): nothing to enrol from
        fresh = submit(client, TWO_VOICES)
        early = client.put(f"/v1/jobs/{fresh}/speakers/SPEAKER_1/person", json={"person_id": dana})
        assert early.status_code == 409 and "no transcript yet" in early.json()["detail"]
        assert client.delete(f"/v1/jobs/{fresh}").status_code == 204
    remote = ["--api", api.url, "--api-key", api.alice]
    assert main(["people", "list", "--json", *remote]) == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)]
    assert "Dana Scott" in names and "Alice Martin" in names
    assert main(["people", "rename", dana, "Dana Scully", *remote]) == 0
    assert "Dana Scully" in capsys.readouterr().out
    assert main(["people", "not", job_b, fr, dana, *remote]) == 0
    assert f"{fr} of job {job_b} is not Dana Scully" in capsys.readouterr().out
    assert main(["people", "is", job_b, fr, dana, *remote]) == 0
    assert f"{fr} of job {job_b} is Dana Scully (voice similarity" in capsys.readouterr().out
    assert main(["people", "enroll", dana, str(TWO_VOICES), *remote]) == 0
    enrolling = capsys.readouterr().out.strip()
    with api.client(api.alice) as client:
        assert client.get(f"/v1/jobs/{enrolling}").json()["options"]["enroll_person"] == dana
        assert client.delete(f"/v1/jobs/{enrolling}").status_code == 204  # not needed: spare the cores
    assert main(["people", "delete", dana, "--yes", *remote]) == 0
    assert main(["people", "is", job_b, fr, *remote]) == 2  # neither an id nor --name
    assert main(["people", "rename", dana, "Nobody", *remote]) == 1  # deleted: 404


def test_a_sample_for_a_person_deleted_meanwhile_says_so(api: Api, tmp_path: Path) -> None:
    sample = voice_of_bob(tmp_path / "bob.wav")
    with api.client(api.alice) as client:
        gone = client.post("/v1/people", json={"name": "Temporary"}).json()["person_id"]
        job_id = submit(client, sample, f"/v1/people/{gone}/samples")
        assert client.delete(f"/v1/people/{gone}").status_code == 204
        job = finished(client, job_id)
        assert client.get(f"/v1/people/{gone}").status_code == 404  # not made again by the enrolment
    warnings = {w["code"]: w["message"] for w in job["warnings"]}
    assert "was deleted before this sample was enrolled" in warnings["enrol_person_gone"]


def test_deleting_a_person_forgets_their_voice(api: Api, alice: Named, job_b: str) -> None:
    """Last: Alice is gone afterwards."""
    stored = api.artifacts / keys.voice_profile_key("alice", alice.alice)
    assert stored.is_file()
    with api.client(api.alice) as client:
        assert client.delete(f"/v1/people/{alice.alice}").status_code == 204
        assert not stored.exists() and client.get(f"/v1/people/{alice.alice}").status_code == 404
        replay = client.post(f"/v1/jobs/{job_b}/replay", json={"from": "assemble"})
        assert replay.status_code == 202, replay.text
        state = finished(client, job_b, replay.json()["generation"])
        vtt = client.get(f"/v1/jobs/{job_b}/outputs/transcript_vtt").text
    assert "Alice Martin" not in json.dumps(state["speaker_identities"]) and "Alice Martin" not in vtt
    assert "Alice Martin" not in state["speaker_names"].values()
