"""Flat exports of the map: the unit list, and the crosswalk of the 2025 reform.

Rows are read by one streamed statement each; the unit and its parents on the day come from
``query.placement_select``, the same columns every other feature's export starts with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.intervals import valid_on
from app.exports import (
    UNIT_COLUMNS,
    Chunk,
    Table,
    boolean,
    day,
    identifier,
    instant,
    stream_rows,
    unit_columns,
)
from app.models.enums import UnitLevel
from app.units import query
from app.units import repository as repo
from app.units.service import UnitFilters, repository_filters

UNITS_TABLE = Table(
    "units",
    "Administrative units on a date, with their parents",
    (
        *UNIT_COLUMNS,
        identifier("parent_id", "Id of the unit's parent on the date (empty for a province)."),
        day("valid_from", "First day of the version of the unit shown."),
        day("valid_to", "Day after the last day of that version (9999-12-31: still valid)."),
        instant("updated_at", "Last change of the unit (UTC)."),
    ),
)

# 202/2025/QH15 and the resolutions on the rearrangement of communes took effect on 01/07/2025:
# districts abolished, 10,051 communes → 3,321 (DOMAIN.md §5).
REFORM_2025 = date(2025, 7, 1)
BEFORE_REFORM_2025 = date(2025, 6, 30)

LINEAGE_2025_TABLE = Table(
    "lineage_2025",
    "The 2025 reform: every commune of 30/06/2025 beside the commune(s) it went into",
    (
        *unit_columns("old_", "the commune on 2025-06-30"),
        *unit_columns("new_", "the commune it went into on 2025-07-01"),
        boolean(
            "partly",
            "True when only part of the old commune went into this new one (its other parts "
            "are on other rows).",
        ),
        day("effective_date", "The day the change took effect."),
    ),
)


async def unit_rows(session: AsyncSession, filters: UnitFilters) -> AsyncIterator[Chunk]:
    listed, order = repo.filtered(repository_filters(filters))
    placement = query.placement_select(filters.as_of)
    statement: Select[Any] = (
        listed.join(placement, placement.c.unit_id == query.VERSIONS.c.unit_id)
        .with_only_columns(
            *[placement.c[name] for name in query.PLACEMENT_NAMES],
            query.VERSIONS.c.parent_id,
            query.VERSIONS.c.valid_from,
            query.VERSIONS.c.valid_to,
            query.UNITS.c.updated_at,
            maintain_column_froms=True,
        )
        .order_by(*order)
    )
    async for chunk in stream_rows(session, statement):
        yield chunk


async def lineage_2025_rows(session: AsyncSession) -> AsyncIterator[Chunk]:
    old = query.placement_select(BEFORE_REFORM_2025)
    new = query.placement_select(REFORM_2025)
    communes = query.VERSIONS.alias("old_commune")
    links = query.LINKS
    statement = (
        select(
            *[old.c[name] for name in query.PLACEMENT_NAMES],
            *[new.c[name] for name in query.PLACEMENT_NAMES],
            links.c.partly,
            links.c.effective_date,
        )
        .select_from(communes)
        .join(old, old.c.unit_id == communes.c.unit_id)
        .outerjoin(
            links,
            and_(
                links.c.predecessor_id == communes.c.unit_id,
                links.c.effective_date == REFORM_2025,
            ),
        )
        .outerjoin(new, new.c.unit_id == links.c.successor_id)
        .where(communes.c.level == UnitLevel.COMMUNE.value, valid_on(communes, BEFORE_REFORM_2025))
        .order_by(
            old.c.province_code,
            old.c.district_code,
            old.c.unit_code,
            new.c.unit_code,
            old.c.unit_id,
            new.c.unit_id,
        )
    )
    async for chunk in stream_rows(session, statement):
        yield chunk
