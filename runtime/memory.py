"""The workers' memory allocator: glibc tuned for model inference, freed memory given back per message.

**Tuned.** Under glibc's defaults every buffer over 32 MiB (an attention matrix of a Whisper encoder
pass, a pyannote batch) is a fresh `mmap` whose pages the kernel zeroes on first touch and unmaps on
free, over and over: on one 10-minute chunk, 1.1 million page faults and a third of the transcribe
process's CPU in the kernel. `ALLOCATOR_TUNABLES` keeps those buffers in one heap that is reused
(no mmap per allocation, no trim on every free, one arena). Measured with faster-whisper base on a
606 s chunk of the 4 h 15 bench recording, one thread: 35.4 CPU-s of the process (11.0 s of it in the
kernel) fall to 22.5 (1.1), the same words; the diarizer on 2000 s: 44.8 to 36.4 CPU-s, the same
turns. `tuned_environment` adds them to a child's GLIBC_TUNABLES (glibc reads them once, at exec),
`make run`'s stack and the images set them; an operator who sets any `glibc.malloc.` tunable keeps
exactly theirs.

**Given back.** glibc keeps what a finished message freed (decoded audio, feature matrices, model
buffers) in its heaps, so a worker that once handled a 10-minute chunk stays at its peak while idle.
`malloc_trim` returns it: a transcribe worker falls from about 480 to 240 MiB between messages
(measured with faster-whisper base on a 105 s clip), which leaves room for the summary model while
the other stages wait. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from collections.abc import Mapping

# one heap (arena), no mmap for big buffers, never trimmed on free (release_memory trims per message)
ALLOCATOR_TUNABLES = (
    "glibc.malloc.arena_max=1",
    "glibc.malloc.mmap_max=0",
    "glibc.malloc.trim_threshold=4294967295",
)


def _load_trim() -> ctypes._NamedFuncPointer | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


_TRIM = _load_trim()


def release_memory() -> None:
    """Collect garbage, then hand free heap pages back to the operating system."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def tuned_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with ALLOCATOR_TUNABLES in GLIBC_TUNABLES, unless it already sets a malloc tunable."""
    out = dict(env)
    given = [t for t in out.get("GLIBC_TUNABLES", "").split(":") if t]
    if any(t.startswith("glibc.malloc.") for t in given):
        return out
    out["GLIBC_TUNABLES"] = ":".join([*given, *ALLOCATOR_TUNABLES])
    return out


def allocator_tuned(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process runs with a tuned allocator: not glibc, or a malloc tunable was set."""
    given = (os.environ if env is None else env).get("GLIBC_TUNABLES", "")
    return _TRIM is None or "glibc.malloc." in given
