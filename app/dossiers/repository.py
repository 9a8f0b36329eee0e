"""SQL of recognition dossiers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, RowMapping, Table, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.locking import for_update
from app.models.dossiers import Dossier, DossierAssessment, DossierDocument, DossierTransition

DOSSIERS = cast(Table, Dossier.__table__)
LINKS = cast(Table, DossierAssessment.__table__)
DOCUMENTS = cast(Table, DossierDocument.__table__)
TRANSITIONS = cast(Table, DossierTransition.__table__)


async def get(session: AsyncSession, dossier_id: uuid.UUID) -> RowMapping | None:
    result = await session.execute(select(DOSSIERS).where(DOSSIERS.c.id == dossier_id))
    return result.mappings().first()


async def get_for_update(session: AsyncSession, dossier_id: uuid.UUID) -> RowMapping | None:
    result = await session.execute(for_update(select(DOSSIERS).where(DOSSIERS.c.id == dossier_id)))
    return result.mappings().first()


async def assessment_ids(session: AsyncSession, dossier_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(LINKS.c.assessment_id)
        .where(LINKS.c.dossier_id == dossier_id)
        .order_by(LINKS.c.assessment_id)
    )
    return list(rows)


async def insert_dossier(
    session: AsyncSession, row: Mapping[str, Any], assessments: Sequence[uuid.UUID]
) -> None:
    await session.execute(insert(DOSSIERS), [dict(row)])
    await session.execute(
        insert(LINKS), [{"dossier_id": row["id"], "assessment_id": a} for a in assessments]
    )


async def update_dossier(
    session: AsyncSession, dossier_id: uuid.UUID, changes: Mapping[str, Any]
) -> None:
    await session.execute(update(DOSSIERS).where(DOSSIERS.c.id == dossier_id).values(**changes))


async def next_seq(session: AsyncSession, dossier_id: uuid.UUID) -> int:
    last = await session.scalar(
        select(func.max(TRANSITIONS.c.seq)).where(TRANSITIONS.c.dossier_id == dossier_id)
    )
    return int(last or 0) + 1


async def insert_transition(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(insert(TRANSITIONS), [dict(row)])


async def history(session: AsyncSession, dossier_id: uuid.UUID) -> list[RowMapping]:
    result = await session.execute(
        select(TRANSITIONS)
        .where(TRANSITIONS.c.dossier_id == dossier_id)
        .order_by(TRANSITIONS.c.seq)
    )
    return list(result.mappings().all())


async def documents(session: AsyncSession, dossier_id: uuid.UUID) -> list[RowMapping]:
    result = await session.execute(
        select(DOCUMENTS)
        .where(DOCUMENTS.c.dossier_id == dossier_id)
        .order_by(DOCUMENTS.c.uploaded_at, DOCUMENTS.c.id)
    )
    return list(result.mappings().all())


async def document(
    session: AsyncSession, dossier_id: uuid.UUID, document_id: uuid.UUID
) -> RowMapping | None:
    result = await session.execute(
        select(DOCUMENTS).where(DOCUMENTS.c.dossier_id == dossier_id, DOCUMENTS.c.id == document_id)
    )
    return result.mappings().first()


async def insert_document(session: AsyncSession, row: Mapping[str, Any]) -> None:
    await session.execute(insert(DOCUMENTS), [dict(row)])


@dataclass(frozen=True)
class ListFilters:
    visible: ColumnElement[bool]
    status: str | None = None
    title: str | None = None
    year: int | None = None
    units: Any = None  # a select of unit ids (a subtree), or None
    updated_since: datetime | None = None


async def list_page(
    session: AsyncSession,
    filters: ListFilters,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[RowMapping]:
    statement = select(DOSSIERS).where(filters.visible)
    if filters.status is not None:
        statement = statement.where(DOSSIERS.c.status == filters.status)
    if filters.title is not None:
        statement = statement.where(DOSSIERS.c.title == filters.title)
    if filters.year is not None:
        statement = statement.where(DOSSIERS.c.year == filters.year)
    if filters.units is not None:
        statement = statement.where(DOSSIERS.c.unit_id.in_(filters.units))
    if filters.updated_since is not None:
        statement = statement.where(DOSSIERS.c.updated_at >= filters.updated_since)
    if after is not None:
        moment, last_id = after
        statement = statement.where(
            or_(
                DOSSIERS.c.updated_at > moment,
                and_(DOSSIERS.c.updated_at == moment, DOSSIERS.c.id > last_id),
            )
        )
    statement = statement.order_by(DOSSIERS.c.updated_at, DOSSIERS.c.id).limit(limit + 1)
    return list((await session.execute(statement)).mappings().all())
