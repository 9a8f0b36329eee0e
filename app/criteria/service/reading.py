"""Reads: lists, the nested tree (cached per process for published sets), the export."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.http import etag_for
from app.core.pagination import decode_updated_cursor, page_from_rows
from app.criteria import repository
from app.criteria.tree import Language, Row, Tree, assemble, render, summary

# Published and retired sets never change (a re-issue by the seeder bumps their version), so
# their trees are kept per process, keyed by what the ETag is made of.
_CACHE_SIZE = 64
_cache: OrderedDict[tuple[uuid.UUID, int, datetime], Tree] = OrderedDict()


def etag(head: Row) -> str:
    return etag_for(str(head["id"]), head["version"], head["updated_at"].isoformat())


def not_found(set_id: uuid.UUID) -> NotFound:
    return NotFound(f"No criteria set with id {set_id}.", code="criteria_set_not_found")


async def head_or_404(session: AsyncSession, set_id: uuid.UUID) -> Row:
    head = await repository.get_head(session, set_id)
    if head is None:
        raise not_found(set_id)
    return head


async def build_tree(session: AsyncSession, head: Row) -> Tree:
    key = (head["id"], head["version"], head["updated_at"])
    cacheable = head["status"] != "draft"
    if cacheable and key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    groups, criteria, indicators, thresholds = await repository.load_children(session, head["id"])
    references = await repository.refs(session, (head["derived_from_id"], head["amends_id"]))
    tree = assemble(head, groups, criteria, indicators, thresholds, references)
    if cacheable:
        _cache[key] = tree
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return tree


async def get_tree(session: AsyncSession, set_id: uuid.UUID) -> Tree:
    return await build_tree(session, await head_or_404(session, set_id))


async def get_set(session: AsyncSession, set_id: uuid.UUID, language: Language) -> dict[str, Any]:
    return render(await get_tree(session, set_id), language)


async def list_sets(
    session: AsyncSession,
    language: Language,
    *,
    level: str | None = None,
    title: str | None = None,
    year: int | None = None,
    scope_unit_id: uuid.UUID | None = None,
    national: bool | None = None,
    status: str | None = None,
    code: str | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    rows = await repository.list_sets(
        session,
        level=level,
        title=title,
        year=year,
        scope_unit_id=scope_unit_id,
        national=national,
        status=status,
        code=code,
        updated_since=updated_since,
        after=decode_updated_cursor(cursor),
        limit=limit,
    )
    kept, next_cursor = page_from_rows(rows, limit, lambda r: (r["updated_at"], r["id"]))
    return [summary(row, language, row) for row in kept], next_cursor
