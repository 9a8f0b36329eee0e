"""SQL of the flat exports of assessments: one statement each, the unit placed on the export's
date by ``app.units.query.placement_select`` (joined, never read per row)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, select
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


def values_select(filters: ExportFilters) -> Select[Any]:
    """One row per stored indicator value: assessment, placement, year, kind, status, set,
    indicator id and the value's fields; ordered by the primary key of the values."""
    placement, placed = _placed(filters)
    return (
        select(
            ASSESSMENTS.c.id,
            *placed,
            ASSESSMENTS.c.year,
            ASSESSMENTS.c.kind,
            ASSESSMENTS.c.status,
            ASSESSMENTS.c.criteria_set_id,
            INDICATOR_VALUES.c.indicator_id,
            INDICATOR_VALUES.c.value_number,
            INDICATOR_VALUES.c.value_bool,
            INDICATOR_VALUES.c.judgement,
            INDICATOR_VALUES.c.judgement_reason,
            INDICATOR_VALUES.c.note,
            INDICATOR_VALUES.c.source,
            INDICATOR_VALUES.c.entered_at,
            INDICATOR_VALUES.c.entered_by_name,
        )
        .select_from(INDICATOR_VALUES)
        .join(ASSESSMENTS, ASSESSMENTS.c.id == INDICATOR_VALUES.c.assessment_id)
        .outerjoin(placement, placement.c.unit_id == ASSESSMENTS.c.unit_id)
        .where(*_conditions(filters))
        .order_by(INDICATOR_VALUES.c.assessment_id, INDICATOR_VALUES.c.indicator_id)
    )
