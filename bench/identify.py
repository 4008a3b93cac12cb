"""Voice profiles on real speech: enroll the speakers of one AMI clip, identify them in another.

    .venv/bin/python -m bench.identify [--clips DIR] [--min-speech-s 3] [--out bench/results/identify.json]

Each clip is diarized as the diarize stage does it (services/diarize/pipeline.py) and each found label
gets its voice vector (diarization/voices.json); a label's true person is the reference speaker (the
clip's human RTTM) it shares the most speech with. Then, for every ordered pair of clips (A, B):
every label of A is enrolled as its true person (runtime/voices.py profiles), and the labels of B
are identified against those profiles with `runtime.voices.identify`. Pairs that share nobody count
too: a name given there is a false match. Over all pairs, for each threshold:

    precision = labels named correctly / labels named
    recall    = labels named correctly / labels of B whose true person was enrolled from A

The threshold printed as chosen is the lowest one whose precision is at least --min-precision
(a wrong name is worse than none: it puts words in the wrong mouth), which is then the default of
AODIO_ASSEMBLE_VOICE_MATCH_THRESHOLD. The clips are read at run time and never copied.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from contracts.artifacts import SpeakerVoice, SpeakerVoices, VoiceProfile, VoiceSample

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "realspeech" / "ami-clips"
THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(15)]  # 0.20 .. 0.90


def diarize_clips(clips: Path) -> dict[str, dict]:
    """Per clip: each found label's voice, speech, and true person (most shared speech)."""
    import soundfile
    import torch

    from services.diarize.clustering import SpeakerBounds
    from services.diarize.config import DiarizeSettings
    from services.diarize.handler import embedding_name
    from services.diarize.models import DiarizerCache, ModelNames
    from services.diarize.pipeline import diarize_file
    from services.diarize.scoring import read_rttm

    torch.set_num_threads(1)
    settings = DiarizeSettings()
    found: dict[str, dict] = {}
    for wav in sorted(clips.glob("*.wav")):
        rttm = wav.with_suffix(".rttm")
        if not rttm.exists():
            continue
        cache = DiarizerCache(settings.window_tuning(soundfile.info(str(wav)).duration), settings.device)
        names = ModelNames(settings.segmentation_path(), settings.embedding_path())
        started = time.perf_counter()
        result = diarize_file(wav, cache.get(names), SpeakerBounds(), settings.global_tuning())
        truth = read_rttm(rttm)
        labels = {}
        for label, voice in result.voices.items():
            shared: dict[str, float] = defaultdict(float)
            for turn in result.turns:
                if turn.speaker != label:
                    continue
                for start, end, person in truth:
                    shared[person] += max(0.0, min(end, turn.end) - max(start, turn.start))
            person = max(shared, key=lambda p: shared[p]) if shared and max(shared.values()) > 0 else None
            labels[label] = {
                "person": person,
                "speech_s": voice.speech_s,
                "vector": [round(float(x), 6) for x in voice.vector],
            }
        found[wav.stem] = {
            "oracle": oracle_voices(wav, truth, cache.get(names)),
            "model": embedding_name(names.embedding),
            "people": sorted({p for _, _, p in truth}),
            "labels": labels,
            "wall_s": round(time.perf_counter() - started, 1),
        }
        print(
            f"{wav.stem}: {len(labels)} label(s) for {len(found[wav.stem]['people'])} people: "
            + ", ".join(f"{k}->{v['person']}" for k, v in sorted(labels.items())),
            flush=True,
        )
    return found


def oracle_voices(wav: Path, truth: list[tuple[float, float, str]], diarizer: object) -> dict[str, dict]:
    """Each reference person's voice from their own speech alone (the human turns, overlap left out):
    what an uploaded sample of one voice gives, and what the embedding can do without diarization errors."""
    import numpy as np
    import soundfile

    from services.diarize.campplus import SAMPLE_RATE, embed, fbank

    audio, _ = soundfile.read(str(wav), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    voices = {}
    for person in sorted({p for _, _, p in truth}):
        pieces = []
        for start, end, who in truth:
            if who != person:
                continue
            others = [(s, e) for s, e, w in truth if w != person and s < end and e > start]
            cuts, at = [], start
            for s, e in sorted(others):  # the stretches where this person speaks alone
                if s > at:
                    cuts.append((at, s))
                at = max(at, e)
            if at < end:
                cuts.append((at, end))
            pieces += [audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in cuts if b - a >= 0.3]
        speech = sum(len(p) for p in pieces) / SAMPLE_RATE
        if speech < 1.0:
            continue
        vector = embed(diarizer.embedding, fbank(np.concatenate(pieces)))  # type: ignore[attr-defined]
        voices[person] = {"speech_s": round(speech, 2), "vector": [round(float(x), 6) for x in vector]}
    return voices


def profiles_of(clip: dict, source: str = "labels") -> list[VoiceProfile]:
    if source == "oracle":
        return [
            VoiceProfile(
                person_id=f"person-{i:04d}",
                name=person,
                samples=[VoiceSample(vector=v["vector"], speech_s=v["speech_s"], model=clip["model"])],
            )
            for i, (person, v) in enumerate(sorted(clip["oracle"].items()))
        ]
    return _label_profiles(clip)


def _label_profiles(clip: dict) -> list[VoiceProfile]:
    """One profile per true person of the clip, with each of their labels as a sample."""
    samples: dict[str, list[VoiceSample]] = defaultdict(list)
    for label, found in clip["labels"].items():
        if found["person"] is not None:
            samples[found["person"]].append(
                VoiceSample(
                    vector=found["vector"], speech_s=found["speech_s"], model=clip["model"], speaker=label
                )
            )
    return [
        VoiceProfile(person_id=f"person-{i:04d}", name=person, samples=person_samples)
        for i, (person, person_samples) in enumerate(sorted(samples.items()))
    ]


def voices_of(clip: dict, source: str = "labels") -> SpeakerVoices:
    if source == "oracle":
        return SpeakerVoices(
            model=clip["model"],
            speakers=[
                SpeakerVoice(speaker=person, speech_s=v["speech_s"], vector=v["vector"])
                for person, v in sorted(clip["oracle"].items())
            ],
        )
    return SpeakerVoices(
        model=clip["model"],
        speakers=[
            SpeakerVoice(speaker=label, speech_s=found["speech_s"], vector=found["vector"])
            for label, found in sorted(clip["labels"].items())
        ],
    )


# (enrolled from, identified in): the diarizer's labels are what a job has; "oracle" is one person's
# own speech, as an uploaded sample of their voice gives it
SCENARIOS = {
    "job -> job": ("labels", "labels"),
    "sample -> job": ("oracle", "labels"),
    "sample -> clean turns": ("oracle", "oracle"),
}


def _truths(clip: dict, source: str) -> dict[str, str | None]:
    if source == "oracle":
        return {person: person for person in clip["oracle"]}
    return {label: found["person"] for label, found in clip["labels"].items()}


def score(
    found: dict[str, dict], thresholds: list[float], enroll: str, test: str, min_speech_s: float
) -> list[dict]:
    from runtime.voices import identify

    rows = []
    for threshold in thresholds:
        named = correct = identifiable = wrong_unenrolled = 0
        for a, enrolled_clip in found.items():
            profiles = profiles_of(enrolled_clip, enroll)
            enrolled = {p.name for p in profiles}
            for b, test_clip in found.items():
                if a == b:
                    continue
                voices = voices_of(test_clip, test)
                heard = [v for v in voices.speakers if v.speech_s >= min_speech_s]  # as assemble does
                identities = identify(SpeakerVoices(model=voices.model, speakers=heard), profiles, threshold)
                for label, person in _truths(test_clip, test).items():
                    identifiable += person in enrolled
                    got = identities.get(label)
                    if got is None:
                        continue
                    named += 1
                    correct += got.name == person
                    wrong_unenrolled += person not in enrolled
        rows.append(
            {
                "threshold": threshold,
                "named": named,
                "correct": correct,
                "identifiable": identifiable,
                "false_on_strangers": wrong_unenrolled,
                "precision": round(correct / named, 3) if named else None,
                "recall": round(correct / identifiable, 3) if identifiable else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=CLIPS)
    parser.add_argument(
        "--voices",
        type=Path,
        default=Path("bench/out/identify-voices.json"),
        help="cache of the diarized clips' voices (made when missing)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/identify.json"))
    parser.add_argument("--min-precision", type=float, default=0.9)
    parser.add_argument(
        "--min-speech-s",
        type=float,
        default=3.0,
        help="labels with less speech are not identified (AODIO_ASSEMBLE_VOICE_MIN_SPEECH_S)",
    )
    args = parser.parse_args()
    if args.voices.exists():
        found = json.loads(args.voices.read_text())
    else:
        if not args.clips.exists():
            raise SystemExit(f"{args.clips} is missing: the AMI clips are read from ../shared/realspeech")
        found = diarize_clips(args.clips)
        args.voices.parent.mkdir(parents=True, exist_ok=True)
        args.voices.write_text(json.dumps(found))
    report: dict = {
        "clips": str(args.clips),
        "min_precision": args.min_precision,
        "min_speech_s": args.min_speech_s,
        "scenarios": {},
    }
    pooled: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for scenario, (enroll, test) in SCENARIOS.items():
        rows = score(found, THRESHOLDS, enroll, test, args.min_speech_s)
        for row in rows:
            pooled[row["threshold"]][0] += row["correct"]
            pooled[row["threshold"]][1] += row["named"]
        good = [r for r in rows if r["precision"] is not None and r["precision"] >= args.min_precision]
        chosen = min(good, key=lambda r: r["threshold"]) if good else None
        report["scenarios"][scenario] = {"rows": rows, "chosen": chosen}
        print(f"\n{scenario} (enrolled from {enroll}, identified in {test})")
        print(
            f"{'threshold':>9} {'named':>6} {'correct':>7} {'identifiable':>12} {'strangers named':>15} "
            f"{'precision':>9} {'recall':>6}"
        )
        for row in rows:
            print(
                f"{row['threshold']:>9.2f} {row['named']:>6} {row['correct']:>7} {row['identifiable']:>12} "
                f"{row['false_on_strangers']:>15} {row['precision'] or 0:>9.3f} {row['recall'] or 0:>6.3f}"
            )
        print(f"lowest threshold with precision >= {args.min_precision:.2f}:", json.dumps(chosen))
    precise = [
        t for t, (correct, named) in sorted(pooled.items()) if named and correct / named >= args.min_precision
    ]
    report["chosen_threshold"] = precise[0] if precise else None
    print(
        f"\nall scenarios pooled: lowest threshold with precision >= {args.min_precision}:",
        report["chosen_threshold"],
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
