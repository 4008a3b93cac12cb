"""How transcript text reads: where sentences and clauses end, and which words are only punctuation.

Shared by the segmenter (services/assemble cuts segments at sentence ends), the subtitles (cues and
lines break after punctuation) and the plain formats; it depends on nothing.
"""

from __future__ import annotations

__all__ = ["CLAUSE_ENDS", "SENTENCE_ENDS", "ends_with", "is_punctuation"]

# Full-width marks are meant: Chinese and Japanese sentences end with them.
SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")  # noqa: RUF001
CLAUSE_ENDS = (*SENTENCE_ENDS, ",", ";", ":", "，", "、", "；", "：")  # noqa: RUF001
_CLOSERS = "\"'»”’)]"  # noqa: RUF001
_OPENERS = "«“‘([{¿¡\"'-–—"  # noqa: RUF001 (typographic quotes and dashes are meant)


def ends_with(text: str, marks: tuple[str, ...]) -> bool:
    """Whether a word ends with one of marks, ignoring closing quotes and brackets."""
    return text.rstrip().rstrip(_CLOSERS).endswith(marks)


def is_punctuation(text: str) -> bool:
    """A word with no letter or digit that closes what precedes it (French " ?", " »,")."""
    stripped = text.strip()
    return bool(stripped) and stripped[0] not in _OPENERS and not any(c.isalnum() for c in stripped)
