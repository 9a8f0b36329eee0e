"""Bulk import of indicator values (CSV, XLSX, JSON; long or wide layout).

The file is read as a stream in batches. Each batch is checked with set-based lookups (unit codes
of the batch not seen before, assessments of the (unit, year) pairs not seen before: one query
each), and its valid rows go to a temporary staging table. Nothing touches the real tables until
the whole file has been read: then, unless a row was refused and ``partial`` is off, or this is a
dry run, the assessments that are needed are created and one set-based merge writes the values.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import parsing
from app.assessments.coerce import Rules, ValueProblem, coerce
from app.assessments.engine import IndicatorSpec, SetSpec
from app.assessments.repository import assessments as repo
from app.assessments.repository import units as units_repo
from app.assessments.repository.staging import Record, Stage
from app.assessments.service import criteria as criteria_port
from app.audit.service import AuditContext, entry, record, record_many
from app.db.types import utcnow
from app.models.assessments import AssessmentKind, AssessmentStatus, Judgement
from app.models.enums import AuditAction

BATCH = 20_000
MAX_LISTED = 1000
CODE_WIDTH = {"province": 2, "district": 3, "commune": 5}
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


@dataclass
class Rejections:
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    total: int = 0

    def add(
        self,
        code: str,
        row: int | None,
        message: str,
        *,
        value: Any = None,
        column: str | None = None,
        field_name: str | None = None,
    ) -> None:
        self.total += 1
        group = self.groups.setdefault(code, {"code": code, "count": 0, "rows": []})
        group["count"] += 1
        if len(group["rows"]) < MAX_LISTED:
            shown = value if value is None or isinstance(value, bool | int | float) else str(value)
            group["rows"].append(
                {
                    "row": row,
                    "column": column,
                    "field": field_name,
                    "value": shown,
                    "message": message,
                }
            )
        else:
            group["truncated"] = True

    def as_list(self) -> list[dict[str, Any]]:
        return sorted(self.groups.values(), key=lambda g: (-g["count"], g["code"]))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _variants(code: str) -> set[str]:
    if not code.isdigit():
        return {code}
    bare = code.lstrip("0") or "0"
    return {code, bare, *(bare.zfill(width) for width in CODE_WIDTH.values())}


def _batches(rows: Iterator[parsing.RawRow], size: int) -> Iterator[list[parsing.RawRow]]:
    while batch := list(islice(rows, size)):
        yield batch


@dataclass
class _Assessment:
    id: uuid.UUID
    new: bool


class Importer:
    def __init__(
        self,
        session: AsyncSession,
        context: AuditContext,
        spec: SetSpec,
        params: ImportParams,
        import_id: uuid.UUID,
    ) -> None:
        self.session = session
        self.context = context
        self.spec = spec
        self.params = params
        self.import_id = import_id
        self.rejections = Rejections()
        self.indicators: dict[str, tuple[IndicatorSpec, Rules]] = {
            i.code: (i, Rules(i.kind, i.unit, i.value_min, i.value_max)) for i in spec.indicators
        }
        self.index = {i.id: n for n, i in enumerate(spec.indicators)}
        self.width = CODE_WIDTH.get(spec.level)
        # (code, year) → unit id, or (error code, message)
        self.units_by_code: dict[tuple[str, int], uuid.UUID | tuple[str, str]] = {}
        self.units_by_id: dict[tuple[uuid.UUID, int], uuid.UUID | tuple[str, str]] = {}
        self.unit_numbers: dict[uuid.UUID, int] = {}
        self.assessments: dict[tuple[uuid.UUID, int], _Assessment | tuple[str, str]] = {}
        self.seen: dict[int, int] = {}
        self.rows = 0
        self.staged_assessments: set[uuid.UUID] = set()
        self.wide = False

    # --- unit codes ---------------------------------------------------------------------

    def _code(self, raw: Any) -> str | None:
        code = _text(raw)
        if code is not None and self.width and code.isdigit() and len(code) < self.width:
            code = code.zfill(self.width)
        return code

    async def _resolve_codes(self, wanted: set[tuple[str, int]]) -> None:
        by_year: dict[int, set[str]] = {}
        for code, year in wanted:
            by_year.setdefault(year, set()).add(code)
        level, as_of = self.spec.level, self.params.as_of
        for year, codes in by_year.items():
            found: dict[str, set[uuid.UUID]] = {}
            for row in await units_repo.versions_by_code(self.session, level, codes, year, as_of):
                found.setdefault(row["code"], set()).add(row["unit_id"])
            # A code of another level (e.g. a district's "218", padded to "00218" for communes).
            variants = {v: code for code in codes - set(found) for v in _variants(code)}
            other: dict[str, str] = {}
            if variants:
                for variant, other_level in (
                    await units_repo.levels_of_codes(self.session, variants, year, as_of)
                ).items():
                    other.setdefault(variants[variant], other_level)
            for code in codes:
                ids = found.get(code, set())
                when = as_of.isoformat() if as_of else str(year)
                if len(ids) == 1:
                    self.units_by_code[(code, year)] = next(iter(ids))
                elif len(ids) > 1:
                    self.units_by_code[(code, year)] = (
                        "unit_code_ambiguous",
                        f"{len(ids)} {level} units had code {code} during {year} (the map "
                        "changed that year): give `as_of` or use `unit_id`.",
                    )
                elif code in other:
                    self.units_by_code[(code, year)] = (
                        "unit_level_mismatch",
                        f"Code {code} is a {other[code]} in {when}; the set applies to a {level}.",
                    )
                else:
                    self.units_by_code[(code, year)] = (
                        "unit_not_found",
                        f"No {level} had code {code} in {when}.",
                    )

    async def _resolve_ids(self, wanted: set[tuple[uuid.UUID, int]]) -> None:
        by_year: dict[int, set[uuid.UUID]] = {}
        for unit_id, year in wanted:
            by_year.setdefault(year, set()).add(unit_id)
        for year, ids in by_year.items():
            levels: dict[uuid.UUID, str] = {}
            for row in await units_repo.versions_of_units(
                self.session, ids, year, self.params.as_of
            ):
                levels[row["unit_id"]] = row["level"]
            for unit_id in ids:
                level = levels.get(unit_id)
                if level is None:
                    self.units_by_id[(unit_id, year)] = (
                        "unit_not_found",
                        f"No unit {unit_id} existed in {year}.",
                    )
                elif level != self.spec.level:
                    self.units_by_id[(unit_id, year)] = (
                        "unit_level_mismatch",
                        f"Unit {unit_id} is a {level}; the set applies to a {self.spec.level}.",
                    )
                else:
                    self.units_by_id[(unit_id, year)] = unit_id

    async def _resolve_assessments(self, wanted: set[tuple[uuid.UUID, int]]) -> None:
        found: dict[tuple[uuid.UUID, int], list[Any]] = {}
        for row in await repo.find_for_units(
            self.session, self.spec.id, self.params.kind.value, wanted
        ):
            found.setdefault((row["unit_id"], row["year"]), []).append(row)
        for key in wanted:
            rows = found.get(key, [])
            if not rows:
                self.assessments[key] = _Assessment(uuid.uuid4(), True)
            elif len(rows) > 1:
                self.assessments[key] = (
                    "assessment_ambiguous",
                    f"{len(rows)} {self.params.kind.value} assessments exist for this unit and "
                    "year: enter these values through PUT /assessments/{id}/values.",
                )
            elif rows[0]["status"] == AssessmentStatus.LOCKED:
                self.assessments[key] = (
                    "assessment_locked",
                    f"Assessment {rows[0]['id']} is locked: its values can no longer change.",
                )
            else:
                self.assessments[key] = _Assessment(rows[0]["id"], False)

    # --- one batch ------------------------------------------------------------------------

    def _unit_key(self, row: parsing.RawRow, year: int) -> tuple[str, Any] | None:
        if row.unit_id is not None and _text(row.unit_id):
            try:
                return "id", (uuid.UUID(str(row.unit_id).strip()), year)
            except ValueError:
                return None
        code = self._code(row.unit_code)
        if code is None:
            return None
        return "code", (code, year)

    async def _check(self, batch: list[parsing.RawRow]) -> list[Record]:
        reject = self.rejections.add
        first, last = self.spec.start_year, self.spec.end_year
        keyed: list[tuple[parsing.RawRow, int, tuple[str, Any]]] = []
        codes: set[tuple[str, int]] = set()
        ids: set[tuple[uuid.UUID, int]] = set()
        for row in batch:
            if row.column == "__not_an_object__":
                reject("malformed_row", row.row, "A JSON row must be an object.", value=row.value)
                continue
            year = _year(row.year)
            if year is None:
                if row.year is None:
                    reject("missing_value", row.row, "No year given.", field_name="year")
                else:
                    reject(
                        "invalid_year",
                        row.row,
                        "The year is not a whole number.",
                        value=row.year,
                        field_name="year",
                    )
                continue
            if not first <= year <= last:
                reject(
                    "year_outside_period",
                    row.row,
                    f"Year {year} is outside the set's period {first}-{last}.",
                    value=year,
                    field_name="year",
                )
                continue
            key = self._unit_key(row, year)
            if key is None:
                if _text(row.unit_id):
                    reject(
                        "unit_not_found",
                        row.row,
                        "unit_id is not a UUID.",
                        value=row.unit_id,
                        field_name="unit_id",
                    )
                else:
                    reject(
                        "missing_value",
                        row.row,
                        "No unit_code or unit_id given.",
                        field_name="unit_code",
                    )
                continue
            kind, value = key
            if kind == "code" and value not in self.units_by_code:
                codes.add(value)
            elif kind == "id" and value not in self.units_by_id:
                ids.add(value)
            keyed.append((row, year, key))
        if codes:
            await self._resolve_codes(codes)
        if ids:
            await self._resolve_ids(ids)

        resolved: list[tuple[parsing.RawRow, int, uuid.UUID]] = []
        pairs: set[tuple[uuid.UUID, int]] = set()
        for row, year, (kind, value) in keyed:
            unit = self.units_by_code[value] if kind == "code" else self.units_by_id[value]
            if isinstance(unit, tuple):
                field_name = "unit_code" if kind == "code" else "unit_id"
                raw = row.unit_code if kind == "code" else row.unit_id
                reject(unit[0], row.row, unit[1], value=raw, field_name=field_name)
                continue
            if (unit, year) not in self.assessments:
                pairs.add((unit, year))
            resolved.append((row, year, unit))
        if pairs:
            await self._resolve_assessments(pairs)
        return self._records(resolved)

    def _records(self, rows: Iterable[tuple[parsing.RawRow, int, uuid.UUID]]) -> list[Record]:
        reject = self.rejections.add
        indicators, seen, numbers = self.indicators, self.seen, self.unit_numbers
        wide = self.wide
        out: list[Record] = []
        for row, year, unit in rows:
            code = _text(row.indicator_code)
            found = indicators.get(code) if code is not None else None
            if found is None:
                reject(
                    "indicator_not_in_set" if code else "missing_value",
                    row.row,
                    f"{code} is not an indicator code of {self.spec.code}."
                    if code
                    else "No indicator_code given.",
                    value=row.indicator_code,
                    column=row.column,
                    field_name="indicator_code",
                )
                continue
            indicator, rules = found
            try:
                typed = coerce(row.value, rules)
            except ValueProblem as problem:
                reject(
                    problem.code,
                    row.row,
                    f"{code}: {problem.message}.",
                    value=row.value,
                    column=row.column,
                    field_name="value",
                )
                continue
            note = None if wide else _text(row.note)
            if typed.judgement == Judgement.BASICALLY_MET and not note:
                # Cơ bản đạt only by a recorded judgement with its reasons: the note holds them.
                reject(
                    "judgement_reason_required",
                    row.row,
                    f"{code}: a judgement of basically_met needs its reasons in `note`.",
                    value=row.value,
                    column=row.column,
                    field_name="note",
                )
                continue
            number = numbers.get(unit)
            if number is None:
                number = numbers[unit] = len(numbers)
            key = (number << 32) | ((year - 1900) << 16) | self.index[indicator.id]
            earlier = seen.get(key)
            if earlier is not None:
                reject(
                    "duplicate_row",
                    row.row,
                    f"{code} for this unit and year was already given in row {earlier}.",
                    value=row.value,
                    column=row.column,
                    field_name="indicator_code",
                )
                continue
            seen[key] = row.row
            assessment = self.assessments[(unit, year)]
            if isinstance(assessment, tuple):
                reject(assessment[0], row.row, assessment[1], value=row.value, column=row.column)
                continue
            self.staged_assessments.add(assessment.id)
            out.append(
                (
                    row.row,
                    assessment.id,
                    indicator.id,
                    typed.number,
                    typed.boolean,
                    typed.judgement,
                    note if typed.judgement is not None else None,
                    note,
                )
            )
        return out

    # --- the whole file ---------------------------------------------------------------------

    async def run(self, path: Path, progress: Progress | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        params = self.params
        summary: dict[str, Any] = {
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
            "errors": [],
        }
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        stage: Stage | None = None
        try:
            fmt = parsing.detect_format(path, params.declared_format)
            summary["format"] = fmt
            default_year = params.year
            if fmt == "xlsx" and default_year is None:
                default_year = _year(parsing.xlsx_meta(path).get("year"))
            # An import never clears a note by leaving it out: an empty or absent note keeps the
            # stored one (the wide template has no per-value note at all).
            stage = Stage(dialect, keep_notes=True)
            await stage.create(self.session)
            info: dict[str, Any] = {}
            for batch in _batches(parsing.iter_rows(path, fmt, default_year, info), BATCH):
                if summary["layout"] is None:
                    summary["layout"] = info.get("layout")
                    self.wide = info.get("layout") == "wide"
                self.rows += len(batch)
                records = await self._check(batch)
                await stage.add(self.session, records)
                if progress is not None:
                    await progress(self.rows)
            summary["layout"] = info.get("layout")
        except parsing.FileProblem as problem:
            self.rejections.add(problem.code, problem.row, problem.message)
            summary.update(rows=self.rows, rejected=self.rejections.total)
            summary["errors"] = self.rejections.as_list()
            if stage is not None:
                await stage.drop(self.session)
            summary["duration_ms"] = round((time.perf_counter() - started) * 1e3, 1)
            return summary
        assert stage is not None
        summary["rows"] = self.rows
        summary["rejected"] = self.rejections.total
        summary["errors"] = self.rejections.as_list()
        new = [
            a
            for a in self.assessments.values()
            if isinstance(a, _Assessment) and a.new and a.id in self.staged_assessments
        ]
        summary["assessments_touched"] = len(self.staged_assessments)
        write = not params.dry_run and (params.partial or self.rejections.total == 0)
        if params.dry_run:
            counts = await stage.compare(self.session)
            summary.update(
                created=counts.created,
                updated=counts.updated,
                unchanged=counts.unchanged,
                assessments_created=len(new),
            )
            if params.mode == "replace":
                summary["deleted"] = await stage.count_unmentioned(self.session)
        elif write and stage.rows:
            await self._write(stage, summary, new)
        elif write:
            summary["written"] = True
        await stage.drop(self.session)
        summary["duration_ms"] = round((time.perf_counter() - started) * 1e3, 1)
        return summary

    async def _write(self, stage: Stage, summary: dict[str, Any], new: list[_Assessment]) -> None:
        now = utcnow()
        context = self.context
        source = f"import:{self.import_id}"
        if new:
            created_rows = self._new_rows(new, now)
            await repo.insert_many(self.session, created_rows)
            await record_many(
                self.session,
                [
                    entry(
                        context,
                        entity="assessment",
                        entity_id=row["id"],
                        action=AuditAction.CREATE,
                        after=row,
                        unit_id=row["unit_id"],
                    )
                    for row in created_rows
                ],
            )
        counts = await stage.merge(
            self.session,
            now=now,
            actor=context.actor_id,
            actor_name=context.actor_name,
            source=source,
        )
        deleted = 0
        if self.params.mode == "replace":
            deleted = await stage.delete_unmentioned(
                self.session,
                now=now,
                actor=context.actor_id,
                actor_name=context.actor_name,
                source=source,
            )
        summary.update(
            written=True,
            created=counts.created,
            updated=counts.updated,
            unchanged=counts.unchanged,
            deleted=deleted,
            assessments_created=len(new),
        )
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

    def _new_rows(self, new: list[_Assessment], now: Any) -> list[dict[str, Any]]:
        keys = {a.id: key for key, a in self.assessments.items() if isinstance(a, _Assessment)}
        context = self.context
        rows = []
        for assessment in new:
            unit_id, year = keys[assessment.id]
            rows.append(
                {
                    "id": assessment.id,
                    "unit_id": unit_id,
                    "criteria_set_id": self.spec.id,
                    "year": year,
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
            )
        return rows


async def run_import(
    session: AsyncSession,
    context: AuditContext,
    path: Path,
    params: ImportParams,
    *,
    import_id: uuid.UUID | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Validate and (unless a dry run or refused) write; the caller commits."""
    spec = await criteria_port.load_set(session, params.criteria_set_id)
    importer = Importer(session, context, spec, params, import_id or uuid.uuid4())
    return await importer.run(path, progress)
