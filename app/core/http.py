"""Small HTTP helpers: fast JSON responses, ETags and preconditions, the response language."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

import orjson
from fastapi import Depends, Header, Request, Response
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
    """A strong ETag of exact bytes: equal tags mean byte-identical representations."""
    return f'"{hashlib.blake2b(bytes(body), digest_size=12).hexdigest()}"'


def etag_for(*parts: Any) -> str:
    return etag_of_bytes(dumps(parts))


def revision_etag(resource_id: Any, revision: int) -> str:
    """The strong ETag of a resource that keeps a ``revision`` counter: every write bumps the
    counter, so (id, revision) names the version without rebuilding the representation."""
    return f'"{resource_id}.{revision}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _weak_match(header: str | None, etag: str) -> bool:
    """``If-None-Match``: the weak comparison (RFC 9110 §8.8.3.2), ``W/`` ignored."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == wanted for tag in _tags(header))


def strong_match(header: str, etag: str) -> bool:
    """``If-Match``: the strong comparison (RFC 9110 §13.1.1) — both tags strong and equal, so a
    weak ``W/"…"`` tag never matches; ``*`` matches any current representation."""
    if header.strip() == "*":
        return True
    return not etag.startswith("W/") and etag in _tags(header)


def not_modified(request: Request, etag: str, *, vary: str | None = None) -> Response | None:
    """304 when ``If-None-Match`` matches the current ETag.

    ``vary``: the request headers the representation depends on; a 304 carries the same ``Vary``
    as the 200 it stands for (RFC 9110 §15.4.5), so that caches key it the same way.
    """
    if _weak_match(request.headers.get("if-none-match"), etag):
        headers = {"ETag": etag}
        if vary is not None:
            headers["Vary"] = vary
        return Response(status_code=304, headers=headers)
    return None


# The OpenAPI ``responses`` entry of a read that answers 304 to a matching If-None-Match.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match)."}
}


def cached_json(
    request: Request, body: Any, etag: str | None = None, *, vary: str | None = None
) -> Response:
    """``body`` with its ETag (by default one of the body itself), or 304 when the client has it.

    ``vary`` (e.g. :data:`ACCEPT_LANGUAGE`) is sent as ``Vary`` on both the 200 and the 304.
    """
    tag = etag or etag_for(body)
    headers = {"ETag": tag}
    if vary is not None:
        headers["Vary"] = vary
    return not_modified(request, tag, vary=vary) or FastJSONResponse(body, headers=headers)


def require_match(if_match: str | None, etag: str, *, what: str = "The resource") -> None:
    """412 ``precondition_failed`` when ``If-Match`` is given and names another version.

    Services call it after loading the row ``FOR UPDATE`` (app.db.locking), so that of two
    concurrent writes sending the same tag exactly one passes."""
    if if_match is not None and not strong_match(if_match, etag):
        raise PreconditionFailed(
            f"{what} changed since you read it (If-Match does not match its ETag). "
            "Fetch it again and retry.",
            code="precondition_failed",
            extra={"current_etag": etag},
        )


def check_if_match(request: Request, etag: str) -> None:
    """:func:`require_match` with the request's ``If-Match`` header."""
    require_match(request.headers.get("if-match"), etag)


# ``if_match: IfMatch = None`` in a route: the header, documented in OpenAPI, for the service.
IfMatch = Annotated[
    str | None,
    Header(
        description="The ETag you read; 412 `precondition_failed` when it is no longer current."
    ),
]


# --- the response language ----------------------------------------------------------------------

Language = Literal["vi", "en"]
# The ``Vary`` value of a response whose body depends on the language (labels, names).
ACCEPT_LANGUAGE: Final = "Accept-Language"
VARY_LANGUAGE: Final[dict[str, str]] = {"Vary": ACCEPT_LANGUAGE}


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def preferred_language(header: str | None) -> Language:
    """The first of ``vi`` / ``en`` in an ``Accept-Language`` value by preference (q-values
    honoured, ``q=0`` meaning "not this one", ties in the order given); Vietnamese when neither
    is asked for. ``fr, en;q=0.8`` is English; ``en-GB`` is English; ``*`` is Vietnamese."""
    if not header:
        return "vi"
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, *params = part.split(";")
        primary = tag.strip().lower().split("-")[0]
        quality = _quality(params)
        if primary in ("vi", "en") and quality > 0:
            ranked.append((-quality, position, primary))
    if not ranked:
        return "vi"
    return "en" if min(ranked)[2] == "en" else "vi"


# ``async``: a plain ``def`` dependency runs in the thread pool, a hop per request (issue 16).
async def _language(
    accept_language: Annotated[
        str | None,
        Header(description="`vi` (default) or `en`, q-values honoured: labels in that language."),
    ] = None,
) -> Language:
    return preferred_language(accept_language)


# ``lang: LanguageDep`` in a route: the caller's language, and the header documented in OpenAPI.
# A response that depends on it sends ``Vary: Accept-Language`` (``cached_json(..., vary=…)``).
LanguageDep = Annotated[Language, Depends(_language)]
