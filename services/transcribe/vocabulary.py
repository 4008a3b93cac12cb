"""A job's vocabulary as faster-whisper hears it: `hotwords`, an `initial_prompt`, or both.

Both end up in the decoder's "previous text" slot (the tokens after <|startofprev|>), which biases
what the decoder writes towards those spellings; neither forces a word. How faster-whisper 1.2
uses them, which decides what we pass:

- `hotwords` go before every window's decode, in the batched pipeline and the sequential one; they
  are ignored when a `prefix` is given (we never give one).
- `initial_prompt` goes before every window in the batched pipeline, but in the sequential one only
  before the first window of each call: with condition_on_previous_text off (our loop guard) the
  prompt is reset after it. A re-decoded window is one call, so it gets the prompt.
- Each is cut by faster-whisper at 223 tokens, silently (hotwords keep their head, a prompt its
  tail), and the prompt's tokens count against the 448 the decoder may write in one window. So the
  terms are fitted here into a token budget, the job's own first, and what did not fit is said.

Either can make the decoder write a term nobody said where there is little to hear (noise, laughter
that VAD took for speech), or a name it cannot place: guards.vocabulary_echo finds such a segment,
and it is decoded again without the vocabulary (passes.without_echoes), on the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from services.transcribe.words import normalize_words

VocabularyMode = Literal["off", "hotwords", "prompt", "both"]

# Tokens of terms the decoder is given in all (split between hotwords and the prompt in "both"):
# a 30 s window of fast speech takes ~150 tokens with its timestamps, of the 448 a window may hold.
DEFAULT_TOKEN_BUDGET = 150
SEPARATOR = ", "


@dataclass(frozen=True)
class DecoderHint:
    """What one chunk's decodes are given: the text of each slot, and which terms it holds."""

    mode: VocabularyMode
    hotwords: str | None
    prompt: str | None
    terms: list[str]  # the terms given to the decoder, in the job's order
    left_out: list[str] = field(default_factory=list)  # terms over the token budget
    term_words: tuple[tuple[str, ...], ...] = ()  # each term's normalised words, for the echo guard

    def record(self) -> dict[str, object]:
        """What the chunk transcript keeps: how the vocabulary was used (never the whole prompt twice)."""
        return {
            "mode": self.mode,
            "terms": len(self.terms),
            "left_out": len(self.left_out),
            "text": self.hotwords or self.prompt or "",
        }


def fit_terms(
    terms: list[str], budget: int, count_tokens: Callable[[str], int]
) -> tuple[list[str], list[str]]:
    """The longest head of `terms` whose joined text takes at most `budget` tokens, and the rest."""
    kept: list[str] = []
    for n, term in enumerate(terms):
        if count_tokens(" " + SEPARATOR.join([*kept, term])) > budget:
            return kept, terms[n:]
        kept.append(term)
    return kept, []


def decoder_hint(
    terms: list[str],
    mode: VocabularyMode,
    count_tokens: Callable[[str], int],
    budget: int = DEFAULT_TOKEN_BUDGET,
) -> DecoderHint | None:
    """The hint for a job's vocabulary in `mode`; None when there is nothing to give the decoder."""
    if mode == "off" or not terms:
        return None
    share = budget // 2 if mode == "both" else budget
    kept, left_out = fit_terms(terms, share, count_tokens)
    if not kept:
        return DecoderHint(mode=mode, hotwords=None, prompt=None, terms=[], left_out=left_out)
    text = SEPARATOR.join(kept)
    # A leading space: the batched pipeline encodes the prompt as given, the sequential one adds it.
    return DecoderHint(
        mode=mode,
        hotwords=text if mode in ("hotwords", "both") else None,
        prompt=" " + text + "." if mode in ("prompt", "both") else None,
        terms=kept,
        left_out=left_out,
        term_words=tuple(tuple(normalize_words(term)) for term in kept),
    )
