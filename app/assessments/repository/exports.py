"""SQL of the flat exports of assessments: one statement each, the unit placed on the export's
date by ``app.units.query.placement_select`` (joined, never read per row)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Dialect, RowMapping, Select, select, type_coerce
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


@dataclass(frozen=True)
class CopyLookups:
    """What the values export takes from the criteria sets (names in the caller's language),
    handed to the COPY statement as arrays: the indicators (id, criterion number, code, name,
    unit) and the sets' codes."""

    indicator_ids: list[uuid.UUID]
    criterion_numbers: list[int | None]
    indicator_codes: list[str | None]
    indicator_names: list[str | None]
    indicator_units: list[str | None]
    set_ids: list[uuid.UUID]
    set_codes: list[str | None]

    def args(self) -> list[Any]:
        return [
            self.indicator_ids,
            self.criterion_numbers,
            self.indicator_codes,
            self.indicator_names,
            self.indicator_units,
            self.set_ids,
            self.set_codes,
        ]


def values_copy_query(filters: ExportFilters, dialect: Dialect, cells: Sequence[str]) -> str:
    """The values export as one PostgreSQL ``SELECT`` for ``COPY``: the rows of
    :func:`values_of` over the assessments of :func:`assessments_select`, in the same order
    (assessment id, indicator id), with the indicators and set codes of :class:`CopyLookups`
    as ``$1``…``$7``. ``cells`` are the SQL of the output columns over ``a`` (the assessment and
    its placement), ``v`` (the value), ``ind`` (number, code, name, unit) and ``sets`` (code).

    The assessments' statement is inlined with its literals (ids, dates, years, the enums of
    the query string: never free text), as COPY takes no parameters."""
    assessments = assessments_select(filters).order_by(None)
    inlined = assessments.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    # The cells are the module's own SQL; the filters' values are the literals above.
    return (
        f"SELECT {', '.join(cells)} "  # noqa: S608
        f"FROM ({inlined}) AS a "
        f"JOIN {INDICATOR_VALUES.name} AS v ON v.assessment_id = a.id "
        "LEFT JOIN unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[]) "
        "AS ind(id, number, code, name, unit) ON ind.id = v.indicator_id "
        "LEFT JOIN unnest($6::uuid[], $7::text[]) AS sets(id, code) "
        "ON sets.id = a.criteria_set_id "
        "ORDER BY v.assessment_id, v.indicator_id"
    )
