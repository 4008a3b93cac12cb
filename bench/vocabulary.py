"""A job's vocabulary through the transcribe engine: each way of giving it to faster-whisper, scored.

    python -m bench.vocabulary [--models base tiny.en] [--modes off hotwords prompt both]
                               [--sequential] [--root ../shared/realspeech] [--save bench/out]

For each model and mode (off: no vocabulary; hotwords, prompt, both: AODIO_TRANSCRIBE_VOCABULARY_MODE)
every recording is one chunk through services/transcribe/engine.transcribe_chunk, the stage's own
settings and guards, in the language it is spoken in; the vocabulary is the whole glossary of
scripts/make_vocabulary_clips.py (its names, and six more never said), as a deployment would have:

- names: the generated sentences with rare names (espeak-ng, scripts/make_vocabulary_clips.py) and
  ../shared/realspeech/en-misc/hotwords.mp3 ("ComfyUI"): recall of the terms, spelled exactly
  (case and accents), and WER against the sentences as written;
- elsewhere: WER where nothing of the vocabulary is said (the committed generated clips, the human
  transcripts of sppas-fr), agreement with a large model's output where only that exists (a guide,
  not a reference: kept apart), and vocabulary terms written where none was said;
- no speech: ../shared/realspeech/no-speech and reversed speech (generated with ffmpeg): words and
  vocabulary terms written where nobody spoke;
- what the echo guard did (guards.vocabulary_echo): segments decoded again or dropped.

../shared/realspeech is read at run time and never copied; what is missing is skipped, saying so.
The JSON (figures only, no transcript of ../shared) goes to --save (bench/out) with a table beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ctranslate2

from bench.realspeech import DEFAULT_ROOT, spoken_words
from bench.word_errors import edit_counts
from services.transcribe.config import TranscribeSettings
from services.transcribe.engine import EngineConfig, LoadedModel, ModelCache, decode_audio, transcribe_chunk
from services.transcribe.vocabulary import VocabularyMode, decoder_hint

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "audio"
CLIPS_SCRIPT = REPO / "scripts" / "make_vocabulary_clips.py"
MODES: tuple[VocabularyMode, ...] = ("off", "hotwords", "prompt", "both")
_TOKEN = re.compile(r"\w+")
SEED = 20261203


@dataclass(frozen=True)
class Clip:
    group: str  # names, elsewhere, no_speech
    name: str
    path: Path
    language: str | None  # None: nobody speaks
    reference: str | None = None  # what was said, as it is written
    guide: str | None = None  # a large model's output: not a reference
    terms: tuple[str, ...] = ()  # vocabulary terms said
    shared: bool = False  # from ../shared/realspeech: figures only in the JSON


def exact_tokens(text: str) -> list[str]:
    """Words as written: case and accents kept, punctuation gone ("ComfyUI," -> "ComfyUI")."""
    return _TOKEN.findall(text)


def occurrences(tokens: list[str], term: str) -> int:
    """How often the term's words appear in a row in `tokens`, spelled exactly."""
    words = exact_tokens(term)
    return sum(tokens[i : i + len(words)] == words for i in range(len(tokens) - len(words) + 1))


def folded(tokens: list[str]) -> list[str]:
    return [t.casefold() for t in tokens]


def unsaid_terms(text: str, glossary: list[str], said: str) -> int:
    """Glossary terms written (in any case) more often than the reference or guide says them."""
    heard, known = folded(exact_tokens(text)), folded(exact_tokens(said))
    return sum(max(0, occurrences(heard, t.casefold()) - occurrences(known, t.casefold())) for t in glossary)


def generated_clips(out: Path) -> list[Clip]:
    """The sentences of scripts/make_vocabulary_clips.py, made once into `out` (needs espeak-ng)."""
    if not (out / "glossary.json").exists():
        try:
            subprocess.run([sys.executable, str(CLIPS_SCRIPT), "--all", "--out", str(out)], check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"skipping the generated sentences: {exc} (espeak-ng: scripts/system-deps.sh --speech)")
            return []
    clips = []
    for truth_path in sorted(out.glob("*.json")):
        if truth_path.name == "glossary.json":
            continue
        truth = json.loads(truth_path.read_text())
        clips.append(
            Clip("names", truth_path.stem, truth_path.with_suffix(".wav"), truth["language"],
                 truth["text"], None, tuple(truth["terms"]))
        )  # fmt: skip
    return clips


def committed_clips() -> list[Clip]:
    """The committed generated clips: speech where no vocabulary term is said."""
    clips = []
    for name in ("en_two_voices.mp3", "en_short.wav", "fr_one_voice.mp3"):
        truth = json.loads((FIXTURES / name).with_suffix(".json").read_text())
        clips.append(Clip("elsewhere", name, FIXTURES / name, truth["language"], truth["text"]))
    return clips


def shared_clips(root: Path) -> list[Clip]:
    """The recordings of ../shared/realspeech this bench uses; none when the folder is absent."""
    if not root.is_dir():
        print(f"skipping ../shared/realspeech: {root} is absent")
        return []
    clips = []
    hotwords = root / "en-misc" / "hotwords.mp3"
    if hotwords.exists():
        # said twice: every decode hears two ("comfy eye ... comfy eye" without the vocabulary)
        clips.append(Clip("names", "hotwords.mp3", hotwords, "en", terms=("ComfyUI",) * 2, shared=True))
    for path in sorted((root / "sppas-fr").glob("*.wav")):
        text = path.with_suffix(".txt")
        if text.exists():
            reference = text.read_text().strip()
            clips.append(Clip("elsewhere", path.name, path, "fr", reference, shared=True))
    for folder, name, language in (
        ("en-misc", "gloria.mp3", "en"),
        ("fr-misc", "radio_short.mp3", "fr"),
        ("fr-misc", "smartphone.mp3", "fr"),
    ):
        path = root / folder / name
        guide = path.parent / f"{name}.model-output.txt"
        if path.exists() and guide.exists():
            clips.append(
                Clip("elsewhere", name, path, language, guide=guide.read_text().strip(), shared=True)
            )
    for path in sorted((root / "no-speech").glob("*")):
        if path.suffix in (".wav", ".mp3"):
            clips.append(Clip("no_speech", path.name, path, None, shared=True))
    return clips


def reversed_speech(out: Path) -> list[Clip]:
    """The committed two-voice clip played backwards: speech-like sound, no word in it."""
    target = out / "reversed_two_voices.wav"
    if not target.exists():
        source = FIXTURES / "en_two_voices.mp3"
        quiet = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
        subprocess.run(
            [*quiet, "-i", str(source), "-af", "areverse", "-ar", "16000", str(target)], check=True
        )
    return [Clip("no_speech", target.name, target, None)]


def run_clip(
    model: LoadedModel, clip: Clip, audio: Any, mode: VocabularyMode, glossary: list[str], settings: Any
) -> dict[str, Any]:
    """One clip through the engine in one mode, scored."""
    tokenizer = model.whisper.hf_tokenizer
    hint = decoder_hint(
        glossary,
        mode,
        lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids),
        settings.vocabulary_tokens,
    )
    # The temperature fallback samples: the same seed for every clip and mode, so modes differ only by
    # the vocabulary (without it two runs of one mode differ by a few words on the hard clips).
    ctranslate2.set_random_seed(SEED)
    started = time.perf_counter()
    result = transcribe_chunk(
        model,
        audio,
        language=clip.language or "en",
        beam_size=settings.beam_size,
        batch_size=settings.batch_size,
        vad_threshold=settings.vad_threshold,
        quiet_vad_threshold=settings.quiet_vad_threshold,
        hint=hint,
    )
    text = " ".join(s["text"] for s in result.segments)
    tokens = exact_tokens(text)
    row: dict[str, Any] = {
        "group": clip.group,
        "clip": clip.name,
        "mode": mode,
        "seconds": round(time.perf_counter() - started, 2),
        "words": len(spoken_words(text)),
        "echoes": [(e.action, e.detail) for e in result.guards.events if e.reason == "vocabulary"],
        "terms_given": len(hint.terms) if hint else 0,
    }
    if clip.terms:
        expected = {t: clip.terms.count(t) for t in clip.terms}
        row["terms_said"] = sum(expected.values())
        row["terms_found"] = sum(min(n, occurrences(tokens, t)) for t, n in expected.items())
    said = clip.reference or clip.guide or " ".join(clip.terms)
    row["unsaid_terms"] = unsaid_terms(text, glossary, said)
    if clip.reference is not None:
        row["counts"] = edit_counts(spoken_words(clip.reference), spoken_words(text))._asdict()
    if clip.guide is not None:
        row["guide_counts"] = edit_counts(spoken_words(clip.guide), spoken_words(text))._asdict()
    if not clip.shared:
        row["text"] = text
    return row


def pooled(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per model and mode: term recall, WER pooled by group, words where nobody spoke."""

    def wer(key: str, group: str) -> float | None:
        counted = [r[key] for r in rows if r["group"] == group and key in r]
        reference = sum(c["reference"] for c in counted)
        errors = sum(c["substitutions"] + c["deletions"] + c["insertions"] for c in counted)
        return round(errors / reference, 3) if reference else None

    said = sum(r.get("terms_said", 0) for r in rows)
    return {
        "term_recall": round(sum(r.get("terms_found", 0) for r in rows) / said, 3) if said else None,
        "terms_said": said,
        "names_wer": wer("counts", "names"),
        "elsewhere_wer": wer("counts", "elsewhere"),
        "elsewhere_guide_wer": wer("guide_counts", "elsewhere"),
        "unsaid_terms": sum(r["unsaid_terms"] for r in rows if r["group"] != "no_speech"),
        "no_speech_words": sum(r["words"] for r in rows if r["group"] == "no_speech"),
        "no_speech_terms": sum(r["unsaid_terms"] for r in rows if r["group"] == "no_speech"),
        "echoes_redecoded": sum(a == "redecoded" for r in rows for a, _ in r["echoes"]),
        "echoes_dropped": sum(a == "dropped" for r in rows for a, _ in r["echoes"]),
        "seconds": round(sum(r["seconds"] for r in rows), 1),
    }


def table(results: dict[str, dict[str, Any]]) -> str:
    head = (
        "| model | mode | term recall | WER names | WER elsewhere | vs large model | unsaid terms "
        "| no-speech words (terms) | echoes redecoded/dropped | s |\n" + "|---" * 10 + "|\n"
    )
    lines = []
    for key, p in results.items():
        model, mode = key.split("/")
        lines.append(
            f"| {model} | {mode} | {p['term_recall']} ({p['terms_said']} said) | {p['names_wer']} "
            f"| {p['elsewhere_wer']} | {p['elsewhere_guide_wer']} | {p['unsaid_terms']} "
            f"| {p['no_speech_words']} ({p['no_speech_terms']}) "
            f"| {p['echoes_redecoded']}/{p['echoes_dropped']} "
            f"| {p['seconds']} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["base"])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--sequential", action="store_true", help="faster-whisper's sequential path")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="../shared/realspeech")
    parser.add_argument("--save", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args(argv)
    settings = TranscribeSettings(batched=not args.sequential)
    models = ModelCache(
        EngineConfig(settings.device, settings.compute_type, settings.cpu_threads, settings.model_cache_dir,
                     settings.batched)
    )  # fmt: skip
    made = args.save / "vocabulary-clips"
    made.mkdir(parents=True, exist_ok=True)
    generated = generated_clips(made)
    glossary_file = made / "glossary.json"
    if not glossary_file.exists():
        print("no glossary: the generated sentences could not be made")
        return 0
    glossary = json.loads(glossary_file.read_text())
    clips = generated + committed_clips() + shared_clips(args.root) + reversed_speech(made)
    audio = {clip.name: decode_audio(clip.path) for clip in clips}
    rows: list[dict[str, Any]] = []
    results: dict[str, dict[str, Any]] = {}
    for name in args.models:
        model = models.get(name)
        usable = [c for c in clips if model.whisper.model.is_multilingual or c.language in ("en", None)]
        for mode in args.modes:
            batch = [run_clip(model, c, audio[c.name], mode, glossary, settings) for c in usable]
            for row in batch:
                row["model"] = name
            rows += batch
            results[f"{name}/{mode}"] = pooled(batch)
            print(f"{name} {mode}: {json.dumps(results[f'{name}/{mode}'])}", flush=True)
    path = "sequential" if args.sequential else "batched"
    report = {
        "command": " ".join(["python -m bench.vocabulary", *(argv if argv is not None else sys.argv[1:])]),
        "path": path,
        "settings": {"beam_size": settings.beam_size, "batch_size": settings.batch_size,
                     "vocabulary_tokens": settings.vocabulary_tokens},
        "glossary": glossary,
        "pooled": results,
        "clips": rows,
    }  # fmt: skip
    stamp = time.strftime("%Y-%m-%d")
    target = args.save / f"{stamp}-vocabulary-{path}-{'-'.join(args.models)}.json"
    target.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    rendered = table(results)
    target.with_suffix(".md").write_text(f"# Vocabulary ({path})\n\n{rendered}")
    print(rendered)
    print(f"wrote {target} and {target.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
