"""Which stages exist, in pipeline order, and the module that runs each as a service."""

from __future__ import annotations

from contracts.events import STAGES

PIPELINE: tuple[str, ...] = STAGES

# stage -> module with a main(); a stage missing here is not built yet.
SERVICE_MODULES: dict[str, str] = {
    "ingest": "services.ingest.main",
    "transcode": "services.transcode.main",
    "diarize": "services.diarize.main",
    "transcribe": "services.transcribe.main",
    "assemble": "services.assemble.main",
    "summarize": "services.summarize.main",
    "notify": "services.notify.main",  # webhooks: observes the pipeline, not a step of it
}

BUILT_STAGES: tuple[str, ...] = tuple(s for s in PIPELINE if s in SERVICE_MODULES)
NOT_BUILT_STAGES: tuple[str, ...] = tuple(s for s in PIPELINE if s not in SERVICE_MODULES)
