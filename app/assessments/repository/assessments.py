"""SQL for assessments themselves: Core statements, one round trip each."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping, Select, Table, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.pagination import count_matching
from app.db.chunking import chunks
from app.db.locking import for_update
from app.models.assessments import Assessment
from app.models.dossiers import Dossier, DossierAssessment
from app.models.enums import DossierStatus

ASSESSMENTS = cast(Table, Assessment.__table__)


async def get(session: AsyncSession, assessment_id: uuid.UUID) -> RowMapping | None:
    result = await session.execute(select(ASSESSMENTS).where(ASSESSMENTS.c.id == assessment_id))
    return result.mappings().first()


async def get_for_update(session: AsyncSession, assessment_id: uuid.UUID) -> RowMapping | None:
    """The row, locked until the end of the transaction on PostgreSQL (SQLite locks the file)."""
    result = await session.execute(
        for_update(select(ASSESSMENTS).where(ASSESSMENTS.c.id == assessment_id))
    )
    return result.mappings().first()


async def held_by_dossier(session: AsyncSession, assessment_id: uuid.UUID) -> uuid.UUID | None:
    """The dossier under review that rests on the assessment, if any: its values are locked
    until the dossier is returned to the applying unit or ends (issue 13)."""
    reviewing = [status.value for status in DossierStatus if status.under_review]
    found: uuid.UUID | None = await session.scalar(
        select(DossierAssessment.dossier_id)
        .join(Dossier, Dossier.id == DossierAssessment.dossier_id)
        .where(DossierAssessment.assessment_id == assessment_id, Dossier.status.in_(reviewing))
        .limit(1)
    )
    return found


async def held_by_dossiers(
    session: AsyncSession, assessment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """``held_by_dossier`` for many assessments: assessment id → dossier id."""
    reviewing = [status.value for status in DossierStatus if status.under_review]
    out: dict[uuid.UUID, uuid.UUID] = {}
    for part in chunks(list(assessment_ids)):
        rows = await session.execute(
            select(DossierAssessment.assessment_id, DossierAssessment.dossier_id)
            .join(Dossier, Dossier.id == DossierAssessment.dossier_id)
            .where(DossierAssessment.assessment_id.in_(part), Dossier.status.in_(reviewing))
        )
        for assessment_id, dossier_id in rows.all():
            out[assessment_id] = dossier_id
    return out


async def get_many(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    rows: list[RowMapping] = []
    for part in chunks(list(ids)):
        rows.extend(
            (await session.execute(select(ASSESSMENTS).where(ASSESSMENTS.c.id.in_(part))))
            .mappings()
            .all()
        )
    return rows


_NATURAL_KEY = "uq_assessments_criteria_set_id_year_kind_unit_id"


def natural_key_taken(existing_id: uuid.UUID) -> Conflict:
    """409 naming the assessment that holds the unit, criteria set, year and kind."""
    return Conflict(
        f"Assessment {existing_id} already exists for this unit, criteria set, year and kind.",
        code="assessment_exists",
        params={"existing_id": str(existing_id)},
        headers={"Location": f"/api/v1/assessments/{existing_id}"},
        extra={"existing_id": str(existing_id)},
    )


async def find_by_natural_key(
    session: AsyncSession, unit_id: uuid.UUID, criteria_set_id: uuid.UUID, year: int, kind: str
) -> uuid.UUID | None:
    return cast(
        uuid.UUID | None,
        await session.scalar(
            select(ASSESSMENTS.c.id).where(
                ASSESSMENTS.c.unit_id == unit_id,
                ASSESSMENTS.c.criteria_set_id == criteria_set_id,
                ASSESSMENTS.c.year == year,
                ASSESSMENTS.c.kind == kind,
            )
        ),
    )


async def insert_one(session: AsyncSession, row: Mapping[Any, Any]) -> None:
    await insert_many(session, [row])


async def insert_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Every creation path (the API, bulk imports) goes through here, so a concurrent writer
    that took a natural key first gives 409 ``assessment_exists``, never a 500: the callers
    check beforehand, and the savepoint keeps the transaction usable on PostgreSQL."""
    try:
        async with session.begin_nested():
            for part in chunks(list(rows), 2000):
                await session.execute(insert(ASSESSMENTS), [dict(row) for row in part])
    except IntegrityError as exc:
        # PostgreSQL names the constraint; SQLite lists its columns.
        message = str(exc.orig)
        if _NATURAL_KEY not in message and "assessments.criteria_set_id" not in message:
            raise
        for row in rows:
            existing = await find_by_natural_key(
                session, row["unit_id"], row["criteria_set_id"], row["year"], row["kind"]
            )
            if existing is not None and existing != row["id"]:
                raise natural_key_taken(existing) from exc
        raise


async def update_one(
    session: AsyncSession, assessment_id: uuid.UUID, values: Mapping[str, Any]
) -> None:
    await session.execute(
        update(ASSESSMENTS).where(ASSESSMENTS.c.id == assessment_id).values(**values)
    )


async def touch(
    session: AsyncSession,
    ids: Iterable[uuid.UUID],
    now: datetime,
    actor_id: uuid.UUID | None,
    actor_name: str | None,
) -> None:
    """A change to what the assessments hold: new revision, new ``updated_at``."""
    wanted = sorted(set(ids))
    for part in chunks(wanted):
        await session.execute(
            update(ASSESSMENTS)
            .where(ASSESSMENTS.c.id.in_(part))
            .values(
                revision=ASSESSMENTS.c.revision + 1,
                updated_at=now,
                updated_by=actor_id,
                updated_by_name=actor_name,
            )
        )


async def find_for_units(
    session: AsyncSession,
    criteria_set_id: uuid.UUID,
    kind: str,
    pairs: Iterable[tuple[uuid.UUID, int]],
) -> list[RowMapping]:
    """Assessments of the set and kind for each (unit, year) pair."""
    wanted = sorted(set(pairs))
    rows: list[RowMapping] = []
    for part in chunks(wanted, 400):
        years = sorted({year for _, year in part})
        units = sorted({unit for unit, _ in part})
        statement = select(
            ASSESSMENTS.c.id,
            ASSESSMENTS.c.unit_id,
            ASSESSMENTS.c.year,
            ASSESSMENTS.c.status,
            ASSESSMENTS.c.created_at,
        ).where(
            ASSESSMENTS.c.criteria_set_id == criteria_set_id,
            ASSESSMENTS.c.kind == kind,
            ASSESSMENTS.c.year.in_(years),
            ASSESSMENTS.c.unit_id.in_(units),
        )
        rows.extend((await session.execute(statement)).mappings().all())
    keep = set(wanted)
    return [row for row in rows if (row["unit_id"], row["year"]) in keep]


async def find_for_year(
    session: AsyncSession, criteria_set_id: uuid.UUID, kind: str, year: int
) -> list[RowMapping]:
    """Every assessment of the set and kind for the year (bulk imports of a whole level)."""
    statement = select(
        ASSESSMENTS.c.id,
        ASSESSMENTS.c.unit_id,
        ASSESSMENTS.c.year,
        ASSESSMENTS.c.status,
        ASSESSMENTS.c.created_at,
    ).where(
        ASSESSMENTS.c.criteria_set_id == criteria_set_id,
        ASSESSMENTS.c.kind == kind,
        ASSESSMENTS.c.year == year,
    )
    return list((await session.execute(statement)).mappings().all())


@dataclass(frozen=True)
class ListFilters:
    visible: Any = None
    within: Any = None  # a condition on the unit (app.units.query.subtree_ids)
    unit_id: uuid.UUID | None = None
    criteria_set_id: uuid.UUID | None = None
    year: int | None = None
    kind: str | None = None
    status: str | None = None
    updated_since: datetime | None = None


def list_select(filters: ListFilters) -> Select[Any]:
    """The assessments a list shows, before its cursor and page size."""
    statement = select(ASSESSMENTS)
    if filters.visible is not None:
        statement = statement.where(filters.visible)
    if filters.within is not None:
        statement = statement.where(filters.within)
    if filters.unit_id is not None:
        statement = statement.where(ASSESSMENTS.c.unit_id == filters.unit_id)
    if filters.criteria_set_id is not None:
        statement = statement.where(ASSESSMENTS.c.criteria_set_id == filters.criteria_set_id)
    if filters.year is not None:
        statement = statement.where(ASSESSMENTS.c.year == filters.year)
    if filters.kind is not None:
        statement = statement.where(ASSESSMENTS.c.kind == filters.kind)
    if filters.status is not None:
        statement = statement.where(ASSESSMENTS.c.status == filters.status)
    if filters.updated_since is not None:
        statement = statement.where(ASSESSMENTS.c.updated_at >= filters.updated_since)
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
                ASSESSMENTS.c.updated_at > moment,
                and_(ASSESSMENTS.c.updated_at == moment, ASSESSMENTS.c.id > last_id),
            )
        )
    statement = statement.order_by(ASSESSMENTS.c.updated_at, ASSESSMENTS.c.id).limit(limit + 1)
    return list((await session.execute(statement)).mappings().all())


async def of_units(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], *, up_to_year: int
) -> list[RowMapping]:
    """Every assessment of the units for a year up to ``up_to_year``: one statement a chunk."""
    rows: list[RowMapping] = []
    for part in chunks(sorted(set(unit_ids))):
        statement = select(ASSESSMENTS).where(
            ASSESSMENTS.c.unit_id.in_(part), ASSESSMENTS.c.year <= up_to_year
        )
        rows.extend((await session.execute(statement)).mappings().all())
    return rows
