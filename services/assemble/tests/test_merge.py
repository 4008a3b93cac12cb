"""merge_chunks(): one timeline of words that reads back as the transcriber wrote it."""

from __future__ import annotations

from contracts.artifacts import join_words
from exports.merge import merge_chunks
from services.assemble.tests.build import chunk, raw_word, sentence
from services.assemble.transcript import transcript_language, transcript_model


def test_words_join_back_into_natural_text() -> None:
    words = [
        raw_word(0.0, 0.3, " C'est"),
        raw_word(0.3, 0.5, " l'"),
        raw_word(0.5, 0.8, "homme"),
        raw_word(0.8, 1.0, "  qui  "),
        raw_word(1.0, 1.1, " "),
        raw_word(1.1, 1.4, " parle."),
    ]
    merged = merge_chunks([chunk(0, 0.0, 2.0, words)])
    assert join_words(merged) == "C'est l'homme qui parle."
    assert [w.text for w in merged] == [" C'est", " l'", "homme", " qui", " parle."]


def test_chunks_are_taken_in_index_order_and_sorted_by_time() -> None:
    late = chunk(1, 10.0, 20.0, sentence(10.0, "second part"))
    early = chunk(0, 0.0, 10.0, sentence(0.0, "first part"))
    merged = merge_chunks([late, early])
    assert join_words(merged) == "first part second part"
    assert [w.start for w in merged] == sorted(w.start for w in merged)


def test_empty_chunks_and_segments_without_words_are_harmless() -> None:
    silent = chunk(0, 0.0, 10.0, [], language=None)
    speech = chunk(1, 10.0, 20.0, sentence(10.0, "hello there"))
    assert join_words(merge_chunks([silent, speech])) == "hello there"
    assert merge_chunks([]) == []


def test_a_word_heard_twice_at_a_chunk_boundary_is_kept_once() -> None:
    first = chunk(0, 0.0, 10.0, [raw_word(9.0, 9.4, " we"), raw_word(9.5, 9.95, " agree.")])
    second = chunk(1, 10.0, 20.0, [raw_word(9.8, 10.2, " Agree"), raw_word(10.4, 10.8, " then")])
    assert join_words(merge_chunks([first, second])) == "we agree. then"


def test_a_repeated_word_after_the_boundary_is_kept() -> None:
    """Said twice on purpose: the second starts after the chunk's end, so it is not a duplicate."""
    first = chunk(0, 0.0, 10.0, [raw_word(9.5, 9.9, " no")])
    second = chunk(1, 10.0, 20.0, [raw_word(10.0, 10.3, " no"), raw_word(10.4, 10.8, " no")])
    assert join_words(merge_chunks([first, second])) == "no no no"


def test_a_different_word_before_the_boundary_is_kept() -> None:
    first = chunk(0, 0.0, 10.0, [raw_word(9.5, 9.9, " yes")])
    second = chunk(1, 10.0, 20.0, [raw_word(9.9, 10.2, " and")])
    assert join_words(merge_chunks([first, second])) == "yes and"


def test_language_and_model_follow_the_words() -> None:
    chunks = [
        chunk(0, 0.0, 10.0, sentence(0.0, "un deux trois quatre"), language="fr"),
        chunk(1, 10.0, 20.0, sentence(10.0, "one"), language="en"),
        chunk(2, 20.0, 30.0, [], language=None),
    ]
    assert transcript_language(chunks) == "fr"
    assert transcript_model(chunks) == {"transcribe": "base", "chunk_languages": {"en": 1, "fr": 1}}
    assert transcript_language([chunk(0, 0.0, 1.0, [], language="de")]) == "de"
    assert transcript_language([]) is None
