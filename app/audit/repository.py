"""SQL for the audit trail. Insert and select only: nothing here updates or deletes a record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import count_matching
from app.models.system import AuditRecord


async def insert_records(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(AuditRecord), rows)


@dataclass(frozen=True)
class AuditFilter:
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    actor_id: uuid.UUID | None = None
    client_id: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_records(
    session: AsyncSession,
    where: AuditFilter,
    *,
    visible: ColumnElement[bool],
    limit: int,
    before_seq: int | None,
) -> Sequence[AuditRecord]:
    """Newest first."""
    query = _records_select(where, visible)
    if before_seq is not None:
        query = query.where(AuditRecord.seq < before_seq)
    query = query.order_by(AuditRecord.seq.desc()).limit(limit + 1)
    return (await session.scalars(query)).all()


async def count_records(
    session: AsyncSession, where: AuditFilter, *, visible: ColumnElement[bool]
) -> int:
    return await count_matching(session, _records_select(where, visible))


def _records_select(where: AuditFilter, visible: ColumnElement[bool]) -> Select[AuditRecord]:
    query = select(AuditRecord).where(visible)
    if where.entity is not None:
        query = query.where(AuditRecord.entity == where.entity)
    if where.entity_id is not None:
        query = query.where(AuditRecord.entity_id == where.entity_id)
    if where.action is not None:
        query = query.where(AuditRecord.action == where.action)
    if where.actor_id is not None:
        query = query.where(AuditRecord.actor_id == where.actor_id)
    if where.client_id is not None:
        query = query.where(AuditRecord.client_id == where.client_id)
    if where.request_id is not None:
        query = query.where(AuditRecord.request_id == where.request_id)
    if where.since is not None:
        query = query.where(AuditRecord.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(AuditRecord.occurred_at < where.until)
    return query


async def get_record(session: AsyncSession, seq: int) -> AuditRecord | None:
    return await session.get(AuditRecord, seq)
