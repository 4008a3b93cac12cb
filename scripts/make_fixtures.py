"""Generate the small committed audio fixtures in tests/fixtures/audio/ with espeak-ng and ffmpeg.

Deterministic: the same espeak-ng and ffmpeg versions give the same bytes. Existing files are
kept unless --force is given.

    .venv/bin/python scripts/make_fixtures.py [--force]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import wave
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "audio"
ESPEAK_RATE = 22050
MP3_ARGS = ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"]
QUIET = ["-nostdin", "-loglevel", "error", "-y"]
EXACT = ["-fflags", "+bitexact", "-map_metadata", "-1"]  # output options: no version tags

TWO_VOICES = [  # (speaker, sentence): a short fictional team meeting
    ("A", "Good morning everyone, let's start with the release date."),
    ("B", "We decided last week to ship version two on the fourteenth of March."),
    ("A", "Is the billing migration still on track for that date?"),
    ("B", "Mostly. Two tests are failing, and Jonas is fixing them today."),
    ("A", "Then the decision stands: we ship on the fourteenth."),
    ("B", "Action item for me: I will send the release notes by Friday."),
    ("A", "And I will book the demo room for Monday afternoon."),
    ("B", "Great, that's everything on my list. Thanks, everyone."),
]
VOICES = {"A": "en-us+m3", "B": "en-gb+f2"}
FRENCH = [
    "Bonjour à tous, nous commençons par le budget du trimestre.",
    "Nous avons décidé de reporter le lancement à la fin du mois d'avril.",
    "Claire enverra le compte rendu de la réunion avant vendredi.",
    "Merci à tous, on se retrouve mardi prochain à dix heures.",
]
SHORT = "The quarterly report is ready, and the team agreed to publish it on Tuesday."


def speak(voice: str, text: str) -> np.ndarray:
    """Synthesize text with espeak-ng; return int16 PCM at 22.05 kHz with edge silence trimmed."""
    wav_bytes = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True
    ).stdout
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    loud = np.flatnonzero(np.abs(pcm) > 200)
    return pcm[loud[0] : loud[-1] + 1]


def write_wav(path: Path, pcm: np.ndarray, rate: int = ESPEAK_RATE) -> None:
    """Write mono int16 PCM as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.astype(np.int16).tobytes())


def ffmpeg(*args: str, stdin: bytes | None = None) -> None:
    """Run ffmpeg; the last argument is the output, written bit-exact and metadata-free."""
    argv = ["ffmpeg", *QUIET, *args[:-1], *EXACT, args[-1]]
    subprocess.run(argv, input=stdin, check=True)


def to_mp3(pcm: np.ndarray, out: Path) -> None:
    """Encode 22.05 kHz mono PCM as stereo 44.1 kHz 128 kbps MP3."""
    raw = ["-f", "s16le", "-ar", str(ESPEAK_RATE), "-ac", "1", "-i", "pipe:0"]
    ffmpeg(*raw, *MP3_ARGS, str(out), stdin=pcm.tobytes())


def dialogue(turns: list[tuple[str, str]], voices: dict[str, str], seed: int) -> tuple:
    """Lay sentences end to end with 0.5-1.5 s pauses; return PCM and timed segments."""
    rng = random.Random(seed)
    parts: list[np.ndarray] = [np.zeros(int(0.3 * ESPEAK_RATE), np.int16)]
    segments, pos = [], parts[0].size
    for i, (speaker, text) in enumerate(turns):
        speech = speak(voices[speaker], text)
        start, pos = pos, pos + speech.size
        segments.append(
            {
                "speaker": speaker,
                "start": round(start / ESPEAK_RATE, 3),
                "end": round(pos / ESPEAK_RATE, 3),
                "text": text,
            }
        )
        pause = 0.3 if i == len(turns) - 1 else rng.uniform(0.5, 1.5)
        parts += [speech, np.zeros(int(pause * ESPEAK_RATE), np.int16)]
        pos += parts[-1].size
    return np.concatenate(parts), segments


def write_truth(out: Path, pcm: np.ndarray, segments: list, language: str, voices: dict) -> None:
    """Write the JSON ground truth and an RTTM beside an audio fixture."""
    truth = {
        "audio": out.name,
        "language": language,
        "duration_s": round(pcm.size / ESPEAK_RATE, 3),
        "voices": voices,
        "segments": segments,
        "text": " ".join(s["text"] for s in segments),
    }
    out.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n")
    rttm = "".join(
        f"SPEAKER {out.stem} 1 {s['start']:.3f} {s['end'] - s['start']:.3f} "
        f"<NA> <NA> {s['speaker']} <NA> <NA>\n"
        for s in segments
    )
    out.with_suffix(".rttm").write_text(rttm)


def make_speech(out: Path) -> None:
    """The speech fixtures: two English voices, one French voice, one short WAV."""
    pcm, segments = dialogue(TWO_VOICES, VOICES, seed=1)
    to_mp3(pcm, out / "en_two_voices.mp3")
    write_truth(out / "en_two_voices.mp3", pcm, segments, "en", VOICES)
    pcm, segments = dialogue([("A", t) for t in FRENCH], {"A": "fr+m3"}, seed=2)
    to_mp3(pcm, out / "fr_one_voice.mp3")
    write_truth(out / "fr_one_voice.mp3", pcm, segments, "fr", {"A": "fr+m3"})
    pcm, segments = dialogue([("A", SHORT)], {"A": "en-us"}, seed=3)
    write_wav(out / "en_short.wav", pcm)
    write_truth(out / "en_short.wav", pcm, segments, "en", {"A": "en-us"})


def make_bad_inputs(out: Path) -> None:
    """The inputs transcode must refuse, or accept, with a clear reason."""
    (out / "not_audio.txt").write_text("Meeting notes: this is a text file, not a recording.\n")
    (out / "empty.mp3").write_bytes(b"")
    whole = (out / "en_two_voices.mp3").read_bytes()
    (out / "truncated.mp3").write_bytes(whole[: len(whole) // 10])
    (out / "corrupt_header.mp3").write_bytes(random.Random(42).randbytes(16 * 1024))
    video = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=3"]
    x264 = ["-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    ffmpeg(*video, *x264, "-an", str(out / "video_no_audio.mp4"))
    speech = ["-i", str(out / "en_short.wav"), "-c:a", "aac", "-b:a", "48k", "-ac", "1"]
    ffmpeg(*video, *speech, *x264, "-shortest", str(out / "video_with_audio.mp4"))
    silence = ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "10", "-c:a", "pcm_s16le"]
    ffmpeg(*silence, str(out / "silence.wav"))


def main(argv: list[str] | None = None) -> int:
    """Generate the fixtures that are missing (all of them with --force) and list their sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="regenerate existing fixtures")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    marker = args.out / "silence.wav"  # written last: its presence means a complete set
    if marker.exists() and not args.force:
        print(f"fixtures already in {args.out} (use --force to regenerate)")
        return 0
    make_speech(args.out)
    make_bad_inputs(args.out)
    total = 0
    for path in sorted(args.out.iterdir()):
        total += path.stat().st_size
        print(f"{path.stat().st_size:>9}  {path.name}")
    print(f"{total:>9}  total")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
