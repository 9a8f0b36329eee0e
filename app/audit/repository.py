"""SQL for the audit trail. Insert and select only: nothing here updates or deletes a record."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import AuditRecord


async def insert_records(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(AuditRecord), rows)
