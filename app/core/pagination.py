"""Cursor pagination (API.md): ``limit`` (default 50, max 500), opaque ``cursor``, ``Link``.

A cursor is the sort key of the last item returned, so pages stay stable while rows are added.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import orjson
from fastapi import Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Unprocessable, field_error
from app.core.http import dumps, etag_of_bytes, not_modified
from app.core.types import INT64_MAX

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}).")
]
CursorQuery = Annotated[
    str | None, Query(max_length=2000, description="Opaque cursor from `next_cursor`.")
]


IncludeTotalQuery = Annotated[
    bool,
    Query(
        description="Add `total`: how many items match the filters over all pages (one more "
        "count query)."
    ),
]
TOTAL_DESCRIPTION = "How many items match the filters over all pages; only with `include_total`."


class Page(BaseModel, Generic[T]):
    """One page of a list, in a stable order. Ask for the next page with ``cursor=<next_cursor>``
    (the same filters), or follow the ``Link: <…>; rel="next"`` header; the last page has
    ``next_cursor`` null."""

    items: list[T] = Field(description="This page's items (at most `limit`).")
    next_cursor: str | None = Field(
        default=None,
        description="Opaque: pass it back as `cursor` for the next page; null on the last page.",
    )
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


async def count_matching(session: AsyncSession, statement: Select[Any]) -> int:
    """How many rows ``statement`` (the list's filters, before cursor, order and limit) selects."""
    counted = select(func.count()).select_from(statement.order_by(None).limit(None).subquery())
    return int(await session.scalar(counted) or 0)


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


# The types a cursor value may have, each checked (and converted) on the way in.
CursorPart = type[int] | type[str] | type[UUID] | type[datetime]
MAX_CURSOR_TEXT = 500


def _cursor_part(value: Any, part: CursorPart) -> Any:
    """``value`` as ``part``, or raise ValueError; never a value the database would refuse."""
    if part is int:
        # JSON true/false are ints to Python; the bounds are those of a BIGINT parameter.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("not an integer")
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise ValueError("integer out of range")
        return value
    if not isinstance(value, str) or len(value) > MAX_CURSOR_TEXT or "\x00" in value:
        raise ValueError("not a short string")
    if part is str:
        return value
    if part is UUID:
        return UUID(value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("not an instant")
    return moment.astimezone(UTC)


def decode_cursor(cursor: str, *parts: CursorPart) -> list[Any]:
    """The values of a cursor made by :func:`encode_cursor`, one per ``parts`` and each of that
    type (``int``, ``str``, ``UUID`` or an aware ``datetime``), or 422 ``invalid_cursor``.

    Cursors come back from clients: every value is checked here, so that a forged one is refused
    before it reaches a query (a string where the column holds numbers, an integer beyond 64
    bits, a naive time, a NUL character: each a database error, not a bad request, otherwise).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != len(parts):
        raise invalid_cursor()
    try:
        return [_cursor_part(value, part) for value, part in zip(values, parts, strict=True)]
    except (ValueError, OverflowError) as exc:
        raise invalid_cursor() from exc


def decode_updated_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The ``(updated_at, id)`` key of lists in sync order, from their cursor (None: first page)."""
    if cursor is None:
        return None
    moment, last_id = decode_cursor(cursor, datetime, UUID)
    return moment, last_id


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
    *,
    total: int | None = None,
) -> Response:
    """A page of plain dicts (hot lists built from Core rows) with its ``Link`` header, ``total``
    when asked for, and a strong ``ETag`` of its bytes (304 on a matching ``If-None-Match``)."""
    content: dict[str, Any] = {"items": items, "next_cursor": next_cursor}
    if total is not None:
        content["total"] = total
    return _tagged(request, dumps(content), next_cursor, headers)


def model_page_response(
    request: Request, page: BaseModel, headers: dict[str, str] | None = None
) -> Response:
    """:func:`page_response` for a list built as a pydantic page (``Page[...]``)."""
    content = page.model_dump(mode="json", exclude_none=False)
    if content.get("total") is None:
        content.pop("total", None)
    return _tagged(request, dumps(content), content.get("next_cursor"), headers)


def tagged_json(request: Request, content: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON body with a strong ``ETag`` of its bytes, serialised once (the unit tree is
    hundreds of kilobytes), or 304 when ``If-None-Match`` names it."""
    return _tagged(request, dumps(content), None, headers)


def _tagged(
    request: Request, body: bytes, next_cursor: str | None, headers: dict[str, str] | None
) -> Response:
    # A list is cheap to tag after it is built: the hash of its bytes. The client still saves
    # the transfer and the parsing, and a poller learns "nothing changed" from the status.
    etag = etag_of_bytes(body)
    vary = (headers or {}).get("Vary")
    cached = not_modified(request, etag, vary=vary)
    if cached is not None:
        set_link_header(request, cached, next_cursor)
        return cached
    response = Response(
        body, media_type="application/json", headers={**(headers or {}), "ETag": etag}
    )
    set_link_header(request, response, next_cursor)
    return response


def page_from_rows(rows: Sequence[T], limit: int, key: Any) -> tuple[list[T], str | None]:
    """Rows were fetched with ``limit + 1``: trim, and make the cursor from the last kept row."""
    if len(rows) <= limit:
        return list(rows), None
    kept = list(rows[:limit])
    return kept, encode_cursor(key(kept[-1]))
