"""Writing and reading the outbox (see the package's docstring for the ordering guarantee)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.outbox import repository

_FIELDS = ("occurred_at", "entity", "entity_id", "action", "unit_id", "actor_id", "request_id")
_PENDING = "outbox_pending"


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


async def publish(session: AsyncSession, audit_rows: Iterable[Mapping[str, Any]]) -> None:
    """One event per audit record, in the caller's transaction (and its savepoints: an event
    rolled back with its record is never seen). It gets its position when the session commits."""
    rows = [{k: row[k] for k in _FIELDS} for row in audit_rows]
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


async def read_after(session: AsyncSession, position: int = 0, limit: int = 100) -> list[Event]:
    """Committed events after ``position``, oldest first: a poller that keeps the last position
    it saw and asks again never misses one (see the package docstring)."""
    rows = await repository.read_after(session, position, limit)
    return [Event(**{f: getattr(row, f) for f in ("position", *_FIELDS)}) for row in rows]
