"""Generated meetings whose scripts know every decision and action item spoken, for bench/summary_eval.py.

A MeetingSpec (language, length, participants and their espeak voices, how many decisions and action
items, seed) is written into a script by a seeded generator: status updates, figures, questions and
opinions on a few agenda topics, hard negatives that cue words confuse with decisions and actions
(proposals not adopted, questions left open, tasks already done, "final" and "I will" in other senses,
conditional wishes), and the real items, stated in varied forms and spread over the whole meeting.
What is said comes from a phrase bank: "main" (bench/meeting_words.py), which the summarizer's cues
were tuned on, or "heldout" (bench/meeting_words_heldout.py), other phrasings nobody tuned it to;
SETS names the meetings of each.
`plan(spec)` is the ground truth with times estimated from word counts (no audio, no espeak);
`synthesize(spec)` speaks the same script with espeak-ng into bench/audio/meetings/<name>.mp3 and
writes the truth with sample-accurate times beside it, again only when the script or voices change.

    python -m bench.meetings [--set main|heldout] [--only en_standup_5 ...] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

from bench import generate_long, meeting_words_heldout
from bench.meeting_words import ENGLISH, FRENCH, Phrases
from contracts.artifacts import Segment, Transcript, Word

Language = Literal["en", "fr"]
Bank = Literal["main", "heldout"]
_T = TypeVar("_T")
AUDIO_DIR = Path("bench/audio/meetings")
SYNTH_VERSION = 1  # bump when the way a script becomes audio changes (the script itself is hashed)


@dataclass(frozen=True)
class MeetingSpec:
    """What one generated meeting is: who speaks (name, espeak voice), for how long, deciding what."""

    name: str
    language: Language
    minutes: float
    participants: tuple[tuple[str, str], ...]
    n_decisions: int
    n_actions: int
    seed: int
    phrases: Bank = "main"


def _people(language: Language, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(zip(names, generate_long.VOICES[language], strict=False))


_EN, _FR = ("David", "Maria", "Helen", "Tom"), ("Julien", "Claire", "Marc", "Sophie")
MEETINGS: dict[str, MeetingSpec] = {
    spec.name: spec
    for spec in (
        MeetingSpec("en_standup_5", "en", 5, _people("en", _EN[:2]), 2, 3, 11),
        MeetingSpec("en_review_15", "en", 15, _people("en", _EN[:3]), 0, 0, 12),
        MeetingSpec("en_planning_30", "en", 30, _people("en", _EN), 5, 8, 13),
        MeetingSpec("en_allhands_60", "en", 60, _people("en", _EN[:3]), 8, 12, 14),
        MeetingSpec("fr_point_5", "fr", 5, _people("fr", _FR[:2]), 2, 3, 21),
        MeetingSpec("fr_bilan_12", "fr", 12, _people("fr", _FR[:3]), 0, 0, 22),
        MeetingSpec("fr_comite_30", "fr", 30, _people("fr", _FR[:3]), 4, 6, 23),
    )
}
_EN_HELDOUT, _FR_HELDOUT = ("Oliver", "Nadia", "Grace"), ("Thomas", "Élodie", "Karim")
HELDOUT: dict[str, MeetingSpec] = {
    spec.name: spec
    for spec in (
        MeetingSpec("en_heldout_20", "en", 20, _people("en", _EN_HELDOUT), 4, 6, 31, "heldout"),
        MeetingSpec("fr_heldout_20", "fr", 20, _people("fr", _FR_HELDOUT), 3, 5, 32, "heldout"),
        MeetingSpec("en_heldout_none_10", "en", 10, _people("en", _EN_HELDOUT[:2]), 0, 0, 41, "heldout"),
        MeetingSpec("fr_heldout_none_8", "fr", 8, _people("fr", _FR_HELDOUT[:2]), 0, 0, 42, "heldout"),
    )
}
SETS: dict[str, dict[str, MeetingSpec]] = {"main": MEETINGS, "heldout": HELDOUT}
PHRASES: dict[str, Phrases] = {"en": ENGLISH, "fr": FRENCH}
BANKS: dict[Bank, dict[str, Phrases]] = {
    "main": PHRASES,
    "heldout": {"en": meeting_words_heldout.ENGLISH, "fr": meeting_words_heldout.FRENCH},
}


@dataclass(frozen=True)
class Line:
    """One sentence of the script: who says it and the pause before it."""

    speaker: str
    text: str
    gap_s: float


class _Writer:
    """Writes one meeting's script line by line, keeping an estimate of the clock."""

    def __init__(self, spec: MeetingSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.words: Phrases = BANKS[spec.phrases][spec.language]
        self.names = {f"S{i + 1}": name for i, (name, _) in enumerate(spec.participants)}
        self.ids = {name: speaker for speaker, name in self.names.items()}
        self.lines: list[Line] = []
        self.items: list[dict[str, Any]] = []
        self.clock_s = 0.0
        decisions = self.rng.sample(self.words.decisions, len(self.words.decisions))
        tasks = self.rng.sample(self.words.tasks, len(self.words.tasks))
        self.decisions, self.spare_decisions = decisions[: spec.n_decisions], decisions[spec.n_decisions :]
        self.tasks, self.spare_tasks = tasks[: spec.n_actions], tasks[spec.n_actions :]
        self.topics = self.rng.sample(self.words.topics, len(self.words.topics))
        self.topic = self.topics[0]
        self.blocks_on_topic = 0
        self.decks: dict[tuple[Any, ...], list[Any]] = {}

    def say(self, speaker: str, text: str) -> int:
        """Append one sentence; returns its index."""
        same = bool(self.lines) and self.lines[-1].speaker == speaker
        gap = self.rng.uniform(0.3, 0.7) if same else self.rng.uniform(0.5, 1.5)
        if not self.lines:
            gap = 1.0
        text = self.words.fix(text)
        self.lines.append(Line(speaker, text[0].upper() + text[1:], round(gap, 2)))
        self.clock_s += gap + estimate_s(text, self.words.words_per_s)
        return len(self.lines) - 1

    def pair(self) -> tuple[str, str]:
        """Two different speakers, the first more often the chair (S1)."""
        ids = list(self.names)
        first = ids[0] if self.rng.random() < 0.35 else self.rng.choice(ids)
        return first, self.rng.choice([s for s in ids if s != first])

    def pick(self, pool: tuple[_T, ...]) -> _T:
        """The pool's next template from a shuffled deck, so each is used before any repeats.

        Templates naming a third person ({P}) are left out of two-person meetings.
        """
        deck = self.decks.setdefault(pool, [])
        if not deck:
            deck += [t for t in pool if len(self.names) > 2 or "{P}" not in repr(t)]
            self.rng.shuffle(deck)
        return deck.pop()

    def exchange(self, lines: tuple[str, ...], slots: dict[str, str], a: str, b: str) -> list[int]:
        """Say a template's lines ("A:...", "B:..." or "P:..."; "!" instead of ":" marks an item line)."""
        marked = []
        for line in lines:
            speaker = self.role(line[0], slots, a, b)
            index = self.say(speaker, line[2:].format(**slots))
            if line[1] == "!":
                marked.append(index)
        return marked

    def role(self, role: str, slots: dict[str, str], a: str, b: str) -> str:
        """The speaker a template's "A", "B" or "P" (the third person its {P} names) stands for."""
        return {"A": a, "B": b}.get(role) or self.ids[slots["P"]]

    def slots(self, a: str, b: str) -> dict[str, str]:
        others = [s for s in self.names if s not in (a, b)] or [b]
        topic = self.topic
        return {
            "A": self.names[a],
            "B": self.names[b],
            "P": self.names[self.rng.choice(others)],
            "t": topic,
            "T": topic[0].upper() + topic[1:],
            "n": self.rng.choice(self.words.numbers),
            "why": self.rng.choice(self.words.reasons),
            "how": self.rng.choice(self.words.progress),
            "heard": self.rng.choice(self.words.feedback),
            "d": self.rng.choice(self.spare_decisions).clause,
            "a": self.rng.choice(self.spare_tasks).clause,
            "done": self.rng.choice(self.spare_tasks).done,
        }

    def filler(self, negatives: float) -> None:
        """One exchange of status talk, or a hard negative with probability `negatives`."""
        if self.blocks_on_topic >= self.rng.randint(3, 6):
            self.topic = self.topics[(self.topics.index(self.topic) + 1) % len(self.topics)]
            self.blocks_on_topic = 0
            a, b = self.pair()
            self.exchange((self.rng.choice(self.words.transitions),), self.slots(a, b), a, b)
        self.blocks_on_topic += 1
        pool = self.words.negatives if self.rng.random() < negatives else self.words.status
        a, b = self.pair()
        self.exchange(self.pick(pool), self.slots(a, b), a, b)

    def decision(self, index: int) -> None:
        core = self.decisions[index]
        a, b = self.pair()
        slots = {**self.slots(a, b), "d": core.clause}
        marked = self.exchange(self.pick(self.words.decided), slots, a, b)
        text = core.clause[0].upper() + core.clause[1:] + "."
        self._item("decision", text, core.keys, marked)

    def action(self, index: int) -> None:
        core = self.tasks[index]
        a, b = self.pair()
        owner_role, lines = self.pick(self.words.assigned)
        due = self.rng.choice(self.words.dues) if self.rng.random() < 0.7 else None
        team_spoken, team = self.rng.choice(self.words.teams)
        slots = {**self.slots(a, b), "a": core.clause, "due": f" {due}" if due else "", "team": team_spoken}
        marked = self.exchange(lines, slots, a, b)
        speaker = None if owner_role == "team" else self.role(owner_role, slots, a, b)
        owner = self.names[speaker] if speaker else team
        spoken_owner = owner if speaker else team_spoken
        text = self.words.fix(self.words.canonical_action.format(owner=spoken_owner, a=core.clause))
        text = text[0].upper() + text[1:-1] + (f" {due}." if due else ".")
        self._item("action", text, core.keys, marked, owner=owner, owner_speaker=speaker, due=due)

    def _item(
        self, kind: str, text: str, keys: tuple[str, ...], marked: list[int], **owned: str | None
    ) -> None:
        who = {"owner": None, "owner_speaker": None, "due": None, **owned}
        span = [marked[0], marked[-1]]
        self.items.append({"kind": kind, "text": text, "keys": list(keys), **who, "sentence_span": span})

    def write(self) -> tuple[list[Line], list[dict[str, Any]]]:
        """The whole script: opening, talk with the items at times spread over it, closing."""
        target_s = self.spec.minutes * 60
        kinds = ["decision"] * self.spec.n_decisions + ["action"] * self.spec.n_actions
        self.rng.shuffle(kinds)
        due_at = [(i + self.rng.uniform(0.3, 0.7)) / len(kinds) * (target_s - 40) for i in range(len(kinds))]
        negatives = 0.25 if kinds else 0.4
        a, b = self.pair()
        self.exchange(self.pick(self.words.openings), self.slots(a, b), a, b)
        done = {"decision": 0, "action": 0}
        while self.clock_s < target_s - 12 or len(self.items) < len(kinds):
            n = len(self.items)
            if n < len(kinds) and self.clock_s >= due_at[n]:
                kind = kinds[n]
                (self.decision if kind == "decision" else self.action)(done[kind])
                done[kind] += 1
            else:
                self.filler(negatives)
        a, b = self.pair()
        self.exchange(self.rng.choice(self.words.closings), self.slots(a, b), a, b)
        return self.lines, self.items


def estimate_s(text: str, words_per_s: float) -> float:
    """How long espeak takes to say a sentence, roughly, at its bank's pace."""
    return 0.2 + len(text.split()) / words_per_s


def script(spec: MeetingSpec) -> tuple[list[Line], list[dict[str, Any]]]:
    """The meeting's sentences and its items (each pointing at the sentences that state it)."""
    return _Writer(spec).write()


def styles(spec: MeetingSpec) -> dict[str, tuple[str, int, int]]:
    """Each speaker's espeak (voice, words per minute, pitch), fixed by the seed."""
    rng = random.Random(spec.seed + 1000)
    return {
        f"S{i + 1}": (voice, rng.randint(150, 170), rng.randint(35, 65))
        for i, (_, voice) in enumerate(spec.participants)
    }


def spec_hash(spec: MeetingSpec, lines: list[Line]) -> str:
    """Changes whenever the spec, the script it makes, the voices or the synthesis do."""
    fields = asdict(spec)
    if spec.phrases == "main":  # the field came later: the main meetings keep their hash and their audio
        del fields["phrases"]
    payload = {
        "spec": fields,
        "lines": [asdict(line) for line in lines],
        "styles": styles(spec),
        "synth": SYNTH_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _truth(
    spec: MeetingSpec, lines: list[Line], items: list[dict[str, Any]], times: list[tuple[float, float]],
    duration_s: float, timing: str,
) -> dict[str, Any]:  # fmt: skip
    sentences: list[dict[str, Any]] = [
        {"speaker": line.speaker, "start": round(s, 3), "end": round(e, 3), "text": line.text}
        for line, (s, e) in zip(lines, times, strict=True)
    ]
    turns: list[dict[str, Any]] = []
    for sentence in sentences:
        if turns and turns[-1]["speaker"] == sentence["speaker"]:
            turns[-1]["end"] = sentence["end"]
            turns[-1]["text"] += " " + sentence["text"]
        else:
            turns.append(dict(sentence))
    timed = []
    for item in items:
        first, last = item["sentence_span"]
        timed.append({**item, "start": sentences[first]["start"], "end": sentences[last]["end"]})
    return {
        "name": spec.name,
        "language": spec.language,
        "duration_s": round(duration_s, 3),
        "timing": timing,
        "speakers": {f"S{i + 1}": name for i, (name, _) in enumerate(spec.participants)},
        "turns": turns,
        "sentences": sentences,
        "items": timed,
        "spec_hash": spec_hash(spec, lines),
    }


def plan(spec: MeetingSpec) -> dict[str, Any]:
    """The ground truth without audio: the script's times estimated from its word counts."""
    lines, items = script(spec)
    words_per_s = BANKS[spec.phrases][spec.language].words_per_s
    times, clock = [], 0.0
    for line in lines:
        start = clock + line.gap_s
        clock = start + estimate_s(line.text, words_per_s)
        times.append((start, clock))
    return _truth(spec, lines, items, times, clock + 1.0, "estimated")


def audio_paths(spec: MeetingSpec, out_dir: Path = AUDIO_DIR) -> tuple[Path, Path]:
    """Where a meeting's MP3 and its truth JSON are kept."""
    return out_dir / f"{spec.name}.mp3", out_dir / f"{spec.name}.json"


def synthesize(spec: MeetingSpec, out_dir: Path = AUDIO_DIR, force: bool = False) -> dict[str, Any]:
    """The meeting as MP3 and its truth with the audio's own times; reused while the spec hash holds."""
    mp3, truth_path = audio_paths(spec, out_dir)
    lines, items = script(spec)
    if not force and mp3.exists() and truth_path.exists():
        cached: dict[str, Any] = json.loads(truth_path.read_text())
        if cached.get("spec_hash") == spec_hash(spec, lines):
            return cached
    out_dir.mkdir(parents=True, exist_ok=True)
    voice = styles(spec)
    gains = {s: 0.55 + 0.4 * random.Random(spec.seed + i).random() for i, s in enumerate(voice)}
    unique = sorted({(line.speaker, line.text) for line in lines})
    with ThreadPoolExecutor(max_workers=4) as pool:
        pcm = dict(
            zip(
                unique,
                pool.map(lambda st: generate_long.synthesize(voice[st[0]], st[1]), unique),
                strict=True,
            )
        )
    encoder = generate_long.start_encoder(mp3)
    timeline = generate_long.Timeline(encoder, np.random.default_rng(spec.seed), noise=30.0)
    times = []
    for line in lines:
        timeline.pause(line.gap_s)
        start = timeline.seconds
        speech = pcm[(line.speaker, line.text)]
        timeline.write(speech, speech.size, gains[line.speaker])
        times.append((start, timeline.seconds))
    timeline.pause(1.0)
    assert encoder.stdin is not None
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise RuntimeError(f"ffmpeg failed to encode {mp3}")
    truth = _truth(spec, lines, items, times, timeline.seconds, "synthesized")
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    return truth


def script_transcript(truth: dict[str, Any]) -> Transcript:
    """The script as a perfect transcript: one segment per sentence, its words spread evenly, speakers S1.."""
    segments = []
    for sentence in truth["sentences"]:
        tokens = re.findall(r"\S+", sentence["text"])
        start, end = float(sentence["start"]), float(sentence["end"])
        step = (end - start) / max(len(tokens), 1)
        words = [
            Word(start + i * step, start + (i + 1) * step, " " + token, 1.0, sentence["speaker"])
            for i, token in enumerate(tokens)
        ]
        segments.append(Segment(start, end, sentence["speaker"], sentence["text"], words))
    speakers = list(dict.fromkeys(s["speaker"] for s in truth["sentences"]))
    return Transcript(
        truth["language"], float(truth["duration_s"]), speakers, segments, {"transcribe": "script"}
    )


def main(argv: list[str] | None = None) -> int:
    """Synthesize the meetings that are missing or out of date; print one JSON line each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    every = {name: spec for specs in SETS.values() for name, spec in specs.items()}
    parser.add_argument("--set", choices=sorted(SETS), default="main", help="which meetings (default: main)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(every), help="meetings to make (default: the set's)"
    )
    parser.add_argument("--force", action="store_true", help="synthesize even when the audio is up to date")
    parser.add_argument("--out", type=Path, default=AUDIO_DIR)
    args = parser.parse_args(argv)
    for name in args.only or list(SETS[args.set]):
        started = time.perf_counter()
        truth = synthesize(every[name], args.out, args.force)
        row = {
            "name": name,
            "duration_s": truth["duration_s"],
            "sentences": len(truth["sentences"]),
            "items": len(truth["items"]),
            "seconds": round(time.perf_counter() - started, 1),
            "mp3": str(audio_paths(every[name], args.out)[0]),
        }
        print(json.dumps(row), file=sys.stdout, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
