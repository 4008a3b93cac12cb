"""Generate conversations with known speaker turns for the diarize tests (tests/fixtures/conversations/).

Each conversation is espeak-ng voices taking turns with pauses between them, written as a small
16 kHz mono MP3 and an RTTM of the exact turns (sample-accurate before encoding). Deterministic: a
fixed seed, and the same espeak-ng and ffmpeg versions give the same bytes. Existing files are kept
unless --force is given.

    .venv/bin/python scripts/make_conversations.py [--force]
"""

from __future__ import annotations

import argparse
import io
import random
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from make_fixtures import speak  # the same espeak-ng synthesis as the other fixtures

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "conversations"
RATE = 22050
MP3_ARGS = ["-ar", "16000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k"]
QUIET = ["-nostdin", "-loglevel", "error", "-y"]
EXACT = ["-fflags", "+bitexact", "-map_metadata", "-1"]

ENGLISH = [
    "Let's look at the delivery schedule before we talk about the budget.",
    "The warehouse in Lyon reported a delay of three days on the last shipment.",
    "I spoke with the supplier yesterday and they promised a fix by Thursday.",
    "That still leaves us short for the trade fair at the end of the month.",
    "Could we borrow stock from the northern depot for a couple of weeks?",
    "Possibly, but their manager wants a written request before she agrees.",
    "Fine, I will draft the request this afternoon and send it to you first.",
    "Another topic: the new hire in accounting starts on Monday morning.",
    "Who is going to show her the reporting tools during the first week?",
    "I can take Monday and Tuesday, and maybe Sam can cover the rest.",
    "We also need to decide whether the quarterly review moves to video.",
    "Travel costs went up again, so a video call makes a lot of sense to me.",
    "Agreed. Let's keep one meeting in person at the end of the year.",
    "The customer survey closes on Friday, and we have about four hundred answers.",
    "Most complaints are about waiting times on the phone line.",
    "Then we should add a callback option before hiring more people.",
    "I will ask the vendor for a price and bring it to the next meeting.",
    "Good. Is there anything else, or shall we stop here for today?",
    "One small thing: the printer on the second floor is broken again.",
    "I already called the technician, he comes tomorrow around ten.",
]
FRENCH = [
    "Je pense que nous devons revoir le planning des livraisons.",
    "Le client de Marseille attend toujours sa commande du mois dernier.",
    "Nous pourrions proposer une remise pour compenser le retard.",
    "Je préparerai une proposition écrite avant la fin de la semaine.",
    "La réunion de jeudi est déplacée à quinze heures.",
    "Merci, je transmets l'information à toute l'équipe ce soir.",
]


@dataclass(frozen=True)
class Conversation:
    name: str
    voices: dict[str, str]  # speaker label -> espeak-ng voice
    turns: int
    seed: int


CONVERSATIONS = (
    # not en-gb+f2: this espeak-ng ignores variants on en-gb, so it is the plain en-gb voice, the same
    # synthetic speaker as en-us+m3 with another accent (CAM++ cosine 0.88 against 0.93 within a voice)
    Conversation("two_voices", {"A": "en-us+m3", "B": "en-us+f4"}, turns=16, seed=11),
    Conversation("three_voices", {"A": "en-us+m7", "B": "en-us+f4", "C": "fr+m2"}, turns=18, seed=12),
)


def build(conv: Conversation) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """The conversation's PCM and its turns (start_s, end_s, speaker)."""
    rng = random.Random(conv.seed)
    speakers = sorted(conv.voices)
    pieces: list[np.ndarray] = [np.zeros(int(0.5 * RATE), dtype=np.int16)]
    position = len(pieces[0])
    turns: list[tuple[float, float, str]] = []
    previous = None
    for _ in range(conv.turns):
        speaker = rng.choice([s for s in speakers if s != previous])
        voice = conv.voices[speaker]
        pool = FRENCH if voice.startswith("fr") else ENGLISH
        sentences = rng.sample(pool, rng.choice((1, 1, 2)))
        pcm = np.concatenate([speak(voice, text) for text in sentences])
        turns.append((position / RATE, (position + len(pcm)) / RATE, speaker))
        pause = np.zeros(int(rng.uniform(0.3, 1.5) * RATE), dtype=np.int16)
        pieces += [pcm, pause]
        position += len(pcm) + len(pause)
        previous = speaker
    return np.concatenate(pieces), turns


def rttm(name: str, turns: list[tuple[float, float, str]]) -> str:
    return "".join(
        f"SPEAKER {name} 1 {start:.3f} {end - start:.3f} <NA> <NA> {speaker} <NA> <NA>\n"
        for start, end, speaker in turns
    )


def write(conv: Conversation, out: Path) -> None:
    pcm, turns = build(conv)
    wav_buffer = io.BytesIO()
    with wave.open(wav_buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())
    subprocess.run(
        ["ffmpeg", *QUIET, "-f", "wav", "-i", "pipe:0", *MP3_ARGS, *EXACT, str(out / f"{conv.name}.mp3")],
        input=wav_buffer.getvalue(),
        check=True,
    )
    (out / f"{conv.name}.rttm").write_text(rttm(conv.name, turns))
    print(f"{conv.name}: {len(pcm) / RATE:.1f} s, {len(turns)} turns, {len(conv.voices)} voices")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for conv in CONVERSATIONS:
        if args.force or not (OUT / f"{conv.name}.mp3").exists():
            write(conv, OUT)


if __name__ == "__main__":
    main()
