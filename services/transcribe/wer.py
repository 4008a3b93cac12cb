"""Word error rate for checks and benchmarks: lower-cased, punctuation stripped, no other normalising."""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s']|(?<!\w)'|'(?!\w)")


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation ("Tuesday." -> "tuesday"; "let's" stays)."""
    text = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'")
    return _PUNCTUATION.sub(" ", text).split()


def word_error_rate(reference: str | list[str], hypothesis: str | list[str]) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance over words."""
    ref = normalize_words(reference) if isinstance(reference, str) else reference
    hyp = normalize_words(hypothesis) if isinstance(hypothesis, str) else hypothesis
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / len(ref)
