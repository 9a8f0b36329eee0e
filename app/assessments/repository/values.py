"""SQL for what an assessment holds: indicator values and their history, criterion judgements
and condition values. Reads take many assessments at once so that evaluation stays set-based."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import RowMapping, Table, and_, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.chunking import chunks
from app.models.assessments import (
    ConditionValue,
    CriterionJudgement,
    IndicatorValue,
    IndicatorValueHistory,
)

INDICATOR_VALUES = cast(Table, IndicatorValue.__table__)
VALUE_HISTORY = cast(Table, IndicatorValueHistory.__table__)
JUDGEMENTS = cast(Table, CriterionJudgement.__table__)
CONDITION_VALUES = cast(Table, ConditionValue.__table__)

VALUE_FIELDS = (
    "value_number",
    "value_bool",
    "judgement",
    "judgement_reason",
    "note",
    "evidence",
    "entered_by",
    "entered_by_name",
    "entered_at",
    "source",
)


async def _by_assessment(
    session: AsyncSession, table: Any, ids: Sequence[uuid.UUID]
) -> list[RowMapping]:
    rows: list[RowMapping] = []
    for part in chunks(list(ids)):
        statement = select(table).where(table.c.assessment_id.in_(part))
        rows.extend((await session.execute(statement)).mappings().all())
    return rows


async def values_of(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    return await _by_assessment(session, INDICATOR_VALUES, ids)


async def judgements_of(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    return await _by_assessment(session, JUDGEMENTS, ids)


async def conditions_of(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    return await _by_assessment(session, CONDITION_VALUES, ids)


async def insert_values(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(INDICATOR_VALUES), [dict(row) for row in rows])


async def update_values(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows carry ``assessment_id`` and ``indicator_id`` plus every value field."""
    if not rows:
        return
    statement = (
        update(INDICATOR_VALUES)
        .where(
            and_(
                INDICATOR_VALUES.c.assessment_id == bindparam("b_assessment_id"),
                INDICATOR_VALUES.c.indicator_id == bindparam("b_indicator_id"),
            )
        )
        .values({name: bindparam(f"b_{name}") for name in VALUE_FIELDS})
    )
    params = [
        {
            "b_assessment_id": row["assessment_id"],
            "b_indicator_id": row["indicator_id"],
            **{f"b_{name}": row[name] for name in VALUE_FIELDS},
        }
        for row in rows
    ]
    await session.execute(statement, params)


async def delete_values(session: AsyncSession, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    for part in chunks(list(keys), 400):
        await session.execute(
            delete(INDICATOR_VALUES).where(
                tuple_(INDICATOR_VALUES.c.assessment_id, INDICATOR_VALUES.c.indicator_id).in_(
                    list(part)
                )
            )
        )


async def insert_history(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(VALUE_HISTORY), [dict(row) for row in rows])


async def history_of(
    session: AsyncSession, assessment_id: uuid.UUID, indicator_id: uuid.UUID | None
) -> list[RowMapping]:
    statement = select(VALUE_HISTORY).where(VALUE_HISTORY.c.assessment_id == assessment_id)
    if indicator_id is not None:
        statement = statement.where(VALUE_HISTORY.c.indicator_id == indicator_id)
    statement = statement.order_by(VALUE_HISTORY.c.indicator_id, VALUE_HISTORY.c.id)
    return list((await session.execute(statement)).mappings().all())


async def upsert_judgements(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    inserts: Sequence[Mapping[str, Any]],
    updates: Sequence[Mapping[str, Any]],
    deletes: Sequence[uuid.UUID],
) -> None:
    if inserts:
        await session.execute(insert(JUDGEMENTS), [dict(row) for row in inserts])
    for row in updates:
        await session.execute(
            update(JUDGEMENTS)
            .where(
                JUDGEMENTS.c.assessment_id == assessment_id,
                JUDGEMENTS.c.criterion_id == row["criterion_id"],
            )
            .values({k: v for k, v in row.items() if k not in ("assessment_id", "criterion_id")})
        )
    if deletes:
        await session.execute(
            delete(JUDGEMENTS).where(
                JUDGEMENTS.c.assessment_id == assessment_id, JUDGEMENTS.c.criterion_id.in_(deletes)
            )
        )


async def upsert_conditions(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    inserts: Sequence[Mapping[str, Any]],
    updates: Sequence[Mapping[str, Any]],
    deletes: Sequence[str],
) -> None:
    if inserts:
        await session.execute(insert(CONDITION_VALUES), [dict(row) for row in inserts])
    for row in updates:
        await session.execute(
            update(CONDITION_VALUES)
            .where(
                CONDITION_VALUES.c.assessment_id == assessment_id,
                CONDITION_VALUES.c.code == row["code"],
            )
            .values({k: v for k, v in row.items() if k not in ("assessment_id", "code")})
        )
    if deletes:
        await session.execute(
            delete(CONDITION_VALUES).where(
                CONDITION_VALUES.c.assessment_id == assessment_id,
                CONDITION_VALUES.c.code.in_(deletes),
            )
        )
