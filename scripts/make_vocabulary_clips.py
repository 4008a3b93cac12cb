"""Generate sentences with rare names, products and jargon, for the vocabulary test and bench.

espeak-ng says each sentence from a spelling that sounds like the name ("Comfy U I"); the reference
is the sentence as it should be written ("ComfyUI"), and `terms` are the names in it. Whisper does
not know most of them, so it writes what it hears ("come for you") unless it is given the
vocabulary: that is what tests/test_vocabulary.py and bench/vocabulary.py measure.

    .venv/bin/python scripts/make_vocabulary_clips.py [--force]       # the committed test clip
    .venv/bin/python scripts/make_vocabulary_clips.py --all --out DIR # every sentence (the bench)

Deterministic: the same espeak-ng and ffmpeg versions give the same bytes.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from make_fixtures import ESPEAK_RATE, speak, write_wav  # the same synthesis as the other fixtures

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "audio"


@dataclass(frozen=True)
class Sentence:
    name: str
    voice: str  # espeak-ng voice
    language: str
    spoken: str  # what espeak-ng is given: the names spelled as they sound
    text: str  # the reference: the names spelled right
    terms: tuple[str, ...]  # the names in `text`, as a glossary would hold them


SENTENCES = [
    Sentence(
        "comfyui", "en-us", "en",
        "We moved the whole image pipeline to Comfy U I last week.",
        "We moved the whole image pipeline to ComfyUI last week.", ("ComfyUI",),
    ),
    Sentence(
        "nguyen", "en-gb", "en",
        "Please send the signed contract to Win Tee Hwa before Friday.",
        "Please send the signed contract to Nguyen Thi Hoa before Friday.", ("Nguyen Thi Hoa",),
    ),
    Sentence(
        "zbigniew", "en-us", "en",
        "Zbig nyef will deploy the new cluster on Kubernetes tomorrow.",
        "Zbigniew will deploy the new cluster on Kubernetes tomorrow.", ("Zbigniew", "Kubernetes"),
    ),
    Sentence(
        "aodio", "en-us", "en",
        "The Oh dee oh transcripts are ready for review.",
        "The Aodio transcripts are ready for review.", ("Aodio",),
    ),
    Sentence(
        "siobhan", "en-gb", "en",
        "Shiv awn and Seer sha reviewed the Terraform module.",
        "Siobhan and Saoirse reviewed the Terraform module.", ("Siobhan", "Saoirse", "Terraform"),
    ),
    Sentence(
        "postgresql", "en-us", "en",
        "Our Postgres Q L replica in Reykjavik is lagging again.",
        "Our PostgreSQL replica in Reykjavik is lagging again.", ("PostgreSQL", "Reykjavik"),
    ),
    Sentence(
        "wojciech", "en-us", "en",
        "Voy chek asked whether Tail scale works with Graf ana.",
        "Wojciech asked whether Tailscale works with Grafana.", ("Wojciech", "Tailscale", "Grafana"),
    ),
    Sentence(
        "anthropic", "en-us", "en",
        "The Anthropic team met Oksana Voy chik in Vrots wahf.",
        "The Anthropic team met Oksana Wójcik in Wrocław.", ("Anthropic", "Oksana Wójcik", "Wrocław"),
    ),
    Sentence(
        "niamh", "en-gb", "en",
        "Ask Neeve to rerun the benchmark on the Jetson board.",
        "Ask Niamh to rerun the benchmark on the Jetson board.", ("Niamh", "Jetson"),
    ),
    Sentence(
        "langchain", "en-us", "en",
        "Chim mah mahn dah will present the Lang chain demo on Monday.",
        "Chimamanda will present the LangChain demo on Monday.", ("Chimamanda", "LangChain"),
    ),
    Sentence(
        "pytorch", "en-gb", "en",
        "The Hugging Face token expired, so Pie torch could not download the weights.",
        "The Hugging Face token expired, so PyTorch could not download the weights.",
        ("Hugging Face", "PyTorch"),
    ),
    Sentence(
        "xiaoming", "en-us", "en",
        "Shyao ming from Sea mens approved the budget.",
        "Xiaoming from Siemens approved the budget.", ("Xiaoming", "Siemens"),
    ),
    Sentence(
        "fr-kubernetes", "fr", "fr",
        "Nous avons présenté Kubernetes à Zbig niève mardi dernier.",
        "Nous avons présenté Kubernetes à Zbigniew mardi dernier.", ("Kubernetes", "Zbigniew"),
    ),
    Sentence(
        "fr-aodio", "fr", "fr",
        "Le compte rendu sera envoyé par Oh dio à Nouyène Ti Hoa.",
        "Le compte rendu sera envoyé par Aodio à Nguyen Thi Hoa.", ("Aodio", "Nguyen Thi Hoa"),
    ),
    Sentence(
        "fr-comfyui", "fr", "fr",
        "Nous utilisons Comfi iou aille pour générer les images.",
        "Nous utilisons ComfyUI pour générer les images.", ("ComfyUI",),
    ),
    Sentence(
        "fr-siobhan", "fr", "fr",
        "Chivonne a validé le module Terraform hier soir.",
        "Siobhan a validé le module Terraform hier soir.", ("Siobhan", "Terraform"),
    ),
]  # fmt: skip

# In the glossary but never said: what a vocabulary must not put where it was not spoken.
UNSAID = ("Kafka", "Ollama", "Mistral", "Jira", "Ségolène", "Dagster")


def glossary() -> list[str]:
    """Every term of the sentences, then the unsaid ones: a deployment's glossary."""
    terms = [t for s in SENTENCES for t in s.terms] + list(UNSAID)
    return list(dict.fromkeys(terms))


# The committed test clip: two sentences tiny.en and base write wrong without the vocabulary.
TEST_CLIP = "en_vocabulary.wav"
TEST_SENTENCES = ("comfyui", "zbigniew")


def render(sentences: list[Sentence], path: Path, pause_s: float = 0.8) -> dict[str, object]:
    """The sentences one after the other, as a WAV at `path`; returns its ground truth."""
    silence = np.zeros(int(pause_s * ESPEAK_RATE), np.int16)
    parts = [silence]
    for sentence in sentences:
        parts += [speak(sentence.voice, sentence.spoken), silence]
    pcm = np.concatenate(parts)
    write_wav(path, pcm)
    truth = {
        "audio": path.name,
        "language": sentences[0].language,
        "duration_s": round(pcm.size / ESPEAK_RATE, 3),
        "text": " ".join(s.text for s in sentences),
        "terms": [t for s in sentences for t in s.terms],
        "sentences": [asdict(s) for s in sentences],
    }
    path.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--force", action="store_true", help="regenerate the test clip")
    parser.add_argument("--all", action="store_true", help="one WAV per sentence (for the bench)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.all:
        for sentence in SENTENCES:
            render([sentence], args.out / f"{sentence.name}.wav")
        (args.out / "glossary.json").write_text(json.dumps(glossary(), ensure_ascii=False) + "\n")
        print(f"{len(SENTENCES)} sentences in {args.out}")
        return 0
    target = args.out / TEST_CLIP
    if target.exists() and not args.force:
        print(f"{target} exists (use --force to regenerate)")
        return 0
    render([s for s in SENTENCES if s.name in TEST_SENTENCES], target)
    print(f"{target.stat().st_size:>9}  {target.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
