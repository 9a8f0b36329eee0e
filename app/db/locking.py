"""Row locks for the write pattern: load the row ``FOR UPDATE``, authorise, check ``If-Match``,
write, audit, commit once.

The one place that knows how each database locks a row, so that features never branch on the
dialect. PostgreSQL takes a row lock held until the transaction ends: a second writer of the same
row waits, then reads the row as the first one committed it (so its ``If-Match`` check sees the new
revision). SQLite has no row locks and SQLAlchemy renders no ``FOR UPDATE`` there: a writer
holds the lock of the whole database until it commits, so writers are already serialised and the
clause is rightly a no-op.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import dialect

S = TypeVar("S", bound=Select[Any])


def for_update(statement: S) -> S:
    """``statement`` locking the rows it reads until the end of the transaction."""
    return statement.with_for_update()


async def serialise_until_commit(session: AsyncSession, key: int) -> None:
    """Wait until no other transaction holds the lock ``key``, and hold it until this one ends
    (PostgreSQL: a transaction-scoped advisory lock; SQLite: a no-op, its writers are already
    serialised)."""
    await dialect.for_session(session).serialise_until_commit(session, key)
