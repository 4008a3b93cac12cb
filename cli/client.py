"""A small client of the Aodio HTTP API (services/ingest), used by every CLI command.

Errors, each with a message a user can act on:

    ApiError (a CliError)
     ├── ApiUnreachable    nothing answers at the URL
     ├── Unauthorized      401: no key, or a wrong one
     ├── NotFound          404: unknown job (or another key's)
     ├── RouteMissing      404/405 from the framework: this server predates the route
     ├── NotReady          409: the result does not exist yet
     └── NotSupported      501: e.g. presigned uploads on directory storage

Answers decode into the API's own types (contracts/api.py), with decoders built once below; a job's
state stays the JSON object the API sent (`aodio show --json` prints it as it came, and the live view
merges server-sent states of the same shape).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import msgspec

from cli.errors import CliError
from cli.sse import ServerEvent, SseDecoder
from contracts import api
from contracts.api import (
    DeadLetterPage,
    DeadLetterRetried,
    JobAccepted,
    JobPage,
    PeoplePage,
    Person,
    ReplayAccepted,
    SpeakerNamesSet,
    SpeakerPerson,
    StoredDeadLetter,
    UploadStarted,
)
from contracts.artifacts import Glossary

__all__ = [
    "AodioClient",
    "ApiError",
    "ApiUnreachable",
    "NotFound",
    "NotReady",
    "NotSupported",
    "RouteMissing",
    "Unauthorized",
]

# The framework's own answers for a path or method it has no route for (FastAPI/Starlette).
_FRAMEWORK_DETAILS = {"Not Found", "Method Not Allowed"}
_IO_CHUNK = 1024 * 1024

_accepted = api.decoder(JobAccepted)
_job_page = api.decoder(JobPage)
_job_state = msgspec.json.Decoder(dict[str, Any])  # contracts.state.JobState's shape, kept as JSON
_speaker_names = api.decoder(SpeakerNamesSet)
_replay = api.decoder(ReplayAccepted)
_letter_page = api.decoder(DeadLetterPage)
_letter = api.decoder(StoredDeadLetter)
_retried = api.decoder(DeadLetterRetried)
_upload = api.decoder(UploadStarted)
_glossary = api.decoder(Glossary)
_people = api.decoder(PeoplePage)
_person = api.decoder(Person)
_speaker_person = api.decoder(SpeakerPerson)


class ApiError(CliError):
    """The API answered with an error, or could not be reached; the message says which and why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiUnreachable(ApiError):
    """Nothing answers at the API's URL."""


class Unauthorized(ApiError):
    """401: the API wants a key, or refused the one given."""


class NotFound(ApiError):
    """404: no such job (for this key)."""


class RouteMissing(ApiError):
    """The server has no such route: an older API than this CLI."""


class NotReady(ApiError):
    """409: the job has not produced that result yet."""


class NotSupported(ApiError):
    """501: the deployment does not offer this (e.g. presigned uploads without S3)."""


class _CountingReader:
    """A file wrapper that reports how many bytes have been read (for the upload progress bar)."""

    def __init__(self, handle: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._handle, self._on_read = handle, on_read

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._on_read(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while data := self.read(_IO_CHUNK):
            yield data


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        detail = response.text
    return detail if isinstance(detail, str) else json.dumps(detail)


class AodioClient:
    """One API at base_url; api_key, when given, goes in every request's Authorization header."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.has_key = bool(api_key)
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AodioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- errors

    def unreachable(self, exc: Exception) -> ApiUnreachable:
        reason = type(exc).__name__ if not str(exc) else str(exc)
        return ApiUnreachable(f"no Aodio API at {self.base_url} ({reason}); start one with `aodio up`")

    def error_for(self, response: httpx.Response) -> ApiError:
        """The error a failed response means, worded for the person at the terminal."""
        status, detail = response.status_code, _detail(response)
        if status == 401:
            if self.has_key:
                return Unauthorized(
                    f"the API at {self.base_url} refused the key: check AODIO_API_KEY or --api-key", status
                )
            return Unauthorized(
                f"the API at {self.base_url} wants a key: set AODIO_API_KEY (or pass --api-key)", status
            )
        if status in (404, 405) and detail in _FRAMEWORK_DETAILS:
            path = response.request.url.path
            return RouteMissing(f"the API at {self.base_url} has no {response.request.method} {path}", status)
        kind = {404: NotFound, 409: NotReady, 501: NotSupported}.get(status, ApiError)
        return kind(detail if status in (404, 409) else f"{status}: {detail}", status)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self.unreachable(exc) from exc
        if response.status_code >= 400:
            raise self.error_for(response)
        return response

    # -- jobs

    def healthy(self) -> bool:
        try:
            return self._http.get("/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def submit(self, path: Path, options: dict[str, Any], on_read: Callable[[int], None]) -> JobAccepted:
        """Upload path as multipart to POST /v1/jobs; on_read(n) is called as bytes leave."""
        with path.open("rb") as handle:
            files = {"file": (path.name, _CountingReader(handle, on_read), "application/octet-stream")}
            data = {"options": json.dumps(options)}
            reply = self._call("POST", "/v1/jobs", files=files, data=data, timeout=None)
            return _accepted.decode(reply.content)

    def job(self, job_id: str) -> dict[str, Any]:
        """The job's state as the API sent it (contracts.state.JobState's JSON)."""
        return _job_state.decode(self._call("GET", f"/v1/jobs/{job_id}").content)

    def jobs(self, limit: int = 20, before: str | None = None) -> JobPage:
        """One page of jobs, newest first; next_before is where the next page starts (None: last)."""
        params: dict[str, Any] = {"limit": limit}
        if before:
            params["before"] = before
        return _job_page.decode(self._call("GET", "/v1/jobs", params=params).content)

    def delete(self, job_id: str) -> None:
        self._call("DELETE", f"/v1/jobs/{job_id}")

    def set_speakers(self, job_id: str, names: dict[str, str]) -> dict[str, str]:
        reply = self._call("PUT", f"/v1/jobs/{job_id}/speakers", json=names)
        return _speaker_names.decode(reply.content).speaker_names

    def replay(self, job_id: str, from_stage: str, options: dict[str, Any]) -> ReplayAccepted:
        body = {"from": from_stage, "options": options}
        return _replay.decode(self._call("POST", f"/v1/jobs/{job_id}/replay", json=body).content)

    # -- dead letters

    def dead_letters(
        self, after: int = 0, stage: str | None = None, job_id: str | None = None, limit: int = 200
    ) -> DeadLetterPage:
        params: dict[str, Any] = {"limit": limit, "after": after}
        params.update({k: v for k, v in (("stage", stage), ("job_id", job_id)) if v})
        return _letter_page.decode(self._call("GET", "/v1/dead-letters", params=params).content)

    def dead_letter(self, letter_id: str) -> StoredDeadLetter:
        return _letter.decode(self._call("GET", f"/v1/dead-letters/{letter_id}").content)

    def retry_dead_letter(self, letter_id: str) -> DeadLetterRetried:
        return _retried.decode(self._call("POST", f"/v1/dead-letters/{letter_id}/retry").content)

    def drop_dead_letter(self, letter_id: str) -> None:
        self._call("DELETE", f"/v1/dead-letters/{letter_id}")

    # -- people (voice profiles)

    def people(self) -> PeoplePage:
        return _people.decode(self._call("GET", "/v1/people").content)

    def person(self, person_id: str) -> Person:
        return _person.decode(self._call("GET", f"/v1/people/{person_id}").content)

    def add_person(self, name: str) -> Person:
        return _person.decode(self._call("POST", "/v1/people", json={"name": name}).content)

    def rename_person(self, person_id: str, name: str) -> Person:
        return _person.decode(self._call("PATCH", f"/v1/people/{person_id}", json={"name": name}).content)

    def merge_people(self, person_id: str, from_id: str) -> Person:
        reply = self._call("POST", f"/v1/people/{person_id}/merge", json={"from": from_id})
        return _person.decode(reply.content)

    def delete_person(self, person_id: str) -> None:
        self._call("DELETE", f"/v1/people/{person_id}")

    def enrol_sample(self, person_id: str, path: Path, on_read: Callable[[int], None]) -> JobAccepted:
        """Upload a recording of the person: a job that adds its main speaker's voice to the profile."""
        with path.open("rb") as handle:
            files = {"file": (path.name, _CountingReader(handle, on_read), "application/octet-stream")}
            reply = self._call("POST", f"/v1/people/{person_id}/samples", files=files, timeout=None)
            return _accepted.decode(reply.content)

    def speaker_is(
        self, job_id: str, label: str, person_id: str | None = None, name: str | None = None
    ) -> SpeakerPerson:
        body = {"person_id": person_id} if person_id is not None else {"name": name}
        reply = self._call("PUT", f"/v1/jobs/{job_id}/speakers/{label}/person", json=body)
        return _speaker_person.decode(reply.content)

    def speaker_is_not(self, job_id: str, label: str, person_id: str | None = None) -> SpeakerPerson:
        params = {"person_id": person_id} if person_id else None
        reply = self._call("DELETE", f"/v1/jobs/{job_id}/speakers/{label}/person", params=params)
        return _speaker_person.decode(reply.content)

    # -- the key's glossary

    def glossary(self) -> Glossary:
        return _glossary.decode(self._call("GET", "/v1/glossary").content)

    def set_glossary(self, terms: list[str]) -> Glossary:
        return _glossary.decode(self._call("PUT", "/v1/glossary", json={"terms": terms}).content)

    # -- presigned uploads (S3 deployments)

    def create_upload(self, filename: str, size_bytes: int, options: dict[str, Any]) -> UploadStarted:
        body = {"filename": filename, "size_bytes": size_bytes, "options": options}
        return _upload.decode(self._call("POST", "/v1/uploads", json=body).content)

    def complete_upload(self, complete_url: str, parts: list[dict[str, Any]]) -> JobAccepted:
        return _accepted.decode(self._call("POST", complete_url, json={"parts": parts}).content)

    # -- results

    @contextmanager
    def open_stream(self, path: str, params: dict[str, Any] | None = None) -> Iterator[httpx.Response]:
        """A streamed GET of path; raises the ApiError the response means."""
        try:
            with self._http.stream("GET", path, params=params, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self.error_for(response)
                yield response
        except httpx.TransportError as exc:
            raise self.unreachable(exc) from exc

    def save(self, path: str, destination: Path, params: dict[str, Any] | None = None) -> None:
        """Stream a GET into destination, atomically (a .part file renamed at the end)."""
        partial = destination.with_name(destination.name + ".part")
        try:
            with self.open_stream(path, params) as response, partial.open("wb") as out:
                for chunk in response.iter_bytes(_IO_CHUNK):
                    out.write(chunk)
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)

    def fetch(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        return self._call("GET", path, params=params, timeout=None).content

    # -- live state

    def events(self, job_id: str, read_timeout_s: float = 60.0) -> Iterator[ServerEvent]:
        """The job's server-sent events until the server closes the stream.

        Raises RouteMissing when the server has no events route, ApiUnreachable when the connection
        fails or drops (the caller decides whether to reconnect).
        """
        timeout = httpx.Timeout(10.0, read=read_timeout_s)  # keepalives come every 15 s
        headers = {"accept": "text/event-stream", "cache-control": "no-cache"}
        try:
            with self._http.stream(
                "GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self.error_for(response)
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    raise RouteMissing(f"the API at {self.base_url} does not stream job events")
                decoder = SseDecoder()
                for line in response.iter_lines():
                    if (event := decoder.feed(line)) is not None:
                        yield event
        except httpx.TransportError as exc:
            raise self.unreachable(exc) from exc


def remote_command(
    command: Callable[[AodioClient, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """A CLI command run against the API named by --api / --api-key."""

    def run(args: argparse.Namespace) -> int:
        with AodioClient(args.api, args.api_key) as client:
            return command(client, args)

    return run
