"""What differs between the two databases, in one place: temporary staging tables, bulk copy into
them, "is distinct from", the two capabilities the merge statements need, and a lock that
serialises writers until they commit.

Callers ask ``for_session(session)`` for the strategy and never test the dialect's name. An extra
database would be one more class here.

- PostgreSQL: ``COPY`` through asyncpg's ``copy_records_to_table`` on the session's own connection
  (so inside its transaction); temporary tables ``ON COMMIT DROP``; data-modifying CTEs and
  ``LATERAL`` joins exist.
- SQLite: ``executemany`` on the driver connection (UUIDs as 32 hex characters, as the ORM's
  ``Uuid`` stores them there); no DML inside CTEs; ``IS NOT`` is its null-safe comparison.
"""

# ruff: noqa: S608 - table and column names come from the callers' own constants

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.chunking import chunks

# Below this many rows an INSERT is as fast as COPY and needs no driver connection.
COPY_THRESHOLD = 2000


class ColumnKind(StrEnum):
    INTEGER = "integer"
    UUID = "uuid"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TEXT = "text"


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind


class BulkDialect(Protocol):
    name: str
    # INSERT/UPDATE … RETURNING inside a WITH clause (one round trip for a whole merge).
    writable_ctes: bool
    # LATERAL subqueries (one index probe per staged row instead of a hash join).
    lateral: bool
    # Whether a second connection can write while a transaction holds written rows (SQLite: no,
    # it waits for the busy timeout).
    concurrent_writers: bool
    # COPY (SELECT …) TO STDOUT: a CSV export written by the database (app/exports/copy.py).
    copy_out: bool

    def distinct(self, left: str, right: str) -> str: ...

    async def serialise_until_commit(self, session: AsyncSession, key: int) -> None:
        """Wait until no other transaction holds ``key``, and hold it until this one ends."""

    def lock_until_commit(self, key: int) -> str | None:
        """The statement behind ``serialise_until_commit`` (for synchronous session hooks)."""

    def next_number(self, sequence: str, fallback: str) -> str:
        """SQL for the next number of ``sequence``; where there are no sequences (SQLite, whose
        writers are already serialised), the ``fallback`` expression."""

    async def create_temporary(
        self, session: AsyncSession, table: str, columns: Sequence[Column], *, key: str = ""
    ) -> None: ...

    async def insert_table(
        self, session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        """Insert many ``rows`` (dictionaries by column name) into a permanent table, in the
        session's transaction, by the fastest means the database has."""

    async def clear(self, session: AsyncSession, table: str) -> None: ...

    async def copy(
        self,
        session: AsyncSession,
        table: str,
        columns: Sequence[Column],
        records: Sequence[tuple[Any, ...]],
    ) -> None: ...


async def _driver(session: AsyncSession) -> Any:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _key(key: str) -> str:
    return f", PRIMARY KEY ({key})" if key else ""


class PostgresBulk:
    name = "postgresql"
    writable_ctes = True
    lateral = True
    concurrent_writers = True
    copy_out = True
    _types: ClassVar[dict[ColumnKind, str]] = {
        ColumnKind.INTEGER: "integer",
        ColumnKind.UUID: "uuid",
        ColumnKind.FLOAT: "double precision",
        ColumnKind.BOOLEAN: "boolean",
        ColumnKind.TEXT: "text",
    }

    def distinct(self, left: str, right: str) -> str:
        return f"{left} IS DISTINCT FROM {right}"

    async def insert_table(
        self, session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        if len(rows) <= COPY_THRESHOLD:
            await _insert_chunks(session, table, rows)
            return
        columns = [column.name for column in table.columns]
        # COPY bypasses SQLAlchemy: fill the columns' scalar defaults as an insert() would.
        defaults = {
            column.name: cast(Any, column.default).arg
            for column in table.columns
            if column.default is not None and column.default.is_scalar
        }
        records = [
            tuple(_copy_value(row.get(name, defaults.get(name))) for name in columns)
            for row in rows
        ]
        driver = await _driver(session)
        await driver.copy_records_to_table(table.name, records=records, columns=columns)

    async def serialise_until_commit(self, session: AsyncSession, key: int) -> None:
        await session.execute(text(self.lock_until_commit(key)))

    def lock_until_commit(self, key: int) -> str:
        return f"SELECT pg_advisory_xact_lock({int(key)})"

    def next_number(self, sequence: str, fallback: str) -> str:
        return f"nextval('{sequence}')"

    async def create_temporary(
        self, session: AsyncSession, table: str, columns: Sequence[Column], *, key: str = ""
    ) -> None:
        body = ", ".join(f"{c.name} {self._types[c.kind]}" for c in columns)
        await session.execute(
            text(f"CREATE TEMPORARY TABLE {table} ({body}{_key(key)}) ON COMMIT DROP")
        )

    async def clear(self, session: AsyncSession, table: str) -> None:
        await session.execute(text(f"TRUNCATE {table}"))

    async def copy(
        self,
        session: AsyncSession,
        table: str,
        columns: Sequence[Column],
        records: Sequence[tuple[Any, ...]],
    ) -> None:
        driver = await _driver(session)
        await driver.copy_records_to_table(
            table, records=records, columns=[c.name for c in columns]
        )


class SqliteBulk:
    name = "sqlite"
    writable_ctes = False
    lateral = False
    concurrent_writers = False
    copy_out = False
    _types: ClassVar[dict[ColumnKind, str]] = {
        ColumnKind.INTEGER: "INTEGER",
        ColumnKind.UUID: "CHAR(32)",
        ColumnKind.FLOAT: "FLOAT",
        ColumnKind.BOOLEAN: "BOOLEAN",
        ColumnKind.TEXT: "TEXT",
    }

    def distinct(self, left: str, right: str) -> str:
        return f"{left} IS NOT {right}"

    async def insert_table(
        self, session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        await _insert_chunks(session, table, rows)

    async def serialise_until_commit(self, session: AsyncSession, key: int) -> None:
        # One writer at a time already: a write transaction excludes every other until it ends.
        return None

    def lock_until_commit(self, key: int) -> str | None:
        return None

    def next_number(self, sequence: str, fallback: str) -> str:
        return fallback

    async def create_temporary(
        self, session: AsyncSession, table: str, columns: Sequence[Column], *, key: str = ""
    ) -> None:
        body = ", ".join(f"{c.name} {self._types[c.kind]}" for c in columns)
        await session.execute(text(f"CREATE TEMPORARY TABLE {table} ({body}{_key(key)})"))

    async def clear(self, session: AsyncSession, table: str) -> None:
        await session.execute(text(f"DELETE FROM {table}"))

    async def copy(
        self,
        session: AsyncSession,
        table: str,
        columns: Sequence[Column],
        records: Sequence[tuple[Any, ...]],
    ) -> None:
        uuids = [i for i, c in enumerate(columns) if c.kind is ColumnKind.UUID]
        rows: Sequence[Sequence[Any]] = records
        if uuids:
            converted: list[list[Any]] = []
            for record in records:
                row = list(record)
                for i in uuids:
                    value = row[i]
                    if isinstance(value, uuid.UUID):
                        row[i] = value.hex
                converted.append(row)
            rows = converted
        placeholders = ", ".join("?" for _ in columns)
        driver = await _driver(session)
        cursor = await driver.executemany(
            f"INSERT INTO {table} ({', '.join(c.name for c in columns)}) VALUES ({placeholders})",
            rows,
        )
        await cursor.close()


async def _insert_chunks(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    for part in chunks(list(rows), 5000):
        await session.execute(insert(table), list(part))


def _copy_value(value: Any) -> Any:
    # JSON columns travel as text through COPY.
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


_STRATEGIES: dict[str, BulkDialect] = {"postgresql": PostgresBulk(), "sqlite": SqliteBulk()}


def bulk(name: str) -> BulkDialect:
    return _STRATEGIES[name]


def for_session(session: AsyncSession) -> BulkDialect:
    bind = session.get_bind()
    return bulk(bind.dialect.name)
