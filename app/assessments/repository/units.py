"""Set-based reads of the units tables that the bulk paths need (codes to ids for a year).

The units feature's service answers one unit at a time; an import of 10,000 communes resolves its
codes here in a few ``IN`` queries instead (the criteria feature reads these tables the same way).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, TypeVar, cast

from sqlalchemy import RowMapping, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.units import UnitClassification, UnitVersion

V = cast(Table, UnitVersion.__table__)
K = cast(Table, UnitClassification.__table__)
T = TypeVar("T")
CHUNK = 900

UNIT_COLUMNS = (
    V.c.unit_id,
    V.c.level,
    V.c.code,
    V.c.name,
    V.c.parent_id,
    V.c.valid_from,
    V.c.valid_to,
)


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


def _within(year: int, as_of: date | None) -> Any:
    if as_of is not None:
        return (V.c.valid_from <= as_of) & (V.c.valid_to > as_of)
    start, end = year_bounds(year)
    return (V.c.valid_from < end) & (V.c.valid_to > start)


async def versions_by_code(
    session: AsyncSession, level: str, codes: Iterable[str], year: int, as_of: date | None
) -> list[RowMapping]:
    """Versions at ``level`` with one of ``codes`` valid during ``year`` (or on ``as_of``)."""
    wanted = sorted(set(codes))
    rows: list[RowMapping] = []
    for part in chunks(wanted):
        statement = select(*UNIT_COLUMNS).where(
            V.c.level == level, V.c.code.in_(part), _within(year, as_of)
        )
        rows.extend((await session.execute(statement)).mappings().all())
    return rows


async def versions_at_level(
    session: AsyncSession, level: str, year: int, as_of: date | None
) -> list[RowMapping]:
    """Every version at ``level`` valid during ``year``: one query instead of thousands of codes."""
    statement = select(*UNIT_COLUMNS).where(V.c.level == level, _within(year, as_of))
    return list((await session.execute(statement)).mappings().all())


async def levels_of_codes(
    session: AsyncSession, codes: Iterable[str], year: int, as_of: date | None
) -> dict[str, str]:
    """For codes not found at the wanted level: the level they have during the year, if any."""
    wanted = sorted(set(codes))
    out: dict[str, str] = {}
    for part in chunks(wanted):
        statement = select(V.c.code, V.c.level).where(V.c.code.in_(part), _within(year, as_of))
        for row in (await session.execute(statement)).all():
            out.setdefault(row.code, row.level)
    return out


async def versions_of_units(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], year: int, as_of: date | None
) -> list[RowMapping]:
    """Versions of the given units valid during ``year`` (or on ``as_of``)."""
    wanted = sorted(set(unit_ids))
    rows: list[RowMapping] = []
    for part in chunks(wanted):
        statement = select(*UNIT_COLUMNS).where(V.c.unit_id.in_(part), _within(year, as_of))
        rows.extend((await session.execute(statement)).mappings().all())
    return rows


async def versions_for_years(
    session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, int]]
) -> list[RowMapping]:
    """Versions of each (unit, year) pair that overlap the year, in one query per chunk."""
    wanted = sorted(set(pairs))
    if not wanted:
        return []
    first = min(year for _, year in wanted)
    last = max(year for _, year in wanted)
    rows: list[RowMapping] = []
    for part in chunks(sorted({unit_id for unit_id, _ in wanted})):
        statement = select(*UNIT_COLUMNS).where(
            V.c.unit_id.in_(part),
            V.c.valid_from < date(last + 1, 1, 1),
            V.c.valid_to > date(first, 1, 1),
        )
        rows.extend((await session.execute(statement)).mappings().all())
    return rows


async def classifications_of(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID]
) -> list[RowMapping]:
    """Every dated classification of the units (the caller picks those valid on its date)."""
    wanted = sorted(set(unit_ids))
    rows: list[RowMapping] = []
    for part in chunks(wanted):
        statement = select(K.c.unit_id, K.c.kind, K.c.value, K.c.valid_from, K.c.valid_to).where(
            K.c.unit_id.in_(part)
        )
        rows.extend((await session.execute(statement)).mappings().all())
    return rows
