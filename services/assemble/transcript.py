"""What the chunk transcripts say about the whole transcript: its language and the models that made it.

The transcript's types live in contracts.artifacts; the merge of chunks into words, in exports.merge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from exports.merge import ChunkLike, chunk_transcripts


def transcript_language(chunks: Sequence[ChunkLike]) -> str | None:
    """The language most words were transcribed in; by chunk count when no chunk has words."""
    by_words: Counter[str] = Counter()
    by_chunks: Counter[str] = Counter()
    for chunk in chunk_transcripts(chunks):
        language = chunk.language
        if language:
            by_chunks[language] += 1
            by_words[language] += sum(len(s.words) for s in chunk.segments)
    counts = by_words if sum(by_words.values()) else by_chunks
    return counts.most_common(1)[0][0] if counts else None


def transcript_model(chunks: Sequence[ChunkLike]) -> dict[str, Any]:
    """What transcribed the chunks: model name(s) and how many chunks each language had."""
    typed = chunk_transcripts(chunks)
    names = sorted({str(c.model) for c in typed if c.model})
    languages = Counter(str(c.language) for c in typed if c.language)
    return {
        "transcribe": names[0] if len(names) == 1 else names,
        "chunk_languages": dict(sorted(languages.items())),
    }
