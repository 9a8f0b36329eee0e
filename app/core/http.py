"""Small HTTP helpers: fast JSON responses, ETags and preconditions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

from app.core.errors import PreconditionFailed

JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "__str__"):
        return str(value)
    raise TypeError(type(value).__name__)


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default, option=JSON_OPTIONS)


class FastJSONResponse(Response):
    """orjson-encoded response for hot paths that build plain dicts from Core rows."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with ``Z``, the same text pydantic produces for response models."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def etag_of_bytes(body: bytes | memoryview) -> str:
    return f'W/"{hashlib.blake2b(bytes(body), digest_size=12).hexdigest()}"'


def etag_for(*parts: Any) -> str:
    return etag_of_bytes(dumps(parts))


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def not_modified(request: Request, etag: str) -> Response | None:
    """304 when ``If-None-Match`` matches the current ETag."""
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return None


def cached_json(request: Request, body: Any, etag: str | None = None) -> Response:
    """``body`` with its ETag (by default one of the body itself), or 304 when the client has it."""
    tag = etag or etag_for(body)
    return not_modified(request, tag) or FastJSONResponse(body, headers={"ETag": tag})


def check_if_match(request: Request, etag: str) -> None:
    """412 when ``If-Match`` is present and names another version."""
    header = request.headers.get("if-match")
    if header is not None and not _etag_matches(header, etag):
        raise PreconditionFailed(
            "The resource changed since you read it (If-Match does not match its ETag). "
            "Fetch it again and retry.",
            code="precondition_failed",
            extra={"current_etag": etag},
        )
