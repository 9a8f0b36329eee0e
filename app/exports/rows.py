"""Rows of an export read in chunks: a server-side cursor, never the whole result in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

# Rows per chunk: large enough that per-chunk costs vanish, small enough to stay a few MB.
CHUNK_ROWS = 5000

Chunk = Sequence[Sequence[Any]]


async def stream_rows(
    session: AsyncSession, statement: Select[Any], *, chunk_rows: int = CHUNK_ROWS
) -> AsyncIterator[Chunk]:
    """The rows of ``statement`` as tuples, ``chunk_rows`` at a time, from a server-side cursor
    (asyncpg: a portal fetched in batches; SQLite: the cursor stepped as rows are taken)."""
    await _in_a_transaction(session)
    result = await session.stream(statement.execution_options(yield_per=chunk_rows))
    try:
        async for partition in result.partitions(chunk_rows):
            yield [tuple(row) for row in partition]
    finally:
        await result.close()


async def _in_a_transaction(session: AsyncSession) -> None:
    """A PostgreSQL portal lives in a transaction. A session that reads statement by statement
    (``app.db.session.reads_per_statement``) has none: what it read so far is released, and the rest
    of the export reads from a connection taken in a transaction (READ COMMITTED, the default),
    with the same visibility as before."""
    connection = await session.connection()
    if connection.sync_connection is None or (
        connection.sync_connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
    ):
        return
    await session.rollback()  # nothing was written: it only hands the connection back
    await session.connection(execution_options={"isolation_level": "READ COMMITTED"})
