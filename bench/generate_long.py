"""Generate a long synthetic meeting recording (default 4 h 15) with ground truth.

A pool of a few hundred espeak-ng utterances is synthesized once; the timeline is then
assembled by streaming pool PCM and pauses into one ffmpeg MP3 encoder, so memory stays
flat and 4 h 15 takes a couple of minutes on two cores.

    .venv/bin/python bench/generate_long.py                      # bench/audio/long_4h15.mp3
    .venv/bin/python bench/generate_long.py --duration 600 --out /tmp/ten_min.mp3
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050  # espeak-ng's native rate; ffmpeg resamples to 44.1 kHz
VOICES = {
    "en": ["en-us+m3", "en-us+f2", "en-us+f4", "en-gb-scotland+m7"],  # en-gb ignores variants
    "fr": ["fr+m3", "fr+f2", "fr-be+m5", "fr+f4"],
}
WORDS = {
    "en": {
        "who": ["Maria", "the platform team", "Jonas", "our designer", "Priya", "the QA group"],
        "does": [
            "will update",
            "needs to review",
            "has finished",
            "is still blocking",
            "should simplify",
            "agreed to own",
        ],
        "what": [
            "the release checklist",
            "the billing migration",
            "the onboarding survey",
            "the storage budget",
            "the mobile roadmap",
            "the incident report",
            "the hiring plan",
        ],
        "when": [
            "before Friday",
            "by the end of the month",
            "next Thursday",
            "after the demo",
            "this sprint",
        ],
        "tail": [
            "Does anyone object?",
            "Let's write that down as an action item.",
            "I think that settles it.",
            "We can revisit this next week.",
            "That is the decision then.",
            "Please add it to the notes.",
        ],
    },
    "fr": {
        "who": ["Claire", "l'équipe produit", "Julien", "notre graphiste", "Amina", "le support"],
        "does": [
            "va mettre à jour",
            "doit relire",
            "a terminé",
            "bloque encore",
            "devrait simplifier",
            "prend en charge",
        ],
        "what": [
            "la liste de livraison",
            "la migration de facturation",
            "le questionnaire d'accueil",
            "le budget de stockage",
            "la feuille de route mobile",
            "le rapport d'incident",
        ],
        "when": ["avant vendredi", "d'ici la fin du mois", "jeudi prochain", "après la démo"],
        "tail": [
            "Quelqu'un s'y oppose ?",
            "Notons-le comme action.",
            "Je pense que c'est réglé.",
            "On en reparle la semaine prochaine.",
            "C'est donc décidé.",
        ],
    },
}


@dataclass(frozen=True)
class Utterance:
    """One synthesized pool entry: a speaker, the text and its 22.05 kHz mono PCM."""

    speaker: str
    text: str
    pcm: np.ndarray


def make_text(rng: random.Random, language: str) -> str:
    """Compose one original meeting sentence (plus an optional tail) from the word lists."""
    w = WORDS[language]
    text = f"{rng.choice(w['who'])} {rng.choice(w['does'])} {rng.choice(w['what'])} "
    text += f"{rng.choice(w['when'])}."
    if rng.random() < 0.5:
        text += " " + rng.choice(w["tail"])
    return text[0].upper() + text[1:]


def synthesize(style: tuple[str, int, int], text: str) -> np.ndarray:
    """Run espeak-ng and return its speech as int16 PCM with the edge silence trimmed."""
    voice, speed, pitch = style
    wav_bytes = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    loud = np.flatnonzero(np.abs(pcm) > 200)
    return pcm[loud[0] : loud[-1] + 1] if loud.size else pcm


def build_pool(rng: random.Random, language: str, pool_size: int) -> list[Utterance]:
    """Synthesize pool_size distinct utterances spread over the language's voices."""
    voices = VOICES[language]
    styles = {f"S{i + 1}": (v, rng.randint(145, 180), rng.randint(30, 70)) for i, v in enumerate(voices)}
    texts: set[str] = set()
    jobs: list[tuple[str, str]] = []
    while len(jobs) < pool_size:
        text = make_text(rng, language)
        if text not in texts:
            texts.add(text)
            jobs.append((f"S{len(jobs) % len(voices) + 1}", text))
    with ThreadPoolExecutor(max_workers=4) as pool:
        pcms = pool.map(lambda job: synthesize(styles[job[0]], job[1]), jobs)
        return [Utterance(spk, text, pcm) for (spk, text), pcm in zip(jobs, pcms, strict=True)]


def start_encoder(out: Path) -> subprocess.Popen[bytes]:
    """Start one ffmpeg that encodes mono 22.05 kHz PCM on stdin to stereo 44.1 kHz MP3."""
    argv = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "s16le"]
    argv += ["-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0", "-ar", "44100", "-ac", "2"]
    argv += ["-c:a", "libmp3lame", "-b:a", "128k", "-compression_level", "7", str(out)]
    return subprocess.Popen(argv, stdin=subprocess.PIPE)


class Timeline:
    """Streams PCM to the encoder while tracking the position and the noise floor."""

    def __init__(self, encoder: subprocess.Popen[bytes], rng: np.random.Generator, noise: float):
        self.encoder = encoder
        self.samples = 0
        self.noise = (rng.standard_normal(SAMPLE_RATE * 7) * noise).astype(np.float32)

    @property
    def seconds(self) -> float:
        """Current position in seconds."""
        return self.samples / SAMPLE_RATE

    def write(self, speech: np.ndarray | None, n: int, gain: float = 1.0) -> None:
        """Append n samples: speech (scaled by gain) or a pause, both over the noise floor."""
        start = self.samples % self.noise.size
        idx = (np.arange(n) + start) % self.noise.size
        block = self.noise[idx] if speech is None else speech.astype(np.float32) * gain + self.noise[idx]
        assert self.encoder.stdin is not None
        self.encoder.stdin.write(np.clip(block, -32768, 32767).astype(np.int16).tobytes())
        self.samples += n

    def pause(self, seconds: float) -> None:
        """Append a pause, in blocks so memory stays small."""
        n = int(seconds * SAMPLE_RATE)
        while n > 0:
            step = min(n, SAMPLE_RATE * 10)
            self.write(None, step)
            n -= step


def assemble(pool: list[Utterance], timeline: Timeline, duration_s: float, seed: int) -> list[dict]:
    """Lay out turns of pool utterances with pauses until duration_s; return the turns."""
    rng = random.Random(seed + 1)
    by_speaker: dict[str, list[Utterance]] = {}
    for utt in pool:
        by_speaker.setdefault(utt.speaker, []).append(utt)
    speakers = sorted(by_speaker)
    turns: list[dict] = []
    speaker = rng.choice(speakers)
    while True:
        utts = [rng.choice(by_speaker[speaker]) for _ in range(rng.choice([1, 1, 2, 2, 3, 4]))]
        gaps = [rng.uniform(0.2, 0.6) for _ in utts[1:]]
        length = sum(u.pcm.size for u in utts) / SAMPLE_RATE + sum(gaps)
        if timeline.seconds + length > duration_s:
            break
        gain = rng.uniform(0.45, 1.0)
        start = timeline.seconds
        for i, utt in enumerate(utts):
            if i:
                timeline.pause(gaps[i - 1])
            timeline.write(utt.pcm, utt.pcm.size, gain)
        text = " ".join(u.text for u in utts)
        turns.append(
            {
                "speaker": speaker,
                "start": round(start, 3),
                "end": round(timeline.seconds, 3),
                "text": text,
            }
        )
        pause = rng.uniform(5, 20) if rng.random() < 0.02 else rng.uniform(0.3, 3.0)
        timeline.pause(min(pause, max(0.0, duration_s - timeline.seconds)))
        speaker = rng.choice([s for s in speakers if s != speaker] or speakers)
    timeline.pause(duration_s - timeline.seconds)
    return turns


def write_truth(out: Path, turns: list[dict], duration_s: float, seed: int, language: str) -> None:
    """Write the JSON ground truth and an RTTM beside the MP3."""
    voices = dict(zip([f"S{i + 1}" for i in range(4)], VOICES[language], strict=True))
    truth = {
        "duration_s": duration_s,
        "seed": seed,
        "language": language,
        "voices": voices,
        "turns": turns,
    }
    out.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    rttm = [
        f"SPEAKER {out.stem} 1 {t['start']:.3f} {t['end'] - t['start']:.3f} "
        f"<NA> <NA> {t['speaker']} <NA> <NA>"
        for t in turns
    ]
    out.with_suffix(".rttm").write_text("\n".join(rttm) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate the recording and print how long it took."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=15300.0, help="seconds (default 4 h 15)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--language", choices=sorted(VOICES), default="en")
    parser.add_argument("--pool-size", type=int, default=320)
    parser.add_argument("--noise", type=float, default=30.0, help="noise floor, int16 RMS units")
    parser.add_argument("--out", type=Path, default=Path("bench/audio/long_4h15.mp3"))
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pool = build_pool(random.Random(args.seed), args.language, args.pool_size)
    speech_s = sum(u.pcm.size for u in pool) / SAMPLE_RATE
    t1 = time.perf_counter()
    encoder = start_encoder(args.out)
    timeline = Timeline(encoder, np.random.default_rng(args.seed), args.noise)
    turns = assemble(pool, timeline, args.duration, args.seed)
    assert encoder.stdin is not None
    encoder.stdin.close()
    if encoder.wait() != 0:
        sys.exit("ffmpeg failed to encode the timeline")
    write_truth(args.out, turns, args.duration, args.seed, args.language)
    t2 = time.perf_counter()
    report = {
        "out": str(args.out),
        "duration_s": args.duration,
        "turns": len(turns),
        "pool_utterances": len(pool),
        "pool_speech_s": round(speech_s, 1),
        "synth_s": round(t1 - t0, 1),
        "encode_s": round(t2 - t1, 1),
        "total_s": round(t2 - t0, 1),
        "mp3_mb": round(args.out.stat().st_size / 1e6, 1),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
