"""Cursor pagination (API.md): ``limit`` (default 50, max 500), opaque ``cursor``, ``Link``.

A cursor is the sort key of the last item returned, so pages stay stable while rows are added.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import orjson
from fastapi import Query, Request, Response
from pydantic import BaseModel

from app.core.errors import Unprocessable, field_error
from app.core.http import FastJSONResponse

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
]
CursorQuery = Annotated[
    str | None, Query(max_length=2000, description="Opaque cursor from `next_cursor`.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _default(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps(list(values), default=_default)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> Unprocessable:
    return Unprocessable(
        "The cursor is not one this service issued (or it has expired).",
        code="invalid_cursor",
        errors=[field_error(["query", "cursor"], "malformed cursor", "invalid_cursor")],
    )


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """Decode a cursor made by :func:`encode_cursor` carrying ``size`` values, or raise 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise invalid_cursor()
    return values


def decode_updated_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The ``(updated_at, id)`` key of lists in sync order, from their cursor (None: first page)."""
    if cursor is None:
        return None
    moment, last_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(moment), UUID(last_id)
    except (TypeError, ValueError) as exc:
        raise invalid_cursor() from exc


def set_link_header(request: Request, response: Response, next_cursor: str | None) -> None:
    if next_cursor is None:
        return
    url = request.url.include_query_params(cursor=next_cursor)
    response.headers["Link"] = f'<{url}>; rel="next"'


def page_response(
    request: Request,
    items: list[Any],
    next_cursor: str | None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page of plain dicts (hot lists built from Core rows) with its ``Link`` header."""
    response = FastJSONResponse({"items": items, "next_cursor": next_cursor}, headers=headers)
    set_link_header(request, response, next_cursor)
    return response


def page_from_rows(rows: Sequence[T], limit: int, key: Any) -> tuple[list[T], str | None]:
    """Rows were fetched with ``limit + 1``: trim, and make the cursor from the last kept row."""
    if len(rows) <= limit:
        return list(rows), None
    kept = list(rows[:limit])
    return kept, encode_cursor(key(kept[-1]))
