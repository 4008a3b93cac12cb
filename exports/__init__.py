"""What a job's results look like to people and tools: every export format, depending only on contracts.

    transcript.py  a Transcript as JSON, SRT, WebVTT, plain text and Markdown; speakers renamed
    subtitles.py   the SRT and WebVTT cues: the usual subtitle rules (lines, reading speed, durations)
    text.py        where sentences and clauses end; which words are only punctuation
    summary.py     a Summary as JSON and Markdown (headings in its language); speakers renamed
    docx.py        the summary and the transcript as one Word document (python-docx: ingest only)
    formats.py     the one table of formats (content type, renderer) assemble, summarize and ingest use
    merge.py       chunk transcripts merged into one timeline of words (the transcript, the partial one)

A new export is one renderer and one entry in formats.py. Nothing here imports a service.
"""
