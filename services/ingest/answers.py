"""The routes' JSON answers: encoded with msgspec, documented in /docs from the same structs.

FastAPI's `response_model` wants pydantic; the answers are msgspec structs (contracts/api.py), so
each route instead returns `reply(answer)` and declares `responses=answers(...)`, which points the
OpenAPI document at `#/components/schemas/<Struct>`; `DocumentedApp.openapi()` adds those
components, the JSON schema msgspec derives from the structs (contracts/api.openapi_components).
One source of truth: no pydantic twin to keep in step. A 422 may also be FastAPI's own
HTTPValidationError (a query or body it could not validate), so both are documented.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.responses import Response

from contracts import api
from contracts.api import ErrorDetail

__all__ = ["JSON", "DocumentedApp", "answers", "formats_media", "refusals", "reply", "streamed"]

JSON = "application/json"
_REF = "#/components/schemas/"

# What each refusal means, for /docs; every one answers an ErrorDetail.
_REFUSALS = {
    400: "The request is malformed: the detail says what to change",
    401: "No API key, or a wrong one (send `Authorization: Bearer <key>`)",
    404: "No such job or dead letter (or it belongs to another key)",
    409: "Not possible in the job's state now: the detail says why",
    410: "Removed by retention: the detail names the rule",
    413: "The upload is larger than the limit (or than what is left of the key's day)",
    415: "The upload is not multipart/form-data with a 'file' field",
    416: "The range is outside the file",
    422: "The options or names are not valid: the detail says which",
    429: "Over a limit of this key (jobs at once, bytes a day): retry later",
    501: "This deployment does not offer it (presigned uploads need S3 storage)",
    503: "NATS or storage is not answering: retry in a few seconds",
    507: "Storage is full",
}


def reply(answer: msgspec.Struct, status: int = 200) -> Response:
    """The answer as a JSON response."""
    return Response(api.encode(answer), status_code=status, media_type=JSON)


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route can give, each an ErrorDetail."""
    detail = {"$ref": _REF + ErrorDetail.__name__}
    either = {"anyOf": [detail, {"$ref": _REF + "HTTPValidationError"}]}
    return {
        status: {
            "description": _REFUSALS[status],
            "content": {JSON: {"schema": either if status == 422 else detail}},
        }
        for status in statuses
    }


def answers(
    answer: type[msgspec.Struct],
    *errors: int,
    status: int = 200,
    other_media: Mapping[str, str] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route answering `answer` as JSON (other_media: media type -> description)."""
    content: dict[str, Any] = {JSON: {"schema": {"$ref": _REF + answer.__name__}}}
    for media, description in (other_media or {}).items():
        content[media] = {"schema": {"type": "string", "description": description}}
    return {status: {"content": content}} | refusals(*errors)


class DocumentedApp(FastAPI):
    """A FastAPI app whose OpenAPI document carries the schema of every answer type (API_TYPES)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in api.openapi_components(_REF).items():
                schemas.setdefault(name, schema)  # FastAPI's own (request bodies) keep theirs
            self.openapi_schema = document
        return self.openapi_schema


def formats_media(formats: Mapping[str, tuple[str, object]]) -> dict[str, str]:
    """The media types of an export table other than JSON (exports/formats.py), for `other_media`."""
    return {media: f"the {fmt} export" for fmt, (media, _) in formats.items() if media != JSON}


def streamed(
    media: str, description: str, *errors: int, status: int = 200
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route streaming what is not JSON (with `response_class=StreamingResponse`)."""
    schema = {"type": "string"} if media.startswith("text/") else {"type": "string", "format": "binary"}
    content = {media: {"schema": schema}}
    return {status: {"description": description, "content": content}} | refusals(*errors)
