"""Large imports as background jobs, run by the worker (app/worker), so that a job accepted with
202 survives a restart of the server.

Accepting a job stores the upload in the file storage (``imports/<job id>``) and a ``queued`` row
that names it, with who asked and the audit context; nothing else is kept in memory. A worker
claims the oldest queued job, runs the import in one transaction of its own and writes progress
and a heartbeat to the row in short transactions beside it. A job whose worker stopped beating
for ``NTM_JOB_STALE_SECONDS`` is queued again (the interrupted import was rolled back with its
transaction, so running it again is safe), up to ``NTM_JOB_MAX_ATTEMPTS``, then failed. A worker
that is shut down puts its job back in the queue. The stored upload is removed when the job ends,
whatever the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.imports import parsing
from app.assessments.imports.repository import jobs as repo
from app.assessments.imports.service.pipeline import ImportParams, run_import
from app.assessments.service import criteria as criteria_port
from app.audit.service import AuditContext
from app.core.errors import NotFound, ProblemError, ServiceUnavailable
from app.core.http import timestamp
from app.core.permissions import Action
from app.core.security import Principal, PrincipalKind, load_grants
from app.core.uploads import Upload
from app.db import dialect as bulk_dialect
from app.db.availability import is_database_unavailable
from app.db.engine import Database
from app.db.types import utcnow
from app.models.assessments import AssessmentKind, ImportJobStatus
from app.storage import FileStorage

logger = logging.getLogger("app.assessments.jobs")
PROGRESS_EVERY_SECONDS = 1.0
# Accepted jobs not yet finished, over all callers and per caller: beyond, 503 import_queue_full.
MAX_PENDING = 8
MAX_PENDING_PER_PRINCIPAL = 4
DEFAULT_MAX_SECONDS = 1800.0


def upload_key(job_id: uuid.UUID) -> str:
    return f"imports/{job_id}"


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


async def check_capacity(session: AsyncSession, principal: Principal) -> None:
    """A caller's own unfinished jobs over its share is that caller's excess: 429, like any
    quota (the service itself is available to everyone else). The whole queue full is the
    service's capacity: 503. Both with ``Retry-After``."""
    theirs = await repo.count_active(session, principal.id)
    if theirs >= MAX_PENDING_PER_PRINCIPAL:
        raise ProblemError(
            "You have too many imports waiting; try again in a minute.",
            code="import_queue_full",
            status=429,
            headers={"Retry-After": "60"},
        )
    if await repo.count_active(session) >= MAX_PENDING:
        raise ServiceUnavailable(
            "Too many imports are waiting; try again in a minute.",
            code="import_queue_full",
            headers={"Retry-After": "60"},
        )


def _requested_by(context: AuditContext, principal: Principal | None) -> dict[str, Any]:
    return {
        "audit": {
            "actor_id": str(context.actor_id) if context.actor_id else None,
            "actor_kind": context.actor_kind,
            "actor_name": context.actor_name,
            "client_id": context.client_id,
            "request_id": context.request_id,
            "reason": context.reason,
        },
        "principal": None
        if principal is None
        else {
            "id": str(principal.id),
            "kind": principal.kind.value,
            "name": principal.name,
            "client_id": principal.client_id,
            "read_only": principal.read_only,
        },
    }


async def create_job(
    session: AsyncSession,
    storage: FileStorage,
    context: AuditContext,
    params: ImportParams,
    principal: Principal | None,
    *,
    upload: Upload,
    estimate: int | None,
) -> uuid.UUID:
    """Store the upload and queue the job (the caller commits; on failure the stored file is
    removed again)."""
    # The set must exist before a job can name it (404 criteria_set_not_found, as without a
    # job; the job row's foreign key would otherwise fail the request).
    await criteria_port.load_set(session, params.criteria_set_id)
    job_id = uuid.uuid4()
    key = upload_key(job_id)
    size = await storage.put_file(key, upload.path)
    try:
        await repo.insert(
            session,
            id=job_id,
            status=ImportJobStatus.QUEUED.value,
            criteria_set_id=params.criteria_set_id,
            params=params.public(),
            filename=params.filename,
            media_type=upload.media_type,
            size_bytes=size,
            rows_estimated=estimate,
            rows_processed=0,
            created_by=context.actor_id,
            created_by_name=context.actor_name,
            upload_key=key,
            requested_by=_requested_by(context, principal),
            attempts=0,
        )
    except BaseException:
        await storage.delete(key)
        raise
    return job_id


async def get_job(
    session: AsyncSession, job_id: uuid.UUID, principal: Principal | None = None
) -> dict[str, Any]:
    """A job is seen by who started it, and by national holders of assessments:write."""
    row = await repo.get(session, job_id)
    if row is None or not (
        principal is None
        or row["created_by"] == principal.id
        or principal.allows_nationally(Action.ASSESSMENTS_WRITE)
    ):
        raise NotFound(f"No import job with id {job_id}.", code="import_job_not_found")
    return job_representation(row)


# --- the worker's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    params: ImportParams
    upload_key: str | None
    requested_by: dict[str, Any]


def _params(row: RowMapping) -> ImportParams:
    stored = row["params"]
    return ImportParams(
        criteria_set_id=uuid.UUID(stored["criteria_set_id"]),
        kind=AssessmentKind(stored["kind"]),
        dry_run=bool(stored.get("dry_run")),
        mode=stored.get("mode", "upsert"),
        partial=bool(stored.get("partial")),
        year=stored.get("year"),
        as_of=date.fromisoformat(stored["as_of"]) if stored.get("as_of") else None,
        declared_format=parsing.declared_format(row["media_type"], row["filename"]),
        filename=row["filename"],
    )


async def any_active(database: Database) -> bool:
    """Whether any job is queued or running: a read, so that an idle worker never takes the
    write lock (SQLite has one) just to find nothing to do."""
    async with database.session() as session:
        return await repo.count_active(session) > 0


async def release_stale(database: Database, stale_after: timedelta, max_attempts: int) -> None:
    async with database.session() as session:
        requeued, failed = await repo.release_stale(
            session,
            before=utcnow() - stale_after,
            max_attempts=max_attempts,
            error={
                "code": "import_interrupted",
                "detail": f"The worker running the job stopped {max_attempts} time(s).",
            },
        )
        await session.commit()
    if requeued or failed:
        logger.warning("jobs of stopped workers: %d queued again, %d failed", requeued, failed)


async def claim(database: Database, worker_id: str) -> ClaimedJob | None:
    async with database.session() as session:
        row = await repo.claim(session, worker_id)
        await session.commit()
    if row is None:
        return None
    return ClaimedJob(
        id=row["id"],
        params=_params(row),
        upload_key=row["upload_key"],
        requested_by=row["requested_by"] or {},
    )


async def _set(database: Database, job_id: uuid.UUID, holder: str, **values: Any) -> bool:
    async with database.session() as session:
        held = await repo.set_values(session, job_id, holder=holder, **values)
        await session.commit()
    return held


async def _principal(session: AsyncSession, stored: dict[str, Any] | None) -> Principal | None:
    """Who asked, with the grants they hold now: a role revoked since the job was accepted no
    longer covers it."""
    if stored is None:
        return None
    kind = PrincipalKind(stored["kind"])
    principal_id = uuid.UUID(stored["id"])
    grants = (
        await load_grants(session, client_id=principal_id)
        if kind is PrincipalKind.CLIENT
        else await load_grants(session, user_id=principal_id)
    )
    return Principal(
        id=principal_id,
        kind=kind,
        name=stored["name"],
        client_id=stored.get("client_id"),
        grants=grants,
        read_only=bool(stored.get("read_only")),
    )


def _context(stored: dict[str, Any]) -> AuditContext:
    actor = stored.get("actor_id")
    return AuditContext(
        actor_id=uuid.UUID(actor) if actor else None,
        actor_kind=stored.get("actor_kind"),
        actor_name=stored.get("actor_name"),
        client_id=stored.get("client_id"),
        request_id=stored.get("request_id"),
        reason=stored.get("reason"),
    )


def _json_safe(summary: dict[str, Any]) -> dict[str, Any]:
    return {**summary, "import_id": str(summary["import_id"])}


async def run(
    database: Database,
    storage: FileStorage,
    job: ClaimedJob,
    worker_id: str,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    limits: parsing.Limits | None = None,
) -> None:
    """Run a claimed job to its end. Cancelled (the worker shuts down), it goes back to the
    queue; any other way out, it ends ``succeeded`` or ``failed`` and its upload is removed.
    Past ``max_seconds`` (``NTM_JOB_MAX_SECONDS``) it is stopped, its transaction rolled back,
    and it fails with ``import_timeout``: one file cannot hold the queue."""
    if limits is not None:
        job = dataclasses.replace(job, params=dataclasses.replace(job.params, limits=limits))
    try:
        async with asyncio.timeout(max_seconds):
            outcome = await _import(database, storage, job, worker_id)
    except TimeoutError:
        logger.warning("import job %s passed its %s s limit", job.id, max_seconds)
        outcome = _failed(
            {
                "code": "import_timeout",
                "detail": f"The import did not finish within {max_seconds:g} seconds "
                "(NTM_JOB_MAX_SECONDS); nothing was written. Split the file.",
            }
        )
    except asyncio.CancelledError:
        # Shutting down: another worker (or this one, after the restart) takes it from the top;
        # the import's own transaction was rolled back.
        with contextlib.suppress(Exception):
            await give_back(database, job, worker_id)
        raise
    except ProblemError as exc:  # e.g. a unit outside the caller's scopes
        outcome = _failed({"code": exc.code, "status": exc.status, "detail": exc.detail})
    except FileNotFoundError:
        outcome = _failed({"code": "import_upload_missing", "detail": "The upload is gone."})
    except Exception as exc:
        if is_database_unavailable(exc):
            # Not the file's fault: the database went away under the import, whose transaction
            # was rolled back. The job runs again from the start, with its upload, once the
            # database is back: at once if it can be put back in the queue now, else when its
            # heartbeat is stale (NTM_JOB_STALE_SECONDS, counted against NTM_JOB_MAX_ATTEMPTS).
            logger.warning(
                "import job %s interrupted, the database is unavailable (%s): it will run again",
                job.id,
                type(exc).__name__,
            )
            with contextlib.suppress(Exception):
                await give_back(database, job, worker_id)
            return
        logger.exception("import job %s failed", job.id)
        outcome = _failed({"code": "import_failed", "detail": type(exc).__name__})
    try:
        await _set(database, job.id, worker_id, heartbeat_at=None, **outcome)
    except Exception as exc:
        # The outcome is not recorded, so the job will be run again (stale heartbeat): keep its
        # upload for that run. A rerun of an import that did commit changes nothing more (its
        # rows are then unchanged).
        logger.warning(
            "import job %s: outcome not recorded (%s); it will run again",
            job.id,
            type(exc).__name__,
        )
        return
    if job.upload_key is not None:
        with contextlib.suppress(Exception):
            await storage.delete(job.upload_key)


async def give_back(database: Database, job: ClaimedJob, worker_id: str) -> None:
    """Put a claimed job back in the queue, untouched."""
    await _set(
        database,
        job.id,
        worker_id,
        status=ImportJobStatus.QUEUED.value,
        worker_id=None,
        heartbeat_at=None,
    )


def _failed(error: dict[str, Any]) -> dict[str, Any]:
    return {"status": ImportJobStatus.FAILED.value, "error": error, "finished_at": utcnow()}


async def _import(
    database: Database, storage: FileStorage, job: ClaimedJob, worker_id: str
) -> dict[str, Any]:
    if job.upload_key is None:  # a job queued before jobs kept their upload in the storage
        raise FileNotFoundError(str(job.id))
    last = time.monotonic()
    # On SQLite the import's transaction holds the only write lock until it commits: a progress
    # write beside it would wait for the busy timeout, so the job reports at its end only (and
    # its heartbeat is the one of the claim: run one worker there).
    beats = bulk_dialect.bulk(database.dialect).concurrent_writers

    async def progress(rows: int) -> None:
        nonlocal last
        if beats and time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            last = time.monotonic()
            with contextlib.suppress(Exception):  # a missed beat is not a failed import
                await _set(database, job.id, worker_id, rows_processed=rows, heartbeat_at=utcnow())

    async with storage.local_copy(job.upload_key) as path, database.session() as session:
        principal = await _principal(session, job.requested_by.get("principal"))
        summary = await run_import(
            session,
            _context(job.requested_by.get("audit") or {}),
            path,
            job.params,
            import_id=job.id,
            progress=progress,
            principal=principal,
        )
        await session.commit()
    outcome: dict[str, Any] = {
        "status": ImportJobStatus.SUCCEEDED.value,
        "rows_processed": summary["rows"],
        "summary": _json_safe(summary),
        "finished_at": utcnow(),
    }
    if summary["rejected"] and not summary["written"]:
        # The rule of the synchronous import (422 import_rejected): nothing written because
        # rows were refused is a failure, with the summary that says which.
        outcome["status"] = ImportJobStatus.FAILED.value
        outcome["error"] = {
            "code": "import_rejected",
            "status": 422,
            "detail": f"Nothing was imported: {summary['rejected']} row(s) refused.",
        }
    return outcome
