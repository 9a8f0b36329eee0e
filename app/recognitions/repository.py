"""SQL for the register of titles: Core statements, one round trip each."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import RowMapping, Select, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.pagination import count_matching
from app.db.chunking import chunks
from app.db.locking import for_update
from app.models.recognitions import Recognition
from app.recognitions.query import held_on

RECOGNITIONS = cast(Table, Recognition.__table__)
_NATURAL_KEY = "ix_recognitions_unit_id_title_year_for"


def natural_key_taken(existing_id: uuid.UUID) -> Conflict:
    """409 naming the recognition that holds the unit, title and year."""
    return Conflict(
        f"Recognition {existing_id} already records this title for this unit and year.",
        code="recognition_exists",
        params={"existing_id": str(existing_id)},
        headers={"Location": f"/api/v1/recognitions/{existing_id}"},
        extra={"existing_id": str(existing_id)},
    )


async def get(session: AsyncSession, recognition_id: uuid.UUID) -> RowMapping | None:
    statement = select(RECOGNITIONS).where(RECOGNITIONS.c.id == recognition_id)
    return (await session.execute(statement)).mappings().first()


async def get_for_update(session: AsyncSession, recognition_id: uuid.UUID) -> RowMapping | None:
    statement = for_update(select(RECOGNITIONS).where(RECOGNITIONS.c.id == recognition_id))
    return (await session.execute(statement)).mappings().first()


async def find_by_natural_key(
    session: AsyncSession, unit_id: uuid.UUID, title: str, year_for: int
) -> uuid.UUID | None:
    return cast(
        uuid.UUID | None,
        await session.scalar(
            select(RECOGNITIONS.c.id).where(
                RECOGNITIONS.c.unit_id == unit_id,
                RECOGNITIONS.c.title == title,
                RECOGNITIONS.c.year_for == year_for,
            )
        ),
    )


async def find_many_by_natural_key(
    session: AsyncSession, keys: Iterable[tuple[uuid.UUID, str, int]]
) -> dict[tuple[uuid.UUID, str, int], RowMapping]:
    """The recognitions holding each (unit, title, year) key: one statement per chunk of units."""
    wanted = set(keys)
    found: dict[tuple[uuid.UUID, str, int], RowMapping] = {}
    for part in chunks(sorted({unit for unit, _, _ in wanted})):
        statement = select(RECOGNITIONS).where(RECOGNITIONS.c.unit_id.in_(part))
        for row in (await session.execute(statement)).mappings().all():
            key = (row["unit_id"], row["title"], row["year_for"])
            if key in wanted:
                found[key] = row
    return found


async def in_force(
    session: AsyncSession, unit_id: uuid.UUID, title: str, on: date
) -> RowMapping | None:
    """The unit's recognition of ``title`` in force on ``on``, if any."""
    statement = select(RECOGNITIONS).where(
        RECOGNITIONS.c.unit_id == unit_id, RECOGNITIONS.c.title == title, held_on(on)
    )
    return (await session.execute(statement)).mappings().first()


async def of_units(session: AsyncSession, unit_ids: Iterable[uuid.UUID]) -> list[RowMapping]:
    """Every recognition of the units, whenever held."""
    rows: list[RowMapping] = []
    for part in chunks(sorted(set(unit_ids))):
        statement = (
            select(RECOGNITIONS)
            .where(RECOGNITIONS.c.unit_id.in_(part))
            .order_by(RECOGNITIONS.c.unit_id, RECOGNITIONS.c.decision_date, RECOGNITIONS.c.id)
        )
        rows.extend((await session.execute(statement)).mappings().all())
    return rows


async def insert_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Every creation path goes through here, so that a concurrent writer that took a natural
    key first gives 409 ``recognition_exists``, never a 500 (the savepoint keeps the
    transaction usable on PostgreSQL)."""
    try:
        async with session.begin_nested():
            for part in chunks(list(rows), 2000):
                await session.execute(insert(RECOGNITIONS), [dict(row) for row in part])
    except IntegrityError as exc:
        message = str(exc.orig)
        if _NATURAL_KEY not in message and "recognitions.unit_id" not in message:
            raise
        for row in rows:
            existing = await find_by_natural_key(
                session, row["unit_id"], row["title"], row["year_for"]
            )
            if existing is not None and existing != row["id"]:
                raise natural_key_taken(existing) from exc
        raise


async def update_one(
    session: AsyncSession, recognition_id: uuid.UUID, values: Mapping[str, Any]
) -> None:
    await session.execute(
        update(RECOGNITIONS).where(RECOGNITIONS.c.id == recognition_id).values(**values)
    )


async def update_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows keyed by ``id``, each with the same columns: one executemany."""
    if not rows:
        return
    columns = [key for key in rows[0] if key != "id"]
    statement = (
        update(RECOGNITIONS)
        .where(RECOGNITIONS.c.id == bindparam("_id"))
        .values({column: bindparam(column) for column in columns})
    )
    for part in chunks(list(rows), 2000):
        await session.execute(
            statement, [{"_id": row["id"], **{c: row[c] for c in columns}} for row in part]
        )


@dataclass(frozen=True)
class ListFilters:
    visible: Any = None
    units: Select[Any] | None = None  # a select of unit ids (a subtree) the unit must be in
    unit_id: uuid.UUID | None = None
    title: str | None = None
    year_for: int | None = None
    held_on: date | None = None
    source: str | None = None
    updated_since: datetime | None = None


def list_select(filters: ListFilters) -> Select[Any]:
    """The recognitions a list shows, before its cursor and page size."""
    statement = select(RECOGNITIONS)
    if filters.visible is not None:
        statement = statement.where(filters.visible)
    if filters.units is not None:
        statement = statement.where(RECOGNITIONS.c.unit_id.in_(filters.units))
    if filters.unit_id is not None:
        statement = statement.where(RECOGNITIONS.c.unit_id == filters.unit_id)
    if filters.title is not None:
        statement = statement.where(RECOGNITIONS.c.title == filters.title)
    if filters.year_for is not None:
        statement = statement.where(RECOGNITIONS.c.year_for == filters.year_for)
    if filters.held_on is not None:
        statement = statement.where(held_on(filters.held_on))
    if filters.source is not None:
        statement = statement.where(RECOGNITIONS.c.source == filters.source)
    if filters.updated_since is not None:
        statement = statement.where(RECOGNITIONS.c.updated_at >= filters.updated_since)
    return statement


async def count(session: AsyncSession, filters: ListFilters) -> int:
    return await count_matching(session, list_select(filters))


async def list_page(
    session: AsyncSession,
    filters: ListFilters,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[RowMapping]:
    statement = list_select(filters)
    if after is not None:
        moment, last_id = after
        statement = statement.where(
            or_(
                RECOGNITIONS.c.updated_at > moment,
                and_(RECOGNITIONS.c.updated_at == moment, RECOGNITIONS.c.id > last_id),
            )
        )
    statement = statement.order_by(RECOGNITIONS.c.updated_at, RECOGNITIONS.c.id).limit(limit + 1)
    return list((await session.execute(statement)).mappings().all())
