"""Bulk import of indicator values (CSV, XLSX, JSON; long or wide layout).

The file is read as a stream in batches. Each batch is checked with set-based lookups (unit codes
of the batch not seen before, assessments of the (unit, year) pairs not seen before: one query
each), and its valid rows go to a temporary staging table. Nothing touches the real tables until
the whole file has been read: then, unless a row was refused and ``partial`` is off, or this is a
dry run, the assessments that are needed are created and one set-based merge writes the values.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.engine import SetSpec
from app.assessments.imports import parsing
from app.assessments.imports.repository.staging import MergeCounts, Record, Stage
from app.assessments.imports.service.checks import Rejections, RowChecker, Target, year_of
from app.assessments.repository import assessments as repo
from app.assessments.service import criteria as criteria_port
from app.audit.service import AuditContext, entry, record, record_many
from app.core import authz
from app.core.permissions import Action
from app.core.security import Principal
from app.db import dialect as bulk_dialect
from app.db.types import utcnow
from app.models.assessments import AssessmentKind, AssessmentStatus
from app.models.enums import AuditAction

BATCH = 20_000
Progress = Callable[[int], Any]


@dataclass(frozen=True)
class ImportParams:
    criteria_set_id: uuid.UUID
    kind: AssessmentKind = AssessmentKind.SELF_ASSESSMENT
    dry_run: bool = False
    mode: str = "upsert"
    partial: bool = False
    year: int | None = None
    as_of: date | None = None
    declared_format: str | None = None
    filename: str | None = None
    limits: parsing.Limits = field(default_factory=parsing.Limits)

    def public(self) -> dict[str, Any]:
        return {
            "criteria_set_id": str(self.criteria_set_id),
            "kind": self.kind.value,
            "dry_run": self.dry_run,
            "mode": self.mode,
            "partial": self.partial,
            "year": self.year,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


class Importer:
    def __init__(
        self,
        session: AsyncSession,
        context: AuditContext,
        spec: SetSpec,
        params: ImportParams,
        import_id: uuid.UUID,
        principal: Principal | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.authorized: set[uuid.UUID] = set()
        self.context = context
        self.spec = spec
        self.params = params
        self.import_id = import_id
        self.rejections = Rejections()
        self.checker = RowChecker(session, spec, params.kind.value, params.as_of, self.rejections)
        self.rows = 0
        self.now = utcnow()
        self.source = f"import:{import_id}"
        self.counts = {"created": 0, "updated": 0, "unchanged": 0, "assessments_created": 0}
        self.inserted: set[uuid.UUID] = set()
        self.failed_file = False
        self.pending: asyncio.Task[None] | None = None
        self.stage = Stage(bulk_dialect.for_session(session), keep_notes=True)

    # --- the whole file ---------------------------------------------------------------------

    def _summary(self) -> dict[str, Any]:
        params = self.params
        return {
            "import_id": self.import_id,
            "format": None,
            "layout": None,
            "dry_run": params.dry_run,
            "mode": params.mode,
            "partial": params.partial,
            "written": False,
            "rows": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "deleted": 0,
            "rejected": 0,
            "assessments_created": 0,
            "assessments_touched": 0,
            "rejections": [],
        }

    def _writing(self) -> bool:
        """Whether batches are still merged: not in a dry run, and in all-or-nothing mode only
        while no row has been refused (what was merged is rolled back at the end)."""
        return not self.params.dry_run and (self.params.partial or self.rejections.total == 0)

    async def run(self, path: Path, progress: Progress | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        params = self.params
        summary = self._summary()
        dialect = bulk_dialect.for_session(self.session)
        # An import never clears a note by leaving it out: an empty or absent note keeps the
        # stored one (the wide template has no per-value note at all).
        stage = Stage(dialect, keep_notes=True, remember_keys=params.mode == "replace")
        self.stage = stage
        await stage.create(self.session)
        self.checker.visible = await self._visible()
        savepoint = await self.session.begin_nested()
        try:
            # Never on the event loop: the checks read the whole file, openpyxl parses it.
            fmt, default_year = await asyncio.to_thread(self._open, path)
            summary["format"] = fmt
            info: dict[str, Any] = {}
            rows = parsing.iter_rows(path, fmt, default_year, info, params.limits)
            while True:
                # Read and check the next batch in a thread while the database writes the last.
                batch, records = await asyncio.to_thread(self._read, rows, info)
                if not batch:
                    break
                self._check_limits(batch)
                if summary["layout"] is None:
                    summary["layout"] = info.get("layout")
                self.rows += len(batch)
                await self._check_and_stage(batch, records)
                if progress is not None:
                    await self._settle()
                    await progress(self.rows)
            await self._settle()
            summary["layout"] = info.get("layout")
        except parsing.FileProblem as problem:
            await self._settle(suppress=True)
            self.rejections.add(problem.code, problem.row, problem.message)
            self.failed_file = True
        except BaseException:
            await self._settle(suppress=True)
            await savepoint.rollback()
            await stage.drop(self.session)
            raise
        summary.update(self.counts)
        summary["rows"] = self.rows
        summary["rejected"] = self.rejections.total
        summary["rejections"] = self.rejections.as_list()
        summary["assessments_touched"] = len(self.checker.used)
        accepted = sum(int(summary.get(key) or 0) for key in ("created", "updated", "unchanged"))
        refused_all = accepted == 0 and self.rejections.total > 0
        if self.failed_file or (not params.dry_run and (not self._writing() or refused_all)):
            # All or nothing: roll back what earlier batches merged (and with `partial`, a file
            # whose every row was refused writes nothing, not even an import record).
            await savepoint.rollback()
            summary.update(created=0, updated=0, unchanged=0, deleted=0, assessments_created=0)
        elif params.dry_run:
            if params.mode == "replace":
                summary["deleted"] = await stage.count_unmentioned(self.session)
            summary["assessments_created"] = len(self.checker.new_targets())
            await savepoint.rollback()
        else:
            await self._finish(stage, summary)
            await savepoint.commit()
        await stage.drop(self.session)
        summary["duration_ms"] = round((time.perf_counter() - started) * 1e3, 1)
        return summary

    async def _visible(self) -> set[uuid.UUID] | None:
        """The units the caller can see at all (through any grant); None: all of them."""
        principal = self.principal
        if principal is None or principal.national:
            return None
        roots = {grant.unit_id for grant in principal.grants if grant.unit_id is not None}
        if not roots:
            return set()
        return set(await self.session.scalars(authz.subtree_select(roots)))

    def _open(self, path: Path) -> tuple[str, int | None]:
        """The file's format and default year, its size limits checked (in a thread)."""
        params = self.params
        fmt = parsing.detect_format(path, params.declared_format)
        parsing.estimate_rows(path, fmt, params.limits)
        default_year = params.year
        if fmt == "xlsx" and default_year is None:
            default_year = year_of(parsing.xlsx_meta(path).get("year"))
        return fmt, default_year

    def _check_limits(self, batch: list[parsing.RawRow]) -> None:
        """A file whose size could not be told in advance (JSON) still stops at the limits."""
        limits = self.params.limits
        last = batch[-1].row
        if last > limits.max_rows:
            raise parsing.FileProblem(
                parsing.TOO_LARGE,
                f"The file has more than {limits.max_rows:,} rows; split it into smaller files.",
            )
        if self.rows > limits.max_cells:
            raise parsing.FileProblem(
                parsing.TOO_LARGE,
                f"The file has more than {limits.max_cells:,} values; split it into smaller files.",
            )

    async def _settle(self, *, suppress: bool = False) -> None:
        """Wait for the batch being merged (its counts are added when it is done)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        if suppress:
            with contextlib.suppress(Exception):
                await pending
        else:
            await pending

    def _read(
        self, rows: Iterator[parsing.RawRow], info: dict[str, Any]
    ) -> tuple[list[parsing.RawRow], list[Record] | None]:
        """The next batch and, when it needs nothing looked up, its records (in a thread)."""
        batch = list(islice(rows, BATCH))
        if not batch:
            return batch, None
        checker = self.checker
        checker.wide = info.get("layout") == "wide"
        if not checker.known(batch):
            return batch, None
        return batch, checker.records(batch)

    async def _check_and_stage(
        self, batch: list[parsing.RawRow], records: list[Record] | None
    ) -> None:
        checker = self.checker
        if records is None:
            # Lookups need the connection, which the previous batch's write may still be using.
            await self._settle()
            await checker.resolve(batch)
            records = await asyncio.to_thread(checker.records, batch)
        await self._settle()
        if not records:
            return
        await self._authorize(records)
        if self.params.dry_run:
            await self.stage.add(self.session, records)
            self._count(await self.stage.compare(self.session))
        elif self._writing():
            # Client-side work (new assessments, the COPY's encoding) stays on this thread; the
            # merge, one statement, runs while the next batch is read and checked in a thread.
            new = self._new_assessments(records)
            if new:
                await self._write_new_assessments(new)
            await self.stage.add(self.session, records)
            self.pending = asyncio.create_task(self._merge())

    async def _authorize(self, records: list[Record]) -> None:
        """The caller must hold assessments:write over every unit the file writes to: 404 for a
        unit outside all its scopes, 403 where it only may read (checked before any write)."""
        if self.principal is None:
            return
        if authz.scope(self.principal, Action.ASSESSMENTS_WRITE).national:
            return  # allowed everywhere: nothing to look up (`require_all` would return at once)
        # A batch holds dozens of values per assessment: each assessment's unit looked up once.
        unit_of = self.checker.unit_of
        units = {unit_of(assessment) for assessment in {record[1] for record in records}}
        units -= self.authorized
        if units:
            await authz.require_all(
                self.session, self.principal, Action.ASSESSMENTS_WRITE, units, entity="unit"
            )
            self.authorized |= units

    async def _merge(self) -> None:
        context = self.context
        counts = await self.stage.merge(
            self.session,
            now=self.now,
            actor=context.actor_id,
            actor_name=context.actor_name,
            source=self.source,
        )
        self._count(counts)

    def _count(self, counts: MergeCounts) -> None:
        self.counts["created"] += counts.created
        self.counts["updated"] += counts.updated
        self.counts["unchanged"] += counts.unchanged

    def _new_assessments(self, records: list[Record]) -> list[Target]:
        """The assessments the batch's values need that are still to be created (counted now)."""
        inserted = self.inserted
        ids = {record[1] for record in records if record[8]} - inserted
        if not ids:
            return []
        new = self.checker.new_targets(ids)
        inserted.update(target.id for target in new)
        self.counts["assessments_created"] += len(new)
        return new

    async def _write_new_assessments(self, new: list[Target]) -> None:
        rows = self._new_rows(new, self.now)
        await repo.insert_many(self.session, rows)
        await record_many(
            self.session,
            [
                entry(
                    self.context,
                    entity="assessment",
                    entity_id=row["id"],
                    action=AuditAction.CREATE,
                    after=row,
                    unit_id=row["unit_id"],
                )
                for row in rows
            ],
        )

    async def _finish(self, stage: Stage, summary: dict[str, Any]) -> None:
        context = self.context
        if self.params.mode == "replace":
            summary["deleted"] = await stage.delete_unmentioned(
                self.session,
                now=self.now,
                actor=context.actor_id,
                actor_name=context.actor_name,
                source=self.source,
            )
        summary["written"] = True
        await record(
            self.session,
            context,
            entity="indicator_value_import",
            entity_id=self.import_id,
            action=AuditAction.IMPORT,
            after={
                **self.params.public(),
                **{
                    k: summary[k]
                    for k in (
                        "format",
                        "layout",
                        "rows",
                        "created",
                        "updated",
                        "unchanged",
                        "deleted",
                        "rejected",
                        "assessments_created",
                        "assessments_touched",
                    )
                },
            },
        )

    def _new_rows(self, new: list[Target], now: Any) -> list[dict[str, Any]]:
        context = self.context
        return [
            {
                "id": target.id,
                "unit_id": target.unit_id,
                "criteria_set_id": self.spec.id,
                "year": target.year,
                "kind": self.params.kind.value,
                "status": AssessmentStatus.DRAFT.value,
                "note": None,
                "revision": 1,
                "created_at": now,
                "updated_at": now,
                "created_by": context.actor_id,
                "created_by_name": context.actor_name,
                "updated_by": context.actor_id,
                "updated_by_name": context.actor_name,
            }
            for target in new
        ]


async def run_import(
    session: AsyncSession,
    context: AuditContext,
    path: Path,
    params: ImportParams,
    *,
    import_id: uuid.UUID | None = None,
    progress: Progress | None = None,
    principal: Principal | None = None,
) -> dict[str, Any]:
    """Validate and (unless a dry run or refused) write; the caller commits. What is merged
    lives in a savepoint that is rolled back when nothing must be written."""
    spec = await criteria_port.load_set(session, params.criteria_set_id)
    importer = Importer(session, context, spec, params, import_id or uuid.uuid4(), principal)
    return await importer.run(path, progress)
