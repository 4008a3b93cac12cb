"""A handler's guard on what it receives: the events the pipeline graph routes to its stage."""

from __future__ import annotations

from typing import TypeVar

from contracts.events import Event
from contracts.pipeline import StageSpec
from runtime.errors import PermanentError

E = TypeVar("E", bound=Event)


def expect_input(spec: StageSpec[E], event: Event) -> E:
    """The event as one of the stage's inputs; PermanentError when the graph does not route it there."""
    if isinstance(event, spec.inputs):
        return event
    expected = " or ".join(str(kind.__struct_config__.tag) for kind in spec.inputs)
    raise PermanentError(f"{spec.name} expects {expected}, got {type(event).__name__}")
