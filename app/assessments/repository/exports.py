"""SQL of the flat exports of assessments: one statement each, the unit placed on the export's
date by ``app.units.query.placement_select`` (joined, never read per row)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, RowMapping, Select, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.repository.assessments import ASSESSMENTS as ASSESSMENTS
from app.assessments.repository.values import INDICATOR_VALUES
from app.units import query as units


@dataclass(frozen=True)
class ExportFilters:
    on: date
    visible: Any = None
    unit_id: uuid.UUID | None = None
    within: uuid.UUID | None = None
    criteria_set_id: uuid.UUID | None = None
    year: int | None = None
    kind: str | None = None
    status: str | None = None
    updated_since: datetime | None = None


def _conditions(filters: ExportFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.visible is not None:
        found.append(filters.visible)
    if filters.unit_id is not None:
        found.append(ASSESSMENTS.c.unit_id == filters.unit_id)
    if filters.within is not None:
        found.append(ASSESSMENTS.c.unit_id.in_(units.subtree_select([filters.within], filters.on)))
    for column, value in (
        (ASSESSMENTS.c.criteria_set_id, filters.criteria_set_id),
        (ASSESSMENTS.c.year, filters.year),
        (ASSESSMENTS.c.kind, filters.kind),
        (ASSESSMENTS.c.status, filters.status),
    ):
        if value is not None:
            found.append(column == value)
    if filters.updated_since is not None:
        found.append(ASSESSMENTS.c.updated_at >= filters.updated_since)
    return found


def _placed(filters: ExportFilters) -> tuple[Any, list[Any]]:
    """The placement on the export's day, and its columns with the assessment's own unit id
    first (a unit not yet on the map that day keeps its id, with empty names)."""
    placement = units.placement_select(filters.on)
    names = units.PLACEMENT_NAMES[1:]
    return placement, [ASSESSMENTS.c.unit_id, *[placement.c[name] for name in names]]


def assessments_select(filters: ExportFilters, *extra: Any) -> Select[Any]:
    """Assessment id, the placement columns, then year, kind, status, set and dates; ordered by
    id (a keyset for chunked reads)."""
    placement, placed = _placed(filters)
    return (
        select(
            ASSESSMENTS.c.id,
            *placed,
            ASSESSMENTS.c.year,
            ASSESSMENTS.c.kind,
            ASSESSMENTS.c.status,
            ASSESSMENTS.c.criteria_set_id,
            ASSESSMENTS.c.revision,
            ASSESSMENTS.c.created_at,
            ASSESSMENTS.c.updated_at,
            ASSESSMENTS.c.submitted_at,
            ASSESSMENTS.c.locked_at,
            *extra,
        )
        .select_from(ASSESSMENTS)
        .outerjoin(placement, placement.c.unit_id == ASSESSMENTS.c.unit_id)
        .where(*_conditions(filters))
        .order_by(ASSESSMENTS.c.id)
    )


async def assessments_after(
    session: AsyncSession, filters: ExportFilters, after: uuid.UUID | None, limit: int
) -> Sequence[RowMapping]:
    """The next ``limit`` assessments after id ``after`` (keyset), with everything the
    evaluation needs (every column of the table, under its own name) and the placement."""
    statement = assessments_select(filters)
    if after is not None:
        statement = statement.where(ASSESSMENTS.c.id > after)
    rows: Sequence[RowMapping] = (await session.execute(statement.limit(limit))).mappings().all()
    return rows


# The columns of a value after its assessment's: indicator, value fields, who and when. The time
# is read without the UTC column type's per-row conversion: the writers make every time UTC.
_VALUE_COLUMNS = (
    INDICATOR_VALUES.c.assessment_id,
    INDICATOR_VALUES.c.indicator_id,
    INDICATOR_VALUES.c.value_number,
    INDICATOR_VALUES.c.value_bool,
    INDICATOR_VALUES.c.judgement,
    INDICATOR_VALUES.c.judgement_reason,
    INDICATOR_VALUES.c.note,
    INDICATOR_VALUES.c.source,
    type_coerce(INDICATOR_VALUES.c.entered_at, DateTime(timezone=True)).label("entered_at"),
    INDICATOR_VALUES.c.entered_by_name,
)


async def values_of(
    session: AsyncSession, assessment_ids: Sequence[uuid.UUID]
) -> Sequence[Sequence[Any]]:
    """The stored values of some assessments (a chunk of an export's), in the order of the
    values' primary key: assessment id, indicator id, then the value's fields (who, when)."""
    statement = (
        select(*_VALUE_COLUMNS)
        .where(INDICATOR_VALUES.c.assessment_id.in_(list(assessment_ids)))
        .order_by(INDICATOR_VALUES.c.assessment_id, INDICATOR_VALUES.c.indicator_id)
    )
    return (await session.execute(statement)).all()
