"""The workers' glibc allocator tuning (runtime/memory.py): merged into a child's environment, set by
the stack and the images, and doing what it is for: big buffers stop costing page faults."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.stack import LocalStack
from runtime.memory import ALLOCATOR_TUNABLES, allocator_tuned, tuned_environment

ROOT = Path(__file__).resolve().parents[1]
TUNED = ":".join(ALLOCATOR_TUNABLES)


def test_tunables_are_added_to_an_environment_without_any() -> None:
    env = tuned_environment({"PATH": "/bin"})
    assert env == {"PATH": "/bin", "GLIBC_TUNABLES": TUNED}
    assert allocator_tuned(env)


def test_other_tunables_are_kept_and_ours_added() -> None:
    env = tuned_environment({"GLIBC_TUNABLES": "glibc.pthread.rseq=0"})
    assert env["GLIBC_TUNABLES"] == f"glibc.pthread.rseq=0:{TUNED}"


def test_an_operators_own_malloc_tunable_wins_whole() -> None:
    theirs = {"GLIBC_TUNABLES": "glibc.malloc.arena_max=4"}
    assert tuned_environment(theirs) == theirs
    assert allocator_tuned(theirs)


def test_untuned_environment_is_reported_on_glibc() -> None:
    import ctypes.util

    if ctypes.util.find_library("c") is None:
        pytest.skip("no C library to tune")
    assert not allocator_tuned({"GLIBC_TUNABLES": "glibc.pthread.rseq=0"})


def test_the_stack_starts_every_service_tuned(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path / "data", api_port=1, extra_env={"GLIBC_TUNABLES": ""})
    assert TUNED in stack.environment()["GLIBC_TUNABLES"]


def test_the_images_set_the_same_tunables() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    found = re.findall(r"GLIBC_TUNABLES=(\S+)", dockerfile)
    assert found == [TUNED]


FAULTS = """
import ctypes, ctypes.util, resource
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 64 << 20  # over glibc's largest mmap threshold, like a Whisper encoder's attention buffer
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    buffer = libc.malloc(size)
    ctypes.memset(buffer, 1, size)
    libc.free(buffer)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(env: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, "-c", FAULTS], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return int(done.stdout.strip())


def test_tuned_allocator_reuses_big_buffers_instead_of_faulting_them_in_again() -> None:
    import os

    base = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    default, tuned = _faults(base), _faults(tuned_environment(base))
    # default: each 64 MiB buffer is a fresh mmap, 16,384 page faults each; tuned: the first only
    assert default > 20 * 10_000
    assert tuned < default / 5
