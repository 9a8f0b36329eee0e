"""Reads: lists, the nested tree (cached per process for published sets), the export.

Who may read what: published and retired sets are public; a draft only to a caller who holds
``criteria:read`` over its scope (a national grant for a national draft, a grant over the
province for a province's). Anyone else gets 404 ``criteria_set_not_found``, as if it did not
exist.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import authz
from app.core.errors import NotFound
from app.core.http import Language, dumps, revision_etag
from app.core.lru import Lru
from app.core.pagination import decode_updated_cursor, page_from_rows
from app.core.permissions import Action
from app.core.security import Principal
from app.criteria import repository
from app.criteria.tree import Row, Tree, assemble, render, summary
from app.models.criteria import CriteriaSet
from app.models.enums import CriteriaSetStatus

# Published and retired sets never change (a re-issue by the seeder bumps their version), so
# their trees are kept per process, keyed by what the ETag is made of.
_CACHE_SIZE = 64
_cache: Lru[tuple[uuid.UUID, int, datetime], Tree] = Lru(_CACHE_SIZE)
# The JSON a read route answers for such a set, per language: encoded once, served as bytes.
_bytes: Lru[tuple[uuid.UUID, int, datetime, Language], bytes] = Lru(_CACHE_SIZE)
# The head rows of published and retired sets, kept this many seconds so that a read of one
# needs no database round trip (issue 16). Their content never changes; what can (a retirement,
# a re-issue by the seeder) is seen at once by the process that wrote it (``forget``, called
# when a write locks the head) and within this time by every other process.
# A kept head also names the session's bind it was read through (an engine; a test's outer
# connection), so that it is never served from another database.
HEAD_TTL_SECONDS = 2.0
_heads: dict[uuid.UUID, tuple[float, object, Row]] = {}


def etag(head: Row) -> str:
    """Every write of a set bumps its ``version`` (its revision), so the pair names it."""
    return revision_etag(head["id"], head["version"])


def not_found(set_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"No criteria set with id {set_id}.", code="criteria_set_not_found", params={"id": set_id}
    )


def forget(set_id: uuid.UUID) -> None:
    """Drop the kept head of ``set_id`` (a write is about to change it)."""
    _heads.pop(set_id, None)


async def _public_head(session: AsyncSession, set_id: uuid.UUID) -> Row | None:
    """The head row, from the short-lived copy when the set is published or retired."""
    now = time.monotonic()
    kept = _heads.get(set_id)
    if kept is not None and now - kept[0] < HEAD_TTL_SECONDS and kept[1] is session.bind:
        return kept[2]
    head = await repository.get_head(session, set_id)
    if head is not None and head["status"] != CriteriaSetStatus.DRAFT:
        if len(_heads) >= _CACHE_SIZE:
            _heads.clear()
        _heads[set_id] = (now, session.bind, head)
    else:
        _heads.pop(set_id, None)
    return head


async def head_or_404(session: AsyncSession, set_id: uuid.UUID) -> Row:
    head = await repository.get_head(session, set_id)
    if head is None:
        raise not_found(set_id)
    return head


async def may_read(session: AsyncSession, principal: Principal | None, head: Row) -> bool:
    """Whether the caller (None: anonymous) may read the set: any published or retired one; a
    draft with ``criteria:read`` over its scope (``scope_unit_id`` None: nationally)."""
    if head["status"] != CriteriaSetStatus.DRAFT:
        return True
    if principal is None:
        return False
    return await authz.allows(
        session, principal, Action.CRITERIA_READ, unit_id=head["scope_unit_id"]
    )


async def readable_head(
    session: AsyncSession, principal: Principal | None, set_id: uuid.UUID
) -> Row:
    """The set's head row for a read route: 404 when it does not exist **or** is a draft the
    caller may not read (its existence is not revealed, so no 403). A published or retired
    set's head may be up to ``HEAD_TTL_SECONDS`` old (see ``_heads``)."""
    head = await _public_head(session, set_id)
    if head is None:
        raise not_found(set_id)
    if not await may_read(session, principal, head):
        raise not_found(set_id)
    return head


def readable(principal: Principal | None) -> ColumnElement[bool]:
    """The list filter matching :func:`may_read`: published and retired sets, and the drafts in
    the caller's ``criteria:read`` scope. A national draft (``scope_unit_id`` null) needs a
    national grant, which ``Scope.clause`` alone would leave to SQL's NULL semantics."""
    scope = authz.scope(principal, Action.CRITERIA_READ)
    if scope.national:
        return true()
    drafts = and_(CriteriaSet.scope_unit_id.is_not(None), scope.clause(CriteriaSet.scope_unit_id))
    return or_(CriteriaSet.status != CriteriaSetStatus.DRAFT, drafts)


async def build_tree(session: AsyncSession, head: Row) -> Tree:
    key = (head["id"], head["version"], head["updated_at"])
    cacheable = head["status"] != CriteriaSetStatus.DRAFT
    kept = _cache.get_fresh(key) if cacheable else None
    if kept is not None:
        return kept
    groups, criteria, indicators, thresholds = await repository.load_children(session, head["id"])
    references = await repository.refs(session, (head["derived_from_id"], head["amends_id"]))
    tree = assemble(head, groups, criteria, indicators, thresholds, references)
    return _cache.keep(key, tree) if cacheable else tree


async def rendered(session: AsyncSession, head: Row, language: Language) -> bytes:
    """The set as a read route answers it, JSON-encoded; kept for published and retired sets
    (no tree walk, no encoding per request)."""
    key = (head["id"], head["version"], head["updated_at"], language)
    cacheable = head["status"] != CriteriaSetStatus.DRAFT
    kept = _bytes.get_fresh(key) if cacheable else None
    if kept is not None:
        return kept
    body = dumps(render(await build_tree(session, head), language))
    return _bytes.keep(key, body) if cacheable else body


async def get_tree(session: AsyncSession, set_id: uuid.UUID) -> Tree:
    return await build_tree(session, await head_or_404(session, set_id))


async def list_sets(
    session: AsyncSession,
    principal: Principal | None,
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
    include_total: bool = False,
) -> tuple[list[dict[str, Any]], str | None, int | None]:
    rows = await repository.list_sets(
        session,
        visible=readable(principal),
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
    total = None
    if include_total:
        conditions = repository.set_conditions(
            readable(principal),
            level=level,
            title=title,
            year=year,
            scope_unit_id=scope_unit_id,
            national=national,
            status=status,
            code=code,
            updated_since=updated_since,
        )
        total = await repository.count_sets(session, conditions)
    return [summary(row, language, row) for row in kept], next_cursor, total
