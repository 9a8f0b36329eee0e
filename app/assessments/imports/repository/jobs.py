"""SQL of import jobs: the queue a worker claims from.

A claim is one ``UPDATE … WHERE id = (SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING``: on
PostgreSQL concurrent workers each take a different queued job without waiting for one another;
SQLite drops the ``FOR UPDATE`` and runs the statement alone (one writer at a time), so the
claim is atomic there too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.types import utcnow
from app.models.assessments import ImportJob, ImportJobStatus

JOBS = cast(Table, ImportJob.__table__)
ACTIVE = (ImportJobStatus.QUEUED.value, ImportJobStatus.RUNNING.value)


async def insert(session: AsyncSession, **values: Any) -> None:
    now = utcnow()
    await session.execute(JOBS.insert().values(created_at=now, updated_at=now, **values))


async def get(session: AsyncSession, job_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(JOBS.select().where(JOBS.c.id == job_id))).mappings().first()


async def count_active(session: AsyncSession, created_by: uuid.UUID | None = None) -> int:
    query = select(func.count()).select_from(JOBS).where(JOBS.c.status.in_(ACTIVE))
    if created_by is not None:
        query = query.where(JOBS.c.created_by == created_by)
    return int(await session.scalar(query) or 0)


async def set_values(
    session: AsyncSession, job_id: uuid.UUID, *, holder: str | None = None, **values: Any
) -> bool:
    """Update a job; with ``holder``, only while that worker still holds it (a worker that was
    presumed dead must not overwrite the state its successor wrote)."""
    statement = update(JOBS).where(JOBS.c.id == job_id)
    if holder is not None:
        statement = statement.where(
            JOBS.c.worker_id == holder, JOBS.c.status == ImportJobStatus.RUNNING.value
        )
    result = await session.execute(statement.values(updated_at=utcnow(), **values))
    return bool(getattr(result, "rowcount", 0))


async def claim(session: AsyncSession, worker_id: str) -> RowMapping | None:
    now = utcnow()
    oldest = (
        select(JOBS.c.id)
        .where(JOBS.c.status == ImportJobStatus.QUEUED.value)
        .order_by(JOBS.c.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(JOBS)
        .where(JOBS.c.id == oldest, JOBS.c.status == ImportJobStatus.QUEUED.value)
        .values(
            status=ImportJobStatus.RUNNING.value,
            worker_id=worker_id,
            heartbeat_at=now,
            started_at=func.coalesce(JOBS.c.started_at, now),
            attempts=JOBS.c.attempts + 1,
            updated_at=now,
        )
        .returning(*JOBS.c)
    )
    return (await session.execute(statement)).mappings().first()


async def release_stale(
    session: AsyncSession, *, before: datetime, max_attempts: int, error: dict[str, Any]
) -> tuple[int, int]:
    """Running jobs whose worker stopped beating before ``before``: queued again while they have
    attempts left, else failed. Returns (requeued, failed)."""
    now = utcnow()
    stale = (
        JOBS.c.status == ImportJobStatus.RUNNING.value,
        func.coalesce(JOBS.c.heartbeat_at, JOBS.c.updated_at) < before,
    )
    failed = await session.execute(
        update(JOBS)
        .where(*stale, JOBS.c.attempts >= max_attempts)
        .values(
            status=ImportJobStatus.FAILED.value,
            error=error,
            worker_id=None,
            finished_at=now,
            updated_at=now,
        )
    )
    requeued = await session.execute(
        update(JOBS)
        .where(*stale, JOBS.c.attempts < max_attempts)
        .values(status=ImportJobStatus.QUEUED.value, worker_id=None, updated_at=now)
    )
    return int(getattr(requeued, "rowcount", 0)), int(getattr(failed, "rowcount", 0))
