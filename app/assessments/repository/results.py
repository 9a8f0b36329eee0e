"""SQL for the kept evaluation results (``assessment_results``): Core statements, one round trip
per chunk of units.

Every read of results carries the map token in the same statement (one snapshot), so that a
result is compared with the token of the map the rest of the row was read with.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping, Table, and_, delete, false, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.repository.assessments import ASSESSMENTS
from app.db.chunking import chunks
from app.db.locking import serialise_until_commit
from app.models.assessments import AssessmentResult
from app.units import query as units

RESULTS = cast(Table, AssessmentResult.__table__)
# Refreshes of kept results write one at a time (a second worker waits, then replaces).
REFRESH_LOCK = 0x4E544D_0F16  # "NTM", issue 15
# Above this many units (four chunks; a province has fewer than 700 communes) a year's assessments
# are read in one statement and filtered here: fewer round trips than chunked ``IN`` lists.
WHOLE_YEAR_FROM = 3600

# What a report needs of an assessment, and the result kept for it (NULL when none is).
_COLUMNS = (
    ASSESSMENTS.c.id,
    ASSESSMENTS.c.unit_id,
    ASSESSMENTS.c.year,
    ASSESSMENTS.c.kind,
    ASSESSMENTS.c.status,
    ASSESSMENTS.c.criteria_set_id,
    ASSESSMENTS.c.revision,
    ASSESSMENTS.c.updated_at,
    RESULTS.c.revision.label("result_revision"),
    RESULTS.c.set_version.label("result_set_version"),
    RESULTS.c.set_updated_at.label("result_set_updated_at"),
    RESULTS.c.map_token.label("result_map_token"),
    RESULTS.c.evaluable.label("result_evaluable"),
    RESULTS.c.criteria_total.label("result_criteria_total"),
    RESULTS.c.criteria_met.label("result_criteria_met"),
    RESULTS.c.statuses.label("result_statuses"),
)


def _with_results() -> Any:
    return select(*_COLUMNS, units.map_token_select().label("map_token")).select_from(
        ASSESSMENTS.outerjoin(RESULTS, RESULTS.c.assessment_id == ASSESSMENTS.c.id)
    )


async def of_units_in_year(
    session: AsyncSession,
    unit_ids: Sequence[uuid.UUID],
    year: int,
    criteria_set_id: uuid.UUID | None = None,
) -> list[RowMapping]:
    """Every assessment of ``year`` of the units (of the set, if given) with its kept result and
    the map token: each chunk of units in one statement or, for more units than a few chunks
    (the whole country), the year's assessments in one statement, kept if their unit is one of
    ``unit_ids``."""
    wanted = sorted(set(unit_ids))
    year_only = _with_results().where(ASSESSMENTS.c.year == year)
    if criteria_set_id is not None:
        year_only = year_only.where(ASSESSMENTS.c.criteria_set_id == criteria_set_id)
    if len(wanted) > WHOLE_YEAR_FROM:
        inside = set(wanted)
        found = (await session.execute(year_only)).mappings().all()
        return [row for row in found if row["unit_id"] in inside]
    rows: list[RowMapping] = []
    for part in chunks(wanted):
        statement = year_only.where(ASSESSMENTS.c.unit_id.in_(part))
        rows.extend((await session.execute(statement)).mappings().all())
    return rows


async def sets_assessed(session: AsyncSession) -> list[uuid.UUID]:
    """The criteria sets that have assessments (a handful; the natural key's index answers)."""
    found = await session.execute(select(ASSESSMENTS.c.criteria_set_id).distinct())
    return list(found.scalars())


async def stale(
    session: AsyncSession, set_keys: Mapping[uuid.UUID, tuple[int, datetime] | None], limit: int
) -> list[RowMapping]:
    """Up to ``limit`` assessments whose kept result is missing or was computed under another
    key (revision, set version, map token), with what ``keep`` needs, in one statement. Sets
    without a key (drafts) are left out: what is computed from them is never kept."""
    same_set = or_(
        false(),
        *(
            and_(
                ASSESSMENTS.c.criteria_set_id == set_id,
                RESULTS.c.set_version == key[0],
                RESULTS.c.set_updated_at == key[1],
            )
            for set_id, key in set_keys.items()
            if key is not None
        ),
    )
    keyed = [set_id for set_id, key in set_keys.items() if key is not None]
    statement = (
        select(ASSESSMENTS, units.map_token_select().label("map_token"))
        .select_from(ASSESSMENTS.outerjoin(RESULTS, RESULTS.c.assessment_id == ASSESSMENTS.c.id))
        .where(
            ASSESSMENTS.c.criteria_set_id.in_(keyed),
            or_(
                RESULTS.c.assessment_id.is_(None),
                RESULTS.c.revision != ASSESSMENTS.c.revision,
                RESULTS.c.map_token != units.map_token_select(),
                ~same_set,
            ),
        )
        .order_by(ASSESSMENTS.c.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).mappings().all())


async def replace(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store results (replacing those kept for the same assessments); serialised between
    writers so that two refreshes of one assessment never collide on its key. An assessment
    deleted since it was evaluated is skipped."""
    if not rows:
        return
    await serialise_until_commit(session, REFRESH_LOCK)
    ids = sorted({row["assessment_id"] for row in rows})
    present: set[uuid.UUID] = set()
    for part in chunks(ids):
        await session.execute(delete(RESULTS).where(RESULTS.c.assessment_id.in_(part)))
        present.update(
            (await session.execute(select(ASSESSMENTS.c.id).where(ASSESSMENTS.c.id.in_(part))))
            .scalars()
            .all()
        )
    kept = [dict(row) for row in rows if row["assessment_id"] in present]
    for part in chunks(kept, 2000):
        await session.execute(insert(RESULTS), list(part))
