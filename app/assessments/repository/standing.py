"""SQL for the standing of units on a date: their assessments up to a year (plans, reports)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.repository.assessments import ASSESSMENTS
from app.db.chunking import chunks


async def up_to_year(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], year: int
) -> list[RowMapping]:
    """Every assessment of the units for a year up to ``year``, whatever the set and kind."""
    rows: list[RowMapping] = []
    for part in chunks(sorted(set(unit_ids))):
        statement = select(ASSESSMENTS).where(
            ASSESSMENTS.c.unit_id.in_(part), ASSESSMENTS.c.year <= year
        )
        rows.extend((await session.execute(statement)).mappings().all())
    return rows
