"""Words as the transcribe guards count them, and as the WER benchmarks compare them.

Lower-cased, punctuation stripped, no other normalising: bench/word_errors.py scores with the same.
"""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s']|(?<!\w)'|'(?!\w)")


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation ("Tuesday." -> "tuesday"; "let's" stays)."""
    text = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'")
    return _PUNCTUATION.sub(" ", text).split()
