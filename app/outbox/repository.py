"""SQL of the outbox: insert with the audit record, number at commit, read after a position."""

# ruff: noqa: S608 - the only interpolated SQL comes from app.db.dialect

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db import dialect
from app.models.system import OutboxEvent

# The advisory-lock key of the outbox (any fixed 64-bit number, unique within the database).
COMMIT_ORDER_LOCK = 0x4E544D_0B0C  # "NTM", outbox
SEQUENCE = "outbox_position_seq"


async def insert_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(OutboxEvent), rows)


def number_pending(session: Session) -> None:
    """Give this transaction's events their positions, holding the commit-order lock until the
    commit (a synchronous session: this runs in the session's ``before_commit`` hook). Events of
    other transactions in flight are invisible here, so only ours have no position yet."""
    strategy = dialect.bulk(session.get_bind().dialect.name)
    lock = strategy.lock_until_commit(COMMIT_ORDER_LOCK)
    if lock is not None:
        session.execute(text(lock))
    position = strategy.next_number(SEQUENCE, "id")
    session.execute(text(f"UPDATE outbox SET position = {position} WHERE position IS NULL"))


async def read_after(session: AsyncSession, position: int, limit: int) -> Sequence[OutboxEvent]:
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.position > position)
        .order_by(OutboxEvent.position)
        .limit(limit)
    )
    return (await session.scalars(query)).all()
