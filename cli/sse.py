"""Server-sent events: a line-at-a-time decoder, as the HTML standard's event stream parser reads them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerEvent:
    """One dispatched event: its type ("message" when unnamed), its data lines joined by newlines."""

    event: str
    data: str
    id: str | None = None
    retry_ms: int | None = None


class SseDecoder:
    """Feed it lines (without their line ending); a blank line dispatches the event built so far."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self._event = ""
        self._data: list[str] = []
        self._retry_ms: int | None = None

    def feed(self, line: str) -> ServerEvent | None:
        """The event this line completes, or None."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):  # a comment, e.g. ": keepalive"
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self.last_event_id = value
        elif field == "retry" and value.isdigit():
            self._retry_ms = int(value)
        return None  # unknown fields are ignored, as the standard says

    def _dispatch(self) -> ServerEvent | None:
        event, data, retry_ms = self._event or "message", self._data, self._retry_ms
        self._event, self._data, self._retry_ms = "", [], None
        if not data:
            return None  # the standard drops events without data
        return ServerEvent(event, "\n".join(data), self.last_event_id, retry_ms)


def parse_events(lines: Iterable[str]) -> Iterator[ServerEvent]:
    """Every complete event in a stream of lines; an event cut off by the stream's end is dropped."""
    decoder = SseDecoder()
    for line in lines:
        if (event := decoder.feed(line.rstrip("\r\n"))) is not None:
            yield event
