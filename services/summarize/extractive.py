"""The extractive summary: sentences of the transcript itself, ranked and spread over the recording.

Needs no model. Used when a job or the deployment asks for no LLM, and as the fallback when the LLM
fails for good; also what the LLM path reuses for chapters and speaker shares.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from contracts.artifacts import ActionItem, Chapter, Decision, SpeakerNote, Summary, Transcript
from exports.summary import labels
from services.summarize.language import Cues, cues_for
from services.summarize.passages import Sentence, score, select, sentences_of

MAX_KEY_POINTS = 8
CHAPTER_S = 20 * 60  # about one chapter every 20 minutes, at most MAX_CHAPTERS
MAX_CHAPTERS = 12

_TEXT = {
    "en": {
        "title": "Summary: {topics}",
        "lead": "A {duration} recording with {speakers} speaker(s), mostly about {topics}.",
        "about": "mostly about {topics}",
        "part": "Part {n}: {topics}",
        "few": "a few words, nothing to name",
    },
    "fr": {
        "title": "Résumé : {topics}",
        "lead": "Un enregistrement de {duration} avec {speakers} intervenant(s), surtout sur {topics}.",
        "about": "surtout sur {topics}",
        "part": "Partie {n} : {topics}",
        "few": "quelques mots, rien à nommer",
    },
}


def bins_for(duration_s: float, per_s: float = 15 * 60, low: int = 1, high: int = 16) -> int:
    """How many equal time bins a recording of this length is read in."""
    return max(low, min(high, math.ceil(duration_s / per_s)))


def ranked(transcript: Transcript) -> tuple[list[Sentence], Counter[str], Cues]:
    """The transcript's sentences, scored, with its content-word counts and its language's cues."""
    cues = cues_for(transcript.language)
    sentences = sentences_of(transcript)
    counts = score(sentences, cues)
    return sentences, counts, cues


def summarize_extractive(transcript: Transcript, note: str | None = None) -> Summary:
    """A summary made only of the transcript's own sentences."""
    sentences, counts, _ = ranked(transcript)
    text = _TEXT.get(transcript.language or "en", _TEXT["en"])
    topics = ", ".join(_top_terms(counts, 3)) or labels(transcript.language)["untitled"].lower()
    if not sentences:
        return Summary(
            method="extractive",
            model=None,
            language=transcript.language,
            title=labels(transcript.language)["untitled"],
            duration_s=transcript.duration_s,
            note=note,
        )
    bins = bins_for(transcript.duration_s)
    most_decisions, most_actions = item_limits(transcript.duration_s)
    decisions = pick(sentences, "decision", most_decisions, bins)
    actions = pick(sentences, "action", most_actions, bins)
    points = pick(sentences, "point", MAX_KEY_POINTS, bins) or pick(sentences, "action", MAX_KEY_POINTS, bins)
    overview = text["lead"].format(
        duration=spoken_duration(transcript.duration_s), speakers=len(transcript.speakers) or 1, topics=topics
    )
    best = select(sorted(sentences, key=lambda s: -s.score)[:20], 60, 1, kinds=("decision", "point"))[:2]
    return Summary(
        method="extractive",
        model=None,
        language=transcript.language,
        title=text["title"].format(topics=topics),
        overview=" ".join([overview, *(s.text for s in best)]),
        key_points=[s.text for s in points],
        decisions=[Decision(text=s.text, at_s=round(s.start, 1)) for s in decisions],
        action_items=[
            ActionItem(text=s.text, owner=s.owner, due=s.due, at_s=round(s.start, 1)) for s in actions
        ],
        chapters=chapters(sentences, transcript, counts),
        speakers=speaker_notes(sentences, transcript, counts),
        duration_s=transcript.duration_s,
        note=note,
    )


def item_limits(duration_s: float) -> tuple[int, int]:
    """How many decisions and action items a summary of this length keeps: more for longer recordings."""
    return bins_for(duration_s, 5 * 60, 4, 16), bins_for(duration_s, 4 * 60, 5, 24)


def pick(sentences: list[Sentence], kind: str, limit: int, bins: int) -> list[Sentence]:
    """The `limit` best sentences of one kind, spread over the recording; in time order."""
    pool = [s for s in sentences if s.kind == kind]
    if not pool:
        return []
    average = sum(s.words for s in pool) / len(pool)
    # a bin may hold half as many again as its share, so a busy stretch keeps its items; the best
    # `limit` of those are kept
    budget = int(1.5 * limit * average)
    chosen = select(pool, budget, min(bins, limit), (kind,), every_speaker=False)  # type: ignore[arg-type]
    return sorted(sorted(chosen, key=lambda s: -s.score)[:limit], key=lambda s: s.start)


def keyword_chapters(transcript: Transcript) -> list[Chapter]:
    """The transcript's chapters titled by their keywords (what a chapter falls back to)."""
    sentences, counts, _ = ranked(transcript)
    return chapters(sentences, transcript, counts)


def chapters(sentences: list[Sentence], transcript: Transcript, counts: Counter[str]) -> list[Chapter]:
    """Equal stretches of the recording, each titled by the words that set it apart from the rest."""
    if not sentences:
        return []
    count = max(1, min(MAX_CHAPTERS, round(transcript.duration_s / CHAPTER_S)))
    width = max(transcript.duration_s, sentences[-1].end) / count
    parts: list[list[Sentence]] = [[] for _ in range(count)]
    for s in sentences:
        parts[min(int(s.start / width), count - 1)].append(s)
    text = _TEXT.get(transcript.language or "en", _TEXT["en"])
    total = sum(counts.values()) or 1
    result = []
    for n, part in enumerate(parts, start=1):
        if not part:
            continue
        local: Counter[str] = Counter(t for s in part for t in s.terms)
        size = sum(local.values()) or 1
        # words more frequent here than in the whole recording, by a smoothed ratio
        distinct = sorted(
            local,
            key=lambda t: -(local[t] / size) * math.log((local[t] + 1) / (size * counts[t] / total + 1) + 1),
        )
        title = text["part"].format(n=n, topics=", ".join(distinct[:3]))
        result.append(Chapter(title=title, start_s=round(part[0].start, 1)))
    return result


def speaker_notes(
    sentences: list[Sentence], transcript: Transcript, counts: Counter[str]
) -> list[SpeakerNote]:
    """Each speaker's share of the speaking time and what they talked about most."""
    spoken: defaultdict[str, float] = defaultdict(float)
    terms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for segment in transcript.segments:
        if segment.speaker is not None:
            spoken[segment.speaker] += max(0.0, segment.end - segment.start)
    for s in sentences:
        if s.speaker is not None:
            terms[s.speaker].update(s.terms)
    total = sum(spoken.values()) or 1.0
    text = _TEXT.get(transcript.language or "en", _TEXT["en"])
    return [
        SpeakerNote(
            speaker=speaker,
            contribution=(
                text["about"].format(topics=", ".join(_top_terms(terms[speaker], 4)))
                if terms[speaker]
                else text["few"]
            ),
            share=round(spoken[speaker] / total, 3),
        )
        for speaker in transcript.speakers
        if speaker in spoken
    ]


def _top_terms(counts: Counter[str], n: int) -> list[str]:
    return [t for t, _ in counts.most_common(n)]


def spoken_duration(seconds: float) -> str:
    """A recording's length as people say it: "4 h 15", "12 min"."""
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
