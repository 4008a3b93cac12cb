"""Word error rate for checks and benchmarks: lower-cased, punctuation stripped, no other normalising.

Words are split as services/transcribe/words.py splits them, so a score and a guard count alike.
"""

from __future__ import annotations

from typing import NamedTuple

from services.transcribe.words import normalize_words

__all__ = ["EditCounts", "edit_counts", "normalize_words", "word_error_rate"]


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


class EditCounts(NamedTuple):
    """An alignment of hypothesis words to reference words: what it took to turn one into the other."""

    reference: int
    substitutions: int
    deletions: int  # reference words with no counterpart at all: what was said and is missing
    insertions: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def edit_counts(reference: str | list[str], hypothesis: str | list[str]) -> EditCounts:
    """The minimum edit alignment's substitutions, deletions and insertions (ties: fewer deletions)."""
    ref = normalize_words(reference) if isinstance(reference, str) else reference
    hyp = normalize_words(hypothesis) if isinstance(hypothesis, str) else hypothesis
    # cost[i][j] = (edits, deletions) for ref[:i] against hyp[:j]; tuples compare edits first
    cost = [[(j, 0) for j in range(len(hyp) + 1)]]
    for i, ref_word in enumerate(ref, start=1):
        row = [(i, i)]
        for j, hyp_word in enumerate(hyp, start=1):
            deleted = cost[i - 1][j]
            inserted = row[j - 1]
            matched = cost[i - 1][j - 1]
            row.append(
                min(
                    (deleted[0] + 1, deleted[1] + 1),
                    (inserted[0] + 1, inserted[1]),
                    (matched[0] + (ref_word != hyp_word), matched[1]),
                )
            )
        cost.append(row)
    edits, deletions = cost[-1][-1]
    # walk back to split the rest into substitutions and insertions
    i, j, substitutions = len(ref), len(hyp), 0
    while i > 0 and j > 0:
        here = cost[i][j]
        step = ref[i - 1] != hyp[j - 1]
        if here == (cost[i - 1][j - 1][0] + step, cost[i - 1][j - 1][1]):
            substitutions += step
            i, j = i - 1, j - 1
        elif here == (cost[i - 1][j][0] + 1, cost[i - 1][j][1] + 1):
            i -= 1
        else:
            j -= 1
    insertions = edits - substitutions - deletions
    return EditCounts(len(ref), substitutions, deletions, insertions)
