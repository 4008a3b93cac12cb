"""The JSON schema of every contract type, snapshot-tested so drift shows in review."""

from __future__ import annotations

import msgspec

from contracts.artifacts import ARTIFACT_TYPES
from contracts.events import DeadLetter, PipelineEvent, StageProgress
from contracts.options import JobOptions
from contracts.state import JobState


def contract_schema() -> dict[str, object]:
    """One JSON schema document: events, options, progress, dead letters, job state and artifacts."""
    (_, *_), components = msgspec.json.schema_components(
        [PipelineEvent, JobOptions, StageProgress, DeadLetter, JobState, *ARTIFACT_TYPES],
        ref_template="#/$defs/{name}",
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": components}


if __name__ == "__main__":
    import json

    print(json.dumps(contract_schema(), indent=2, sort_keys=True))
