"""SQL of plans and what they hold: Core statements, one round trip each."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping, Table, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.chunking import chunks
from app.db.locking import for_update
from app.models.dossiers import Dossier
from app.models.enums import DossierStatus
from app.models.plans import Plan, PlanDocument, PlanRoadmapItem, PlanTarget, PlanTask

PLANS = cast(Table, Plan.__table__)
TARGETS = cast(Table, PlanTarget.__table__)
ROADMAP = cast(Table, PlanRoadmapItem.__table__)
TASKS = cast(Table, PlanTask.__table__)
DOCUMENTS = cast(Table, PlanDocument.__table__)
DOSSIERS = cast(Table, Dossier.__table__)
_ENDED = [status.value for status in DossierStatus if status.is_final]


async def get(session: AsyncSession, table: Table, row_id: uuid.UUID) -> RowMapping | None:
    result = await session.execute(select(table).where(table.c.id == row_id))
    return result.mappings().first()


async def get_for_update(
    session: AsyncSession, table: Table, row_id: uuid.UUID
) -> RowMapping | None:
    """The row, locked until the end of the transaction on PostgreSQL (SQLite locks the file)."""
    result = await session.execute(for_update(select(table).where(table.c.id == row_id)))
    return result.mappings().first()


async def insert_one(session: AsyncSession, table: Table, row: Mapping[str, Any]) -> None:
    await session.execute(insert(table), [dict(row)])


async def insert_many(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(table), rows)


async def update_one(
    session: AsyncSession, table: Table, row_id: uuid.UUID, values: Mapping[str, Any]
) -> None:
    await session.execute(update(table).where(table.c.id == row_id).values(**values))


async def children(session: AsyncSession, table: Table, plan_id: uuid.UUID) -> list[RowMapping]:
    """Every row of ``table`` under the plan, in a stable order (creation, id)."""
    statement = (
        select(table)
        .where(table.c.plan_id == plan_id)
        .order_by(
            table.c.created_at if "created_at" in table.c else table.c.uploaded_at, table.c.id
        )
    )
    return list((await session.execute(statement)).mappings().all())


async def child_page(
    session: AsyncSession,
    table: Table,
    plan_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    updated_since: datetime | None,
    limit: int,
) -> list[RowMapping]:
    statement = select(table).where(table.c.plan_id == plan_id)
    if updated_since is not None:
        statement = statement.where(table.c.updated_at >= updated_since)
    if after is not None:
        moment, last_id = after
        statement = statement.where(
            or_(
                table.c.updated_at > moment,
                and_(table.c.updated_at == moment, table.c.id > last_id),
            )
        )
    statement = statement.order_by(table.c.updated_at, table.c.id).limit(limit + 1)
    return list((await session.execute(statement)).mappings().all())


@dataclass(frozen=True)
class PlanFilters:
    visible: Any = None
    issuing_unit_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    status: str | None = None
    kind: str | None = None
    year: int | None = None
    updated_since: datetime | None = None


async def plan_page(
    session: AsyncSession,
    filters: PlanFilters,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[RowMapping]:
    statement = select(PLANS)
    if filters.visible is not None:
        statement = statement.where(filters.visible)
    if filters.issuing_unit_id is not None:
        statement = statement.where(PLANS.c.issuing_unit_id == filters.issuing_unit_id)
    if filters.parent_id is not None:
        statement = statement.where(PLANS.c.parent_id == filters.parent_id)
    if filters.status is not None:
        statement = statement.where(PLANS.c.status == filters.status)
    if filters.kind is not None:
        statement = statement.where(PLANS.c.kind == filters.kind)
    if filters.year is not None:
        statement = statement.where(
            PLANS.c.start_year <= filters.year, PLANS.c.end_year >= filters.year
        )
    if filters.updated_since is not None:
        statement = statement.where(PLANS.c.updated_at >= filters.updated_since)
    if after is not None:
        moment, last_id = after
        statement = statement.where(
            or_(
                PLANS.c.updated_at > moment,
                and_(PLANS.c.updated_at == moment, PLANS.c.id > last_id),
            )
        )
    statement = statement.order_by(PLANS.c.updated_at, PLANS.c.id).limit(limit + 1)
    return list((await session.execute(statement)).mappings().all())


async def open_dossiers(
    session: AsyncSession, unit_ids: list[uuid.UUID], title: str, up_to_year: int
) -> list[RowMapping]:
    """Dossiers for ``title`` of the units that have not ended (recognised, rejected,
    withdrawn), for a year up to ``up_to_year``, oldest first."""
    rows: list[RowMapping] = []
    for part in chunks(sorted(set(unit_ids))):
        statement = (
            select(
                DOSSIERS.c.id,
                DOSSIERS.c.unit_id,
                DOSSIERS.c.status,
                DOSSIERS.c.year,
                DOSSIERS.c.submitted_at,
            )
            .where(
                DOSSIERS.c.unit_id.in_(part),
                DOSSIERS.c.title == title,
                DOSSIERS.c.year <= up_to_year,
                DOSSIERS.c.status.not_in(_ENDED),
            )
            .order_by(DOSSIERS.c.created_at, DOSSIERS.c.id)
        )
        rows.extend((await session.execute(statement)).mappings().all())
    return rows
