"""Word error rate of the transcribe stage on the generated clips, with the service's own settings.

    python -m bench.wer [--models tiny.en base]

Each clip's reference text is its committed JSON (the sentences espeak-ng spoke). Numbers only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.word_errors import word_error_rate
from services.transcribe.config import TranscribeSettings
from services.transcribe.engine import EngineConfig, ModelCache, decode_audio, transcribe_audio
from services.transcribe.language import detect_language

CLIPS = Path("tests/fixtures/audio")
ENGLISH_ONLY = {"tiny.en"}


def reference(clip: Path) -> tuple[str, str]:
    truth = json.loads(clip.with_suffix(".json").read_text())
    text = truth.get("text") or " ".join(s["text"] for s in truth["segments"])
    return text, truth.get("language", "en")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument(
        "--clips", nargs="+", default=["en_short.wav", "en_two_voices.mp3", "fr_one_voice.mp3"]
    )
    args = parser.parse_args()
    settings = TranscribeSettings()
    config = EngineConfig(
        settings.device,
        settings.compute_type,
        settings.cpu_threads,
        settings.model_cache_dir,
        settings.batched,
    )
    models = ModelCache(config)
    for name in args.models:
        model = models.get(name)
        for clip_name in args.clips:
            clip = CLIPS / clip_name
            text, language = reference(clip)
            if name in ENGLISH_ONLY and language != "en":
                continue
            audio = decode_audio(clip)
            guess = detect_language(model.whisper, audio, settings.language_windows)
            segments = transcribe_audio(
                model,
                audio,
                language=guess.language if guess else None,
                beam_size=settings.beam_size,
                batch_size=settings.batch_size,
            )
            heard = "".join(w["word"] for s in segments for w in s["words"])
            print(
                json.dumps(
                    {
                        "model": name,
                        "clip": clip_name,
                        "language": guess.language if guess else None,
                        "wer": round(word_error_rate(text, heard), 3),
                        "heard": heard.strip(),
                    }
                )
            )


if __name__ == "__main__":
    main()
