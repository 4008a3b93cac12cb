"""What the decode guards did to a chunk: windows flagged, re-decoded, collapsed, dropped, and why.

Whisper's own skip rules (no speech, low confidence, a repetitive decode) are kept, but a flagged
window is never thrown away on the first decode's word: it is decoded again the way the sequential
path does (temperature fallback, the no-speech rule), and a repetition loop that survives that is
collapsed to its first occurrence. Only a window the second decode also calls silence is dropped,
and every such decision is written down here, for the chunk's transcript and the job state.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from services.transcribe.words import normalize_words

NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4
# A unit of words repeated this many times in a row, removing at least this many words, is a loop;
# "no no no" and "thank you, thank you" are speech.
LOOP_MIN_REPEATS = 3
LOOP_MIN_REMOVED = 8
LOOP_MAX_UNIT = 16
# Said again and again, or decoded again and again? People speak at 2 to 4 words a second; the
# repeats of a decoding loop are squeezed into the audio faster than that, or heard with little
# confidence. Repeats slower and surer than this are kept as speech.
LOOP_MIN_WORDS_PER_S = 4.5
LOOP_MAX_PROBABILITY = 0.4
# A segment still below LOG_PROB_THRESHOLD after the whole temperature fallback is noise when the
# model also leans a little to "no speech" or is unsure of its words. Measured with every window of
# ../shared/realspeech through the fallback: no real speech stayed below -1 but one "And." (word
# confidence 0.04); the laughter of no-speech/ did (no_speech_prob 0.39 to 0.58, or word confidence
# 0.01 and 0.09). A generated sentence of the 4 h 15 bench did too, with no_speech_prob 0.32 and
# word confidence 0.40: it is kept.
UNRELIABLE_NO_SPEECH = 0.35
UNRELIABLE_WORD_PROBABILITY = 0.2
TEXT_KEPT = 200  # characters of removed text kept in the record
# A segment made only of the job's vocabulary words is the vocabulary read back, not heard, when the
# model leans this much to "no speech" or is this unsure of its words (services/transcribe/vocabulary.py;
# measured with bench/vocabulary.py on the no-speech recordings and generated noise).
ECHO_NO_SPEECH = UNRELIABLE_NO_SPEECH
ECHO_WORD_PROBABILITY = 0.5
ECHO_RUN = 3  # vocabulary terms in a row, only punctuation between them: the list the decoder was given
ECHO_REPEAT_MIN = 3  # words (a term among them) the decoder writes twice over: "city of X, city of X"

Reason = Literal["repetition", "no_speech", "low_confidence", "quiet", "vocabulary"]
Action = Literal["redecoded", "collapsed", "dropped"]


@dataclass(frozen=True)
class GuardEvent:
    """One decision about one window (times in the chunk's own clock until placed)."""

    start: float
    end: float
    action: Action
    reason: Reason
    detail: str
    text: str = ""  # what was removed (collapsed repeats, or the first decode of a dropped window)


@dataclass
class GuardReport:
    windows: int = 0  # VAD windows (<= 30 s of speech each) decoded
    speech_s: float = 0.0  # seconds of speech VAD found
    redecoded: int = 0
    collapsed: int = 0
    dropped: int = 0
    dropped_s: float = 0.0
    words_removed: int = 0  # by collapsing loops
    quiet_windows: int = 0  # windows VAD heard only when listening again at the quiet threshold
    events: list[GuardEvent] = field(default_factory=list)

    def as_json(self, offset_s: float = 0.0) -> dict[str, Any]:
        """The record kept in the chunk transcript, event times on the recording's clock."""
        return {
            "windows": self.windows,
            "speech_s": round(self.speech_s, 2),
            "redecoded": self.redecoded,
            "collapsed": self.collapsed,
            "dropped": self.dropped,
            "dropped_s": round(self.dropped_s, 2),
            "words_removed": self.words_removed,
            "quiet_windows": self.quiet_windows,
            "events": [
                {
                    "start": round(offset_s + e.start, 3),
                    "end": round(offset_s + e.end, 3),
                    "action": e.action,
                    "reason": e.reason,
                    "detail": e.detail,
                    "text": e.text,
                }
                for e in self.events
            ],
        }


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure, faster-whisper's own: how well the text's bytes compress."""
    from faster_whisper.transcribe import get_compression_ratio

    return float(get_compression_ratio(text))


def window_flag(segments: list[Any]) -> tuple[Reason, str] | None:
    """Why a first-pass window's decode is not to be trusted as it is, or None.

    The batched pipeline gives every segment of a window the window's avg_logprob and
    no_speech_prob, and each segment its own compression ratio; a loop split into many short
    segments shows only in the window's text as a whole, so that is measured too.
    """
    if not segments:
        return None
    head = segments[0]
    text = " ".join(s.text.strip() for s in segments)
    ratio = max([compression_ratio(text), *(s.compression_ratio for s in segments)])
    if ratio > COMPRESSION_RATIO_THRESHOLD or find_loop(normalize_words(text)) is not None:
        return "repetition", f"compression ratio {ratio:.2f}"
    if head.no_speech_prob > NO_SPEECH_THRESHOLD and head.avg_logprob < LOG_PROB_THRESHOLD:
        return "no_speech", f"no_speech_prob {head.no_speech_prob:.2f}, avg_logprob {head.avg_logprob:.2f}"
    if head.avg_logprob < LOG_PROB_THRESHOLD:
        return "low_confidence", f"avg_logprob {head.avg_logprob:.2f}"
    return None


def unreliable(segment: dict[str, Any]) -> str:
    """Why a segment of a fallback decode is no speech, or "": the decoder guessed at noise.

    Whisper keeps the best of its temperatures even when all of them fail; laughter, breath and
    room noise then come back as a word or a short sentence nobody said, heard with little
    confidence and likely no speech at all.
    """
    words = segment["words"]
    confidence = sum(w["probability"] for w in words) / len(words) if words else 0.0
    if segment["avg_logprob"] >= LOG_PROB_THRESHOLD:
        return ""
    if segment["no_speech_prob"] > UNRELIABLE_NO_SPEECH or confidence < UNRELIABLE_WORD_PROBABILITY:
        return (
            f"avg_logprob {segment['avg_logprob']:.2f}, no_speech_prob {segment['no_speech_prob']:.2f}, "
            f"word confidence {confidence:.2f}"
        )
    return ""


def find_loop(words: list[str]) -> tuple[int, int, int] | None:
    """The first run of a word unit repeated back to back: (start, unit length, repeats), or None."""
    for start in range(len(words)):
        for unit in range(1, min(LOOP_MAX_UNIT, (len(words) - start) // LOOP_MIN_REPEATS) + 1):
            pattern = words[start : start + unit]
            repeats = 1
            while words[start + repeats * unit : start + (repeats + 1) * unit] == pattern:
                repeats += 1
            if repeats >= LOOP_MIN_REPEATS and (repeats - 1) * unit >= LOOP_MIN_REMOVED:
                return start, unit, repeats
    return None


def collapse_loops(segments: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The segments with every repetition loop cut to its first occurrence; and the text removed.

    Works on the words of all the segments together (a loop often spans many short segments);
    a segment left without words goes, and one that lost words is re-spanned from those it kept.
    """
    flat = [(i, w) for i, segment in enumerate(segments) for w in segment["words"]]
    keys = [normalize_words(w["word"]) for _, w in flat]
    removed: set[int] = set()
    position = 0
    while True:
        # loops are found on the words that have text; punctuation-only tokens ride along
        indexed = [k for k in range(position, len(flat)) if keys[k]]
        found = find_loop([" ".join(keys[k]) for k in indexed])
        if found is None:
            break
        start, unit, repeats = found
        first_extra, last = indexed[start + unit], indexed[start + repeats * unit - 1]
        if _decoded_not_said([w for _, w in flat[first_extra : last + 1]]):
            removed.update(range(first_extra, last + 1))
        position = last + 1
    if not removed:
        return segments, ""
    text = "".join(flat[k][1]["word"] for k in sorted(removed)).strip()
    kept: list[dict[str, Any]] = []
    for i, segment in enumerate(segments):
        words = [w for k, (j, w) in enumerate(flat) if j == i and k not in removed]
        if not words:
            continue
        if len(words) == len(segment["words"]):
            kept.append(segment)
            continue
        kept.append(
            {
                **segment,
                "start": words[0]["start"],
                "end": words[-1]["end"],
                "text": "".join(w["word"] for w in words).strip(),
                "words": words,
            }
        )
    return kept, text


def _decoded_not_said(repeats: list[dict[str, Any]]) -> bool:
    """Whether repeated words came from the decoder rather than the speaker (rate and confidence)."""
    spoken = [w for w in repeats if normalize_words(w["word"])]
    seconds = repeats[-1]["end"] - repeats[0]["start"]
    rate = len(spoken) / max(seconds, 0.01)
    confidence = sum(w["probability"] for w in spoken) / max(len(spoken), 1)
    return rate > LOOP_MIN_WORDS_PER_S or confidence < LOOP_MAX_PROBABILITY


def removed_words(text: str) -> int:
    return len(normalize_words(text))


def clip(text: str) -> str:
    return text if len(text) <= TEXT_KEPT else text[: TEXT_KEPT - 1] + "…"


def vocabulary_echo(segment: dict[str, Any], terms: tuple[tuple[str, ...], ...]) -> str:
    """Why a segment reads as the job's vocabulary given back to the decoder, not heard, or "".

    Hotwords and a prompt bias the decoder towards their terms; where it hears little, or a name
    it cannot place, it may write the terms outright: the list it was given, one term again and
    again, or a sentence around a term sampled by the temperature fallback. A segment holding a
    term (`terms`: the vocabulary as normalised words) is suspect when
    - it is vocabulary terms only, and the decoder leans to no speech or is unsure of them;
    - ECHO_RUN terms come in a row (only punctuation between), heard unsurely, or one term back to back;
    - it is a decode below Whisper's own confidence threshold (avg_logprob), kept by the fallback;
    - words around a term come twice back to back ("we are in the city of X, and we are in the
      city of X"): the loops the bias makes are shorter than those find_loop looks for.
    A term in a sentence the decoder is sure of is never suspect: word probabilities alone do not
    tell (bench/vocabulary.py: names said and heard at 0.02, names never said at 0.95).
    """
    items = _term_items(segment["words"], terms)
    if not any(term is not None for term, _ in items):
        return ""
    avg_logprob = float(segment.get("avg_logprob") or 0.0)
    if avg_logprob < LOG_PROB_THRESHOLD:
        return f"vocabulary terms in an unsure decode, avg_logprob {avg_logprob:.2f}"
    if phrase := _repeated_around_term(normalize_words(segment["text"]), terms):
        return f"words around a vocabulary term said twice over: {phrase!r}"
    no_speech = float(segment.get("no_speech_prob") or 0.0)
    if all(term is not None for term, _ in items):
        confidence = sum(p for _, p in items) / len(items)
        if no_speech > ECHO_NO_SPEECH or confidence < ECHO_WORD_PROBABILITY:
            return f"only vocabulary terms, no_speech_prob {no_speech:.2f}, confidence {confidence:.2f}"
    run: list[tuple[int | None, float]] = []
    for item in [*items, (None, 0.0)]:
        if item[0] is not None:
            run.append(item)
            continue
        if len(run) >= ECHO_RUN:
            confidence = sum(p for _, p in run) / len(run)
            repeated = any(a[0] == b[0] for a, b in itertools.pairwise(run))
            if repeated or confidence < ECHO_WORD_PROBABILITY:
                return f"{len(run)} vocabulary terms in a row, confidence {confidence:.2f}" + (
                    ", a term repeated" if repeated else ""
                )
        run = []
    return ""


def _repeated_around_term(words: list[str], terms: tuple[tuple[str, ...], ...]) -> str:
    """A run of ECHO_REPEAT_MIN or more words holding a term, followed at once by the same words; or ""."""
    for start in range(len(words)):
        for unit in range(ECHO_REPEAT_MIN, min(LOOP_MAX_UNIT, (len(words) - start) // 2) + 1):
            phrase = words[start : start + unit]
            if phrase == words[start + unit : start + 2 * unit] and any(
                _holds(phrase, term) for term in terms
            ):
                return " ".join(phrase)
    return ""


def _holds(words: list[str], term: tuple[str, ...]) -> bool:
    size = len(term)
    return bool(size) and any(tuple(words[i : i + size]) == term for i in range(len(words) - size + 1))


def _term_items(
    words: list[dict[str, Any]], terms: tuple[tuple[str, ...], ...]
) -> list[tuple[int | None, float]]:
    """The segment as (vocabulary term index or None, confidence) items, longest terms matched first."""
    tokens = [(t, float(w["probability"])) for w in words for t in normalize_words(w["word"])]
    order = sorted(range(len(terms)), key=lambda n: -len(terms[n]))
    items: list[tuple[int | None, float]] = []
    position = 0
    while position < len(tokens):
        for n in order:
            size = len(terms[n])
            if size and tuple(t for t, _ in tokens[position : position + size]) == terms[n]:
                items.append((n, sum(p for _, p in tokens[position : position + size]) / size))
                position += size
                break
        else:
            items.append((None, tokens[position][1]))
            position += 1
    return items
