"""Large imports as background jobs, run in-process by asyncio tasks with their own sessions.

Bounded: at most ``concurrency`` imports run at once and ``max_pending`` wait; beyond that the
request is refused (503 ``import_queue_full``). Progress is written to the job row in short
transactions of its own so that pollers see it. On shutdown the tasks are cancelled and their jobs
marked ``cancelled``; a job left ``queued`` or ``running`` by a crashed process (untouched for
an hour: other workers' jobs report progress every second) is marked ``failed`` at startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.imports.service.pipeline import ImportParams, run_import
from app.assessments.service import criteria as criteria_port
from app.audit.service import AuditContext
from app.core.errors import NotFound, ProblemError, ServiceUnavailable
from app.core.http import timestamp
from app.core.permissions import Action
from app.core.security import Principal
from app.db.engine import Database
from app.db.types import utcnow
from app.models.assessments import ImportJob, ImportJobStatus

logger = logging.getLogger("app.assessments.jobs")
J = cast(Table, ImportJob.__table__)
PROGRESS_EVERY_SECONDS = 1.0
STALE_AFTER = timedelta(hours=1)


def job_representation(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "criteria_set_id": row["criteria_set_id"],
        "params": row["params"],
        "filename": row["filename"],
        "rows_estimated": row["rows_estimated"],
        "rows_processed": row["rows_processed"],
        "summary": row["summary"],
        "error": row["error"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "started_at": timestamp(row["started_at"]),
        "finished_at": timestamp(row["finished_at"]),
    }


async def create_job(
    session: AsyncSession,
    context: AuditContext,
    params: ImportParams,
    *,
    media_type: str | None,
    size: int,
    estimate: int | None,
) -> uuid.UUID:
    # The set must exist before a job can name it (404 criteria_set_not_found, as without a
    # job; the job row's foreign key would otherwise fail the request).
    await criteria_port.load_set(session, params.criteria_set_id)
    job_id = uuid.uuid4()
    now = utcnow()
    await session.execute(
        J.insert().values(
            id=job_id,
            status=ImportJobStatus.QUEUED.value,
            criteria_set_id=params.criteria_set_id,
            params=params.public(),
            filename=params.filename,
            media_type=media_type,
            size_bytes=size,
            rows_estimated=estimate,
            rows_processed=0,
            created_at=now,
            updated_at=now,
            created_by=context.actor_id,
            created_by_name=context.actor_name,
        )
    )
    return job_id


async def get_job(
    session: AsyncSession, job_id: uuid.UUID, principal: Principal | None = None
) -> dict[str, Any]:
    """A job is seen by who started it, and by national holders of assessments:write."""
    row = (await session.execute(J.select().where(J.c.id == job_id))).mappings().first()
    if row is None or not (
        principal is None
        or row["created_by"] == principal.id
        or principal.allows_nationally(Action.ASSESSMENTS_WRITE)
    ):
        raise NotFound(f"No import job with id {job_id}.", code="import_job_not_found")
    return job_representation(row)


async def _set(database: Database, job_id: uuid.UUID, **values: Any) -> None:
    async with database.session() as session:
        await session.execute(
            update(J).where(J.c.id == job_id).values(updated_at=utcnow(), **values)
        )
        await session.commit()


def _json_safe(summary: dict[str, Any]) -> dict[str, Any]:
    return {**summary, "import_id": str(summary["import_id"])}


class ImportJobs:
    def __init__(self, database: Database, *, concurrency: int = 1, max_pending: int = 8) -> None:
        self.database = database
        self.slots = asyncio.Semaphore(concurrency)
        self.max_pending = max_pending
        self.tasks: dict[uuid.UUID, asyncio.Task[None]] = {}

    def check_capacity(self) -> None:
        if len(self.tasks) >= self.max_pending:
            raise ServiceUnavailable(
                "Too many imports are waiting; try again in a minute.",
                code="import_queue_full",
                headers={"Retry-After": "60"},
            )

    def start(
        self,
        job_id: uuid.UUID,
        path: Path,
        params: ImportParams,
        context: AuditContext,
        principal: Principal | None,
    ) -> None:
        task = asyncio.create_task(self._run(job_id, path, params, context, principal))
        self.tasks[job_id] = task
        task.add_done_callback(lambda _: self.tasks.pop(job_id, None))

    async def _run(
        self,
        job_id: uuid.UUID,
        path: Path,
        params: ImportParams,
        context: AuditContext,
        principal: Principal | None,
    ) -> None:
        try:
            async with self.slots:
                await _set(
                    self.database, job_id, status=ImportJobStatus.RUNNING.value, started_at=utcnow()
                )
                last = time.monotonic()

                async def progress(rows: int) -> None:
                    nonlocal last
                    if time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
                        last = time.monotonic()
                        await _set(self.database, job_id, rows_processed=rows)

                async with self.database.session() as session:
                    summary = await run_import(
                        session,
                        context,
                        path,
                        params,
                        import_id=job_id,
                        progress=progress,
                        principal=principal,
                    )
                    await session.commit()
                await _set(
                    self.database,
                    job_id,
                    status=ImportJobStatus.SUCCEEDED.value,
                    rows_processed=summary["rows"],
                    summary=_json_safe(summary),
                    finished_at=utcnow(),
                )
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await _set(
                    self.database,
                    job_id,
                    status=ImportJobStatus.CANCELLED.value,
                    error={"code": "import_cancelled", "detail": "The server shut down."},
                    finished_at=utcnow(),
                )
            raise
        except ProblemError as exc:  # e.g. a unit outside the caller's scopes
            with contextlib.suppress(Exception):
                await _set(
                    self.database,
                    job_id,
                    status=ImportJobStatus.FAILED.value,
                    error={"code": exc.code, "status": exc.status, "detail": exc.detail},
                    finished_at=utcnow(),
                )
        except Exception as exc:
            logger.exception("import job %s failed", job_id)
            with contextlib.suppress(Exception):
                await _set(
                    self.database,
                    job_id,
                    status=ImportJobStatus.FAILED.value,
                    error={"code": "import_failed", "detail": type(exc).__name__},
                    finished_at=utcnow(),
                )
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def drain(self) -> None:
        """Wait until every job has finished (tests, orderly shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks.values()), return_exceptions=True)

    async def shutdown(self) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def fail_interrupted(database: Database) -> None:
    """Jobs a previous process left behind can never finish: say so."""
    try:
        async with database.session() as session:
            await session.execute(
                update(J)
                .where(
                    J.c.status.in_([ImportJobStatus.QUEUED.value, ImportJobStatus.RUNNING.value]),
                    J.c.updated_at < utcnow() - STALE_AFTER,
                )
                .values(
                    status=ImportJobStatus.FAILED.value,
                    error={"code": "import_interrupted", "detail": "The server restarted."},
                    finished_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            await session.commit()
    except Exception:  # the database may not be reachable yet; /readyz reports that
        logger.warning("could not mark interrupted import jobs", exc_info=True)
