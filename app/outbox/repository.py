"""SQL of the outbox: append in commit order, read after a position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import dialect
from app.models.system import OutboxEvent

# The advisory-lock key of the outbox (any fixed 64-bit number, unique within the database).
COMMIT_ORDER_LOCK = 0x4E544D_0B0C  # "NTM", outbox


async def append(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    await dialect.for_session(session).serialise_until_commit(session, COMMIT_ORDER_LOCK)
    await session.execute(insert(OutboxEvent), rows)


async def read_after(session: AsyncSession, position: int, limit: int) -> Sequence[OutboxEvent]:
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.position > position)
        .order_by(OutboxEvent.position)
        .limit(limit)
    )
    return (await session.scalars(query)).all()
