"""Your words: a job's vocabulary and the key's glossary, from submission to faster-whisper and the summary.

Unit tests of the merge, the decoder hint, the echo guard and the prompt text; the glossary API on
a real ingest (nats-server, directory and S3 storage); the transcribe stage with the real tiny.en on
a generated clip (scripts/make_vocabulary_clips.py) whose names it writes wrong without the
vocabulary; and one job through the real pipeline.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.main import _parser
from cli.stack import LocalStack
from contracts import keys
from contracts.artifacts import Glossary, decode_chunk_transcript
from contracts.options import JobOptions
from services.ingest.auth import new_key
from services.ingest.glossary import (
    MAX_TERMS,
    GlossaryError,
    merge_terms,
    parse_update,
    unique_terms,
    with_glossary,
)
from services.summarize.prompts import vocabulary_rule, vocabulary_terms, with_vocabulary
from services.transcribe.guards import vocabulary_echo
from services.transcribe.vocabulary import decoder_hint

AUDIO = Path(__file__).parent / "fixtures" / "audio"
CLIP = (
    AUDIO / "en_vocabulary.wav"
)  # "... to Comfy U I last week. Zbig nyef will deploy ... on Kubernetes ..."
TERMS = ["ComfyUI", "Zbigniew", "Kubernetes"]


# --- the merge at submission -----------------------------------------------------------------------


def test_the_jobs_terms_come_first_and_repeats_in_any_case_are_kept_once() -> None:
    merged = merge_terms(["ComfyUI", " Nguyen  Thi Hoa "], ["comfyui", "Kubernetes", "KUBERNETES", "  "])
    assert merged.terms == ["ComfyUI", "Nguyen Thi Hoa", "Kubernetes"] and merged.left_out == []
    assert unique_terms(["Zbigniew", "zbigniew", "Zbigniew "]) == ["Zbigniew"]


def test_a_glossary_over_the_limit_is_cut_and_the_job_says_which_terms_it_left_out() -> None:
    own = [f"job term {n}" for n in range(150)]
    glossary = Glossary(terms=[f"glossary term {n}" for n in range(80)])
    options, warnings = with_glossary(JobOptions(vocabulary=own), glossary)
    assert len(options.vocabulary) == MAX_TERMS == 200
    assert options.vocabulary[:150] == own and options.vocabulary[-1] == "glossary term 49"
    (warning,) = warnings
    assert warning.code == "vocabulary_truncated" and warning.stage == "ingest"
    assert "30 glossary term(s) left out" in warning.message and "glossary term 50" in warning.message
    unchanged, none = with_glossary(JobOptions(language="en"), Glossary())
    assert unchanged == JobOptions(language="en") and none == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"terms": ["x' + b"y" * 64 + b'"]}', "terms[0]"),
        (json.dumps({"terms": [f"t{n}" for n in range(201)]}).encode(), "length <= 200"),
        (b'{"terms": ["tab\\there"]}', "terms[0]"),
        (b'{"terms": [""]}', "length >= 1"),
        (b'{"terms": "ComfyUI"}', "Expected `array`"),
        (b'{"words": []}', "unknown field"),
    ],
)
def test_glossary_terms_are_checked_like_a_jobs_vocabulary(body: bytes, reason: str) -> None:
    with pytest.raises(GlossaryError, match="bad glossary") as refused:
        parse_update(body)
    assert reason in str(refused.value)
    assert parse_update(b'{"terms": ["ComfyUI", "comfyui", " Anthropic "]}') == ["ComfyUI", "Anthropic"]


# --- what the decoder is given ---------------------------------------------------------------------


def words(text: str) -> int:
    return len(text.split())  # a stand-in tokenizer: one token per word, for the arithmetic


def test_the_decoder_gets_the_terms_that_fit_its_budget_the_jobs_first() -> None:
    terms = ["ComfyUI", "Nguyen Thi Hoa", "Kubernetes", "Zbigniew"]
    hotwords = decoder_hint(terms, "hotwords", words, budget=5)
    assert hotwords is not None and hotwords.hotwords == "ComfyUI, Nguyen Thi Hoa, Kubernetes"
    assert hotwords.prompt is None and hotwords.left_out == ["Zbigniew"]
    assert hotwords.term_words == (("comfyui",), ("nguyen", "thi", "hoa"), ("kubernetes",))
    prompt = decoder_hint(terms, "prompt", words, budget=10)
    assert prompt is not None and prompt.hotwords is None
    assert prompt.prompt == " ComfyUI, Nguyen Thi Hoa, Kubernetes, Zbigniew."
    both = decoder_hint(terms, "both", words, budget=8)  # each slot gets half
    assert both is not None and both.hotwords == "ComfyUI, Nguyen Thi Hoa" and both.left_out
    assert both.record() == {"mode": "both", "terms": 2, "left_out": 2, "text": "ComfyUI, Nguyen Thi Hoa"}
    assert decoder_hint(terms, "off", words) is None and decoder_hint([], "hotwords", words) is None


def segment(
    text: str, probability: float, no_speech: float = 0.1, avg_logprob: float = -0.5
) -> dict[str, Any]:
    tokens = text.split()
    return {
        "start": 0.0,
        "end": 2.0,
        "text": text,
        "no_speech_prob": no_speech,
        "avg_logprob": avg_logprob,
        "words": [
            {"start": n * 0.3, "end": n * 0.3 + 0.3, "word": f" {t}", "probability": probability}
            for n, t in enumerate(tokens)
        ],
    }


def test_the_vocabulary_read_back_is_an_echo_a_term_said_clearly_is_not() -> None:
    terms = (("comfyui",), ("zbigniew",), ("nguyen", "thi", "hoa"), ("wojciech",))
    # what tiny.en and base wrote with a 20-term glossary where they could not place a name
    assert "only vocabulary terms" in vocabulary_echo(
        segment("Nguyen Thi Hoa, Zbigniew, Wojciech.", 0.07), terms
    )
    assert "a term repeated" in vocabulary_echo(
        segment("to Nguyen Wojciech, Wojciech, Wojciech, Wojciech", 0.6), terms
    )
    assert "only vocabulary" in vocabulary_echo(segment("ComfyUI.", 0.9, no_speech=0.67), terms)
    city = ", and ".join(["We are in the city of Wojciech"] * 3) + "."  # tiny.en, backwards speech
    assert "said twice over" in vocabulary_echo(segment(city, 0.8), terms)
    assert "unsure decode" in vocabulary_echo(segment("I am a Zbigniew peanut", 0.5, avg_logprob=-2.8), terms)
    assert vocabulary_echo(segment("I am a peanut", 0.5, avg_logprob=-2.8), terms) == ""  # no term: not ours
    # said, and heard surely
    assert vocabulary_echo(segment("ComfyUI.", 0.9), terms) == ""
    assert vocabulary_echo(segment("Zbigniew and Wojciech use ComfyUI", 0.3), terms) == ""
    assert vocabulary_echo(segment("Zbigniew, ComfyUI, Wojciech", 0.8), terms) == ""


# --- the summary's prompt --------------------------------------------------------------------------


def test_the_summary_prompt_ends_with_the_terms_to_spell_those_said_first() -> None:
    terms = vocabulary_terms(["Kafka", "ComfyUI", "Zbigniew"], "zbigniew moved us to comfyui")
    assert terms == ["ComfyUI", "Zbigniew", "Kafka"]
    assert vocabulary_terms([f"term{n:03d}" for n in range(200)], "", limit=40) == [
        f"term{n:03d}"
        for n in range(4)  # 34 characters with the commas; a fifth makes 43
    ]
    english = with_vocabulary("Write one JSON object.", vocabulary_rule(terms, "en"))
    assert english.startswith("Write one JSON object.\n\nThe transcript may misspell these names and terms")
    assert english.endswith("spell it exactly as here: ComfyUI, Zbigniew, Kafka.")
    assert vocabulary_rule(terms, "fr").endswith("écris-le exactement comme ici : ComfyUI, Zbigniew, Kafka.")
    assert with_vocabulary("Write one JSON object.", vocabulary_rule([], "en")) == "Write one JSON object."


def test_the_cli_reads_terms_from_the_option_and_a_file(tmp_path: Path) -> None:
    listed = tmp_path / "terms.txt"
    listed.write_text("# our products\nComfyUI\nNguyen Thi Hoa, Kafka\n\ncomfyui\n", encoding="utf-8")
    args = _parser().parse_args(
        [
            "process",
            "x.wav",
            "--out",
            "o",
            "--vocabulary",
            "Zbigniew,Anthropic",
            "--vocabulary-file",
            str(listed),
        ]
    )
    from cli.glossary import vocabulary_from

    assert vocabulary_from(args) == ["Zbigniew", "Anthropic", "ComfyUI", "Nguyen Thi Hoa", "Kafka"]


# --- the glossary API, and the merge at every way in -----------------------------------------------


@dataclass
class Api:
    url: str
    artifacts: Path
    alice: str
    bob: str

    def client(self, key: str | None) -> httpx.Client:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def api(nats_server, tmp_path_factory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("vocabulary-api")
    alice, alice_entry = new_key("alice")
    bob, bob_entry = new_key("bob")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_INGEST_API_KEYS": f"{alice_entry},{bob_entry}",
        "AODIO_EGRESS_ALLOW": "127.0.0.1/32",
    }
    with LocalStack(data, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)) as stack:
        yield Api(stack.api_url, data / "artifacts", alice, bob)


def submit(client: httpx.Client, options: dict[str, Any]) -> dict[str, Any]:
    files = {"file": ("talk.wav", (AUDIO / "en_short.wav").read_bytes())}
    reply = client.post("/v1/jobs", files=files, data={"options": json.dumps(options)})
    assert reply.status_code == 202, reply.text
    state: dict[str, Any] = client.get(f"/v1/jobs/{reply.json()['job_id']}").json()
    return state


def test_each_key_has_its_own_glossary(api: Api) -> None:
    with api.client(api.alice) as alice, api.client(api.bob) as bob:
        assert alice.get("/v1/glossary").json()["terms"] == []
        saved = alice.put("/v1/glossary", json={"terms": ["ComfyUI", " Nguyen  Thi Hoa", "COMFYUI"]})
        assert saved.status_code == 200 and saved.json()["terms"] == ["ComfyUI", "Nguyen Thi Hoa"]
        assert alice.get("/v1/glossary").json()["terms"] == ["ComfyUI", "Nguyen Thi Hoa"]
        assert bob.get("/v1/glossary").json()["terms"] == []
        assert bob.put("/v1/glossary", json={"terms": ["Kubernetes"]}).json()["terms"] == ["Kubernetes"]
        assert alice.get("/v1/glossary").json()["terms"] == ["ComfyUI", "Nguyen Thi Hoa"]
        stored = api.artifacts / keys.glossary_key("alice")
        assert json.loads(stored.read_text())["terms"] == ["ComfyUI", "Nguyen Thi Hoa"]
    with api.client(None) as anonymous:
        assert anonymous.get("/v1/glossary").status_code == 401
        assert anonymous.put("/v1/glossary", json={"terms": ["x"]}).status_code == 401


def test_bad_glossaries_are_refused_with_the_reason(api: Api) -> None:
    with api.client(api.bob) as bob:
        before = bob.get("/v1/glossary").json()["terms"]
        for body, reason in (
            ({"terms": ["x" * 65]}, "terms[0]"),
            ({"terms": [f"t{n}" for n in range(201)]}, "200"),
            ({"terms": ["line\nbreak"]}, "terms[0]"),
            ({"terms": "ComfyUI"}, "array"),
        ):
            refused = bob.put("/v1/glossary", json=body)
            assert refused.status_code == 422 and reason in refused.json()["detail"], body
        assert bob.put("/v1/glossary", json=["x"]).status_code == 422  # not an object: FastAPI says so
        assert bob.get("/v1/glossary").json()["terms"] == before


def test_a_job_runs_with_its_own_terms_then_the_glossary(api: Api, tmp_path: Path) -> None:
    with api.client(api.alice) as alice:
        alice.put("/v1/glossary", json={"terms": ["Kubernetes", "comfyui", "Zbigniew"]})
        state = submit(alice, {"vocabulary": ["ComfyUI", "Anthropic"], "language": "en"})
        assert state["options"]["vocabulary"] == ["ComfyUI", "Anthropic", "Kubernetes", "Zbigniew"]
        assert state["warnings"] == []
        plain = submit(alice, {})
        assert plain["options"]["vocabulary"] == ["Kubernetes", "comfyui", "Zbigniew"]
        bad = alice.post(
            "/v1/jobs",
            files={"file": ("t.wav", b"RIFF")},
            data={"options": json.dumps({"vocabulary": ["x" * 65]})},
        )
        assert bad.status_code == 422 and "vocabulary" in bad.json()["detail"]
        # over the limit: the job's own terms stay, the glossary's last go, and the job says so
        alice.put("/v1/glossary", json={"terms": [f"glossary {n}" for n in range(120)]})
        full = submit(alice, {"vocabulary": [f"job {n}" for n in range(100)]})
        assert len(full["options"]["vocabulary"]) == 200 and full["options"]["vocabulary"][99] == "job 99"
        (warning,) = full["warnings"]
        assert warning["code"] == "vocabulary_truncated" and "20 glossary term(s)" in warning["message"]
        alice.put("/v1/glossary", json={"terms": []})
    with api.client(api.bob) as bob:  # bob's jobs get bob's glossary
        assert submit(bob, {})["options"]["vocabulary"] == ["Kubernetes"]


def test_a_recording_from_a_url_gets_the_glossary_too(api: Api, tmp_path: Path) -> None:
    import http.server
    import threading

    (tmp_path / "talk.wav").write_bytes((AUDIO / "en_short.wav").read_bytes())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with api.client(api.bob) as bob:
            url = f"http://127.0.0.1:{server.server_address[1]}/talk.wav"
            reply = bob.post("/v1/jobs/from-url", json={"url": url, "options": {"vocabulary": ["Siobhan"]}})
            assert reply.status_code == 202, reply.text
            state = bob.get(f"/v1/jobs/{reply.json()['job_id']}").json()
    finally:
        server.shutdown()
        server.server_close()
    assert state["options"]["vocabulary"] == ["Siobhan", "Kubernetes"]


def test_the_glossary_commands_edit_the_keys_glossary(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    remote = ["--api", api.url, "--api-key", api.alice]
    assert main(["glossary", "set", "ComfyUI", "Nguyen Thi Hoa,Kubernetes", *remote]) == 0
    assert main(["glossary", "add", "kubernetes", "Zbigniew", *remote]) == 0
    assert main(["glossary", "remove", "COMFYUI", "Kafka", *remote]) == 0
    assert "not in the glossary: kafka" in capsys.readouterr().err
    assert main(["glossary", "show", *remote]) == 0
    assert capsys.readouterr().out.splitlines() == ["Nguyen Thi Hoa", "Kubernetes", "Zbigniew"]
    assert main(["glossary", "add", "x" * 65, *remote]) == 2  # refused before it is sent
    assert main(["glossary", "set", *remote]) == 0
    with api.client(api.alice) as alice:
        assert alice.get("/v1/glossary").json()["terms"] == []


def test_a_presigned_upload_gets_the_glossary_when_it_starts(nats_server, s3_server, tmp_path: Path) -> None:
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_STORAGE_BACKEND": "s3",
        "AODIO_STORAGE_S3_ENDPOINT": s3_server.endpoint,
        "AODIO_STORAGE_S3_BUCKET": f"aodio-test-{uuid.uuid4().hex[:8]}",
        "AODIO_STORAGE_S3_ACCESS_KEY": s3_server.access_key,
        "AODIO_STORAGE_S3_SECRET_KEY": s3_server.secret_key,
    }
    with (
        LocalStack(
            tmp_path, api_port=0, nats_url=nats_server.url, extra_env=env, stages=("ingest",)
        ) as stack,
        httpx.Client(base_url=stack.api_url, timeout=60) as client,
    ):
        assert client.put("/v1/glossary", json={"terms": ["Grafana", "Tailscale"]}).status_code == 200
        assert client.get("/v1/glossary").json()["terms"] == ["Grafana", "Tailscale"]  # kept in S3
        body = {
            "filename": "long.wav",
            "size_bytes": 10,
            "options": {"vocabulary": ["tailscale", "Wojciech"]},
        }
        plan = client.post("/v1/uploads", json=body)
        assert plan.status_code == 201, plan.text
        state = client.get(f"/v1/jobs/{plan.json()['job_id']}").json()
    assert state["status"] == "uploading"
    assert state["options"]["vocabulary"] == ["tailscale", "Wojciech", "Grafana"]


# --- faster-whisper, for real ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=[True, False], ids=["batched", "sequential"])
def tiny_stage(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Any:
    pytest.importorskip("faster_whisper", reason="transcribe extra not installed")
    from services.transcribe.config import TranscribeSettings
    from services.transcribe.handler import TranscribeHandler
    from tests.test_transcribe import Stage, to_flac

    root = tmp_path_factory.mktemp("vocabulary-transcribe")
    settings = TranscribeSettings(model="tiny.en", model_cache_dir=root / "models", batched=request.param)
    handler = TranscribeHandler(settings)
    backwards = root / "backwards.flac"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(CLIP), "-af", "areverse",
         "-ac", "1", "-ar", "16000", str(backwards)],
        check=True,
    )  # fmt: skip
    return Stage(handler, root), to_flac(CLIP, root / "clip.flac"), backwards


def text_of(document: dict[str, Any]) -> str:
    return " ".join(s["text"] for s in document["segments"])


async def test_the_names_are_written_right_only_with_the_vocabulary(tiny_stage: Any) -> None:
    stage, flac, _ = tiny_stage
    plain, _ = await stage.run(flac)
    heard = text_of(plain)
    assert "week" in heard and "tomorrow" in heard  # the sentences are there...
    assert not {"zbigniew", "kubernetes", "comfyui"} & set(heard.casefold().replace(".", " ").split())
    assert plain["vocabulary"] is None
    given, _ = await stage.run(flac, vocabulary=TERMS)
    heard = text_of(given)
    assert "Zbigniew" in heard and "Kubernetes" in heard and "comfyui" in heard.casefold()
    # the chunk's transcript says how the model was given the words
    record = decode_chunk_transcript(json.dumps(given))
    assert record.vocabulary is not None and record.model == "tiny.en"
    assert record.vocabulary.mode == stage.handler.settings.vocabulary_mode
    assert record.vocabulary.terms == 3 and "Zbigniew" in record.vocabulary.text


async def test_vocabulary_in_noise_writes_no_term(tiny_stage: Any) -> None:
    """Speech-like sound with no word in it (the clip played backwards): no term is heard in it.

    Without the echo guard tiny.en writes "we are in the city of Wojciech" three times over, or a
    sampled fallback names Zbigniew in it; the fallback samples, so three seeds of it are tried.
    """
    import ctranslate2

    stage, _, backwards = tiny_stage
    vocabulary = [*TERMS, "Nguyen Thi Hoa", "Wojciech", "Anthropic"]
    for seed in (1, 2, 3):
        ctranslate2.set_random_seed(seed)
        document, _ = await stage.run(backwards, vocabulary=vocabulary)
        heard = text_of(document).casefold()
        assert not [
            t for t in ("zbigniew", "kubernetes", "comfyui", "nguyen", "wojciech", "anthropic") if t in heard
        ]


def test_one_job_through_the_pipeline_spells_the_glossarys_names(nats_server, tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    env = {
        "AODIO_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "AODIO_TRANSCRIBE_MODEL": "tiny.en",
        "AODIO_SUMMARIZE_METHOD": "extractive",
    }
    stages = ("ingest", "transcode", "transcribe", "assemble", "summarize")
    with (
        LocalStack(
            tmp_path / "stack", api_port=0, nats_url=nats_server.url, extra_env=env, stages=stages
        ) as stack,
        httpx.Client(base_url=stack.api_url, timeout=30) as client,
    ):
        assert client.put("/v1/glossary", json={"terms": ["Zbigniew", "Kubernetes"]}).status_code == 200
        with CLIP.open("rb") as handle:
            data = {"options": json.dumps({"vocabulary": ["ComfyUI"]})}
            reply = client.post("/v1/jobs", files={"file": (CLIP.name, handle)}, data=data)
        assert reply.status_code == 202, reply.text
        job_id = reply.json()["job_id"]
        deadline = time.monotonic() + 300
        while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] != "completed":
            assert job["status"] != "failed", job["error"]
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        transcript = client.get(f"/v1/jobs/{job_id}/transcript", params={"format": "txt"}).text
        summary = client.get(f"/v1/jobs/{job_id}/summary").json()
    assert job["options"]["vocabulary"] == ["ComfyUI", "Zbigniew", "Kubernetes"]
    assert "Zbigniew" in transcript and "Kubernetes" in transcript
    chunk = decode_chunk_transcript(
        (tmp_path / "stack" / "artifacts" / keys.chunk_transcript_key(job_id, 0)).read_bytes()
    )
    assert chunk.vocabulary is not None and chunk.vocabulary.terms == 3
    assert summary["method"] == "extractive"
