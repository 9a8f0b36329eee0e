"""Writing and reading the outbox (see the package's docstring for the ordering guarantee), and
what the change feed needs of it: filtered reads, the head, retention."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.http import revision_etag
from app.db.types import utcnow
from app.models.enums import AuditAction
from app.models.system import OutboxEvent
from app.outbox import repository

_FIELDS = ("occurred_at", "entity", "entity_id", "action", "unit_id", "actor_id", "request_id")
_FACTS = ("version", "etag", "effective_date", "tombstone", "detail")
_PENDING = "outbox_pending"
# The columns a feed reader filters on (its scope, the entities it hides).
UNIT_COLUMN = OutboxEvent.unit_id
ENTITY_COLUMN = OutboxEvent.entity

# Actions after which the entity is gone: the feed carries them as tombstones.
REMOVALS = frozenset({AuditAction.DELETE.value, AuditAction.DISSOLVE.value})
# Entities whose strong ETag is (id, revision) (app.core.http.revision_etag): the event can name
# the ETag the resource had right after the change. A unit's ETag also covers its versions, so
# its events carry the revision only.
_REVISION_ETAGS = frozenset({"assessment", "assessment_values", "criteria_set"})
# The facts of a bulk write that an event carries (an import's counts).
_COUNTS = ("created", "updated", "unchanged", "deleted", "rejected", "rows")


@dataclass(frozen=True)
class Event:
    position: int
    occurred_at: datetime
    entity: str
    entity_id: str
    action: str
    unit_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    request_id: str | None
    version: int | None = None
    etag: str | None = None
    effective_date: date | None = None
    tombstone: bool = False
    detail: dict[str, Any] | None = None


def _as_date(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def describe(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the feed tells about one audited change, read from its audit record: the version
    (``revision`` or ``version`` after the write), the ETag where it follows from it, the date
    it takes effect (a map change's ``effective_date``, a new unit version's ``valid_from``),
    whether it removes the entity, and an import's counts."""
    after = row.get("after")
    after = after if isinstance(after, Mapping) else {}
    version = next((v for k in ("revision", "version") if isinstance(v := after.get(k), int)), None)
    etag = None
    if version is not None and row["entity"] in _REVISION_ETAGS:
        etag = revision_etag(row["entity_id"], version)
    effective = _as_date(after.get("effective_date")) or _as_date(after.get("valid_from"))
    counts = {k: v for k in _COUNTS if isinstance(v := after.get(k), int)}
    return {
        "version": version,
        "etag": etag,
        "effective_date": effective,
        "tombstone": str(row["action"]) in REMOVALS,
        "detail": counts or None,
    }


async def publish(session: AsyncSession, audit_rows: Iterable[Mapping[str, Any]]) -> None:
    """One event per audit record, in the caller's transaction (and its savepoints: an event
    rolled back with its record is never seen). It gets its position when the session commits."""
    rows = [{**{k: row[k] for k in _FIELDS}, **describe(row)} for row in audit_rows]
    await _insert(session, rows)


async def publish_effects(session: AsyncSession, events: Iterable[Mapping[str, Any]]) -> None:
    """Events that follow from an audited write without a record of their own: the units a map
    change created, changed or ended (the record is the change's; each unit gets its event, so
    that a poller of units sees it, and an ended unit its tombstone). Each mapping has the
    fields of an event (``entity``, ``entity_id``, ``action``, ``unit_id``, …)."""
    rows = []
    now = utcnow()
    for item in events:
        row = {k: item.get(k) for k in _FIELDS}
        row["occurred_at"] = row["occurred_at"] or now
        row.update({k: item.get(k) for k in _FACTS})
        row["tombstone"] = bool(item.get("tombstone")) or str(row["action"]) in REMOVALS
        rows.append(row)
    await _insert(session, rows)


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await repository.insert_events(session, rows)
        session.sync_session.info[_PENDING] = True


@event.listens_for(Session, "before_commit")
def _number_at_commit(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        repository.number_pending(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _event(row: OutboxEvent) -> Event:
    return Event(**{f: getattr(row, f) for f in ("position", *_FIELDS, *_FACTS)})


async def read_after(session: AsyncSession, position: int = 0, limit: int = 100) -> list[Event]:
    """Committed events after ``position``, oldest first: a poller that keeps the last position
    it saw and asks again never misses one (see the package docstring)."""
    rows = await repository.read_after(session, position, limit)
    return [_event(row) for row in rows]


@dataclass(frozen=True)
class FeedFilter:
    """Which events a reader gets: entities of these kinds (None: every kind), optionally only
    these actions per entity, and a condition on the event's unit (the caller's scope, a
    subtree)."""

    entities: frozenset[str] | None = None
    pairs: frozenset[tuple[str, str]] | None = None
    where: Sequence[ColumnElement[bool]] = ()


async def read_feed(
    session: AsyncSession, after: int, limit: int, where: FeedFilter, *, through: int
) -> list[Event]:
    """Events in ``(after, through]`` matching ``where``, oldest first."""
    rows = await repository.read_filtered(
        session,
        after,
        limit,
        through=through,
        entities=where.entities,
        pairs=where.pairs,
        where=where.where,
    )
    return [_event(row) for row in rows]


async def head(session: AsyncSession) -> int:
    """The position of the newest committed event (0 when there is none)."""
    return await repository.head(session)


async def pruned_through(session: AsyncSession) -> int:
    """Events up to this position were removed by retention (0: none ever was)."""
    return await repository.pruned_through(session)


async def prune(session: AsyncSession, retention: timedelta, now: datetime | None = None) -> int:
    """Remove the events older than ``retention`` and remember the newest removed position, so
    that a poller still behind it is told it missed events (410) rather than silently skipping
    them. Returns how many were removed. The caller commits."""
    cutoff = (now or utcnow()) - retention
    return await repository.prune(session, cutoff, now or utcnow())
