"""The stages of the pipeline graph in order, and the module that runs each as a service."""

from __future__ import annotations

from contracts.pipeline import GRAPH, STEPS

# The steps of a job in order (notify, an observer, is not one of them).
PIPELINE: tuple[str, ...] = STEPS

# stage -> module with a main(): services/<stage>/main.py, one per stage of the graph.
SERVICE_MODULES: dict[str, str] = {spec.name: f"services.{spec.name}.main" for spec in GRAPH}

BUILT_STAGES: tuple[str, ...] = tuple(s for s in PIPELINE if s in SERVICE_MODULES)
NOT_BUILT_STAGES: tuple[str, ...] = tuple(s for s in PIPELINE if s not in SERVICE_MODULES)
