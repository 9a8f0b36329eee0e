"""``POST /recognitions/import``: a province's history of decisions from CSV or XLSX.

Provinces keep lists of every commune recognised since 2011; this loads them with the rules of
the indicator import (docs/assessments.md): the same file reader and limits
(``app.assessments.imports.parsing``), refused rows grouped by code, ``dry_run`` counts without
writing, all or nothing unless ``partial``, and the one status rule of imports
(``app.core.importing``). Writes are set-based: one insert and one update statement for the
file (in chunks), one audit statement.

A row is a decision: ``unit_code`` (resolved at the title's level on the decision date: a code
means nothing without a date) or ``unit_id``, ``title``, ``year_for`` (or ``year``),
``decision_number``, ``decision_date``, ``signer``; optionally ``issuing_body``, ``field``,
``note`` and the revocation (``revocation_decision_number``, ``revocation_decision_date``,
``revocation_signer``, ``revocation_reason``: all four or none). The natural key is the unit,
title and year: a known one with the same values is unchanged, with other values updated when
it came from an import or a historical entry; a decision that closed a dossier or confirmed a
carry-over is never overwritten by a file. A revocation left out keeps the stored one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.imports import parsing
from app.assessments.imports.service.checks import Rejections, text_of, year_of
from app.audit.service import AuditContext, entry, record_many
from app.core import authz
from app.core.clock import today
from app.core.errors import Unprocessable, field_error
from app.core.permissions import Action
from app.core.security import Principal
from app.db.intervals import END_OF_TIME, ONE_DAY, Period
from app.db.types import utcnow
from app.models.enums import AuditAction, RecognitionSource, Title
from app.recognitions import repository as repo
from app.recognitions.service import AUDIT_ENTITY, Grant, check_grant_fields
from app.recognitions.titles import TITLE_LEVEL
from app.units import query as units

REQUIRED = ("title", "decision_number", "decision_date", "signer")
REVOCATION = (
    "revocation_decision_number",
    "revocation_decision_date",
    "revocation_signer",
    "revocation_reason",
)
# Sources a file may correct; the others are decisions recorded on the platform.
CORRECTABLE = {RecognitionSource.IMPORT.value, RecognitionSource.HISTORICAL.value}


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def declared_format(media_type: str | None, filename: str | None) -> str | None:
    return parsing.declared_format(media_type, filename)


def limits_of(settings: Any) -> parsing.Limits:
    return parsing.Limits.of(settings)


@dataclass(frozen=True)
class ImportParams:
    dry_run: bool
    partial: bool
    declared_format: str | None
    limits: parsing.Limits


@dataclass
class Row:
    number: int
    grant: Grant
    revocation: dict[str, Any] | None


@dataclass
class Outcome:
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[tuple[Mapping[Any, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value)
    if text is None:
        return None
    try:
        if "/" in text:  # dd/mm/yyyy, as Vietnamese documents write dates
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


class RowReader:
    """Turns records into rows, or into refusals with a code, a field and a message."""

    def __init__(self, rejections: Rejections) -> None:
        self.rejections = rejections

    def refuse(self, code: str, row: int, name: str | None, value: Any, message: str) -> None:
        self.rejections.add(code, row, message, value=value, column=name, field_name=name)

    def read(self, number: int, cells: Mapping[str, Any]) -> tuple[dict[str, Any], Grant] | None:
        values = {name: text_of(cells.get(name)) for name in cells}
        missing = [name for name in REQUIRED if values.get(name) is None]
        if values.get("unit_code") is None and values.get("unit_id") is None:
            missing.insert(0, "unit_code")
        year = year_of(cells.get("year_for", cells.get("year")))
        if year is None:
            missing.append("year_for")
        if missing:
            self.refuse("missing_value", number, missing[0], None, f"{missing[0]} is empty.")
            return None
        try:
            title = Title(str(values["title"]))
        except ValueError:
            self.refuse(
                "unknown_title", number, "title", values["title"], "Not a title of the register."
            )
            return None
        decided = _date(cells.get("decision_date"))
        if decided is None:
            self.refuse(
                "invalid_date",
                number,
                "decision_date",
                values["decision_date"],
                "Write the date as YYYY-MM-DD or DD/MM/YYYY.",
            )
            return None
        for name, limit in (("decision_number", 100), ("signer", 200), ("issuing_body", 300)):
            if len(values.get(name) or "") > limit:
                self.refuse("value_too_long", number, name, None, f"At most {limit} characters.")
                return None
        grant = Grant(
            unit_id=uuid.UUID(int=0),  # resolved later, set-based
            title=title,
            year_for=int(year or 0),
            decision_number=str(values["decision_number"]),
            decision_date=decided,
            signer=str(values["signer"]),
            issuing_body=values.get("issuing_body"),
            field=values.get("field"),
            note=values.get("note"),
            source=RecognitionSource.IMPORT,
        )
        return values, grant

    def revocation(
        self, number: int, cells: Mapping[str, Any], values: Mapping[str, Any], grant: Grant
    ) -> tuple[bool, dict[str, Any] | None]:
        """(acceptable, the revocation if the row gives one)."""
        given = [name for name in REVOCATION if values.get(name) is not None]
        if not given:
            return True, None
        if len(given) < len(REVOCATION):
            absent = next(name for name in REVOCATION if name not in given)
            self.refuse(
                "revocation_incomplete",
                number,
                absent,
                None,
                "A revocation needs its decision number, date, signer and reason.",
            )
            return False, None
        revoked = _date(cells.get("revocation_decision_date"))
        if revoked is None:
            self.refuse(
                "invalid_date",
                number,
                "revocation_decision_date",
                values["revocation_decision_date"],
                "Write the date as YYYY-MM-DD or DD/MM/YYYY.",
            )
            return False, None
        if revoked > today():
            self.refuse(
                "decision_date_in_future",
                number,
                "revocation_decision_date",
                revoked.isoformat(),
                "The revocation is dated in the future.",
            )
            return False, None
        if revoked <= grant.decision_date:
            self.refuse(
                "revocation_before_grant",
                number,
                "revocation_decision_date",
                revoked.isoformat(),
                "A revocation must be dated after the decision it revokes.",
            )
            return False, None
        return True, {
            "held_until": revoked,
            "revocation_decision_number": values["revocation_decision_number"],
            "revocation_decision_date": revoked,
            "revocation_signer": values["revocation_signer"],
            "revocation_reason": values["revocation_reason"],
        }


def _read_file(path: Path, params: ImportParams) -> list[tuple[int, dict[str, Any]]]:
    records = list(parsing.iter_records(path, params.declared_format, params.limits))
    header = set(records[0][1]) if records else set()
    absent = [name for name in REQUIRED if name not in header]
    if not header & {"unit_code", "unit_id"}:
        absent.insert(0, "unit_code")
    if not header & {"year_for", "year"}:
        absent.append("year_for")
    if absent:
        raise parsing.FileProblem(
            "missing_columns", f"The file has no column {', '.join(absent)}.", row=1
        )
    return records


class RecognitionImport:
    def __init__(
        self,
        session: AsyncSession,
        context: AuditContext,
        params: ImportParams,
        principal: Principal | None,
    ) -> None:
        self.session = session
        self.context = context
        self.params = params
        self.principal = principal
        self.import_id = uuid.uuid4()
        self.rejections = Rejections()
        self.reader = RowReader(self.rejections)

    def _summary(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "format": None,
            "dry_run": self.params.dry_run,
            "partial": self.params.partial,
            "written": False,
            "rows": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
            "rejections": [],
        }

    async def run(self, path: Path) -> dict[str, Any]:
        summary = self._summary()
        try:
            summary["format"] = parsing.detect_format(path, self.params.declared_format)
            records = await asyncio.to_thread(_read_file, path, self.params)
        except parsing.FileProblem as problem:
            if problem.code in (parsing.TOO_LARGE, parsing.ARCHIVE_TOO_LARGE):
                # Refused before any work, as the indicator import does.
                raise Unprocessable(
                    problem.message,
                    code=problem.code,
                    errors=[field_error(["body", "file"], problem.message, problem.code)],
                ) from None
            self.rejections.add(problem.code, problem.row, problem.message)
            return self._finish(summary, Outcome())
        summary["rows"] = len(records)
        rows = await self._rows(records)
        outcome = await self._compare(rows)
        accepted = len(outcome.created) + len(outcome.updated) + outcome.unchanged
        writing = (
            not self.params.dry_run
            and (self.params.partial or self.rejections.total == 0)
            and accepted > 0
        )
        if writing:
            await self._write(outcome)
        summary["written"] = writing and bool(outcome.created or outcome.updated)
        return self._finish(summary, outcome)

    def _finish(self, summary: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
        summary.update(
            created=len(outcome.created),
            updated=len(outcome.updated),
            unchanged=outcome.unchanged,
            rejected=self.rejections.total,
            rejections=self.rejections.as_list(),
        )
        if self.rejections.total and not self.params.partial and not self.params.dry_run:
            summary.update(created=0, updated=0, unchanged=0)
        return summary

    async def _rows(self, records: list[tuple[int, dict[str, Any]]]) -> list[Row]:
        """Read every record, then resolve the units of all of them at once per level."""
        read: list[tuple[int, dict[str, Any], dict[str, Any], Grant]] = []
        for number, cells in records:
            parsed = self.reader.read(number, cells)
            if parsed is not None:
                read.append((number, cells, *parsed))
        placed = await self._resolve(read)
        visible = await self._visible()
        rows: list[Row] = []
        keys: dict[tuple[uuid.UUID, str, int], int] = {}
        for number, cells, values, grant in read:
            unit = placed.get(number)
            if unit is None:
                continue
            unit_id, level = unit
            if visible is not None and unit_id not in visible:
                self.reader.refuse(
                    "unit_not_found",
                    number,
                    "unit_code",
                    values.get("unit_code") or values.get("unit_id"),
                    "No such unit on the decision date (or it is outside what you may see).",
                )
                continue
            resolved = replace(grant, unit_id=unit_id)
            try:
                check_grant_fields(resolved, level, ())
            except Unprocessable as problem:
                name = problem.errors[0]["loc"][-1] if problem.errors else None
                self.reader.refuse(problem.code, number, name, None, problem.detail)
                continue
            ok, revocation = self.reader.revocation(number, cells, values, resolved)
            if not ok:
                continue
            key = (unit_id, resolved.title.value, resolved.year_for)
            if key in keys:
                self.reader.refuse(
                    "duplicate_row",
                    number,
                    "title",
                    resolved.title.value,
                    f"Row {keys[key]} already gives this unit's {resolved.title} for "
                    f"{resolved.year_for}.",
                )
                continue
            keys[key] = number
            rows.append(Row(number, resolved, revocation))
        if self.principal is not None and rows:
            await authz.require_all(
                self.session,
                self.principal,
                Action.RECOGNITIONS_WRITE,
                {row.grant.unit_id for row in rows},
            )
        return rows

    async def _visible(self) -> set[uuid.UUID] | None:
        """The units the caller can see at all; out of sight reads as absent."""
        principal = self.principal
        if principal is None or principal.national:
            return None
        roots = {grant.unit_id for grant in principal.grants if grant.unit_id is not None}
        if not roots:
            return set()
        return set(await self.session.scalars(authz.subtree_select(roots)))

    async def _resolve(
        self, read: list[tuple[int, dict[str, Any], dict[str, Any], Grant]]
    ) -> dict[int, tuple[uuid.UUID, str]]:
        """Row → (unit, level): codes on each decision date at the title's level, one read of
        the map per level for the whole file; ids checked to exist on their decision date."""
        placed: dict[int, tuple[uuid.UUID, str]] = {}
        by_level: dict[str, list[tuple[int, str, Grant, Any]]] = defaultdict(list)
        by_id: list[tuple[int, uuid.UUID, Grant, Any]] = []
        for number, _cells, values, grant in read:
            level = TITLE_LEVEL[grant.title].value
            given_id = values.get("unit_id")
            if given_id is not None:
                try:
                    by_id.append((number, uuid.UUID(str(given_id)), grant, given_id))
                except ValueError:
                    self.reader.refuse(
                        "unit_not_found", number, "unit_id", given_id, "Not a unit id."
                    )
                continue
            code = units.padded(str(values["unit_code"]), level)
            by_level[level].append((number, code, grant, values["unit_code"]))
        for level, wanted in by_level.items():
            span = Period(
                min(g.decision_date for _, _, g, _ in wanted),
                max(g.decision_date for _, _, g, _ in wanted) + ONE_DAY,
            )
            versions = await units.versions_with_codes(
                session=self.session, codes={c for _, c, _, _ in wanted}, period=span, level=level
            )
            by_code: dict[str, list[units.DatedUnit]] = defaultdict(list)
            for version in versions:
                by_code[version.code].append(version)
            for number, code, grant, shown in wanted:
                day = grant.decision_date
                found = {
                    v.unit_id for v in by_code.get(code, []) if v.valid_from <= day < v.valid_to
                }
                if len(found) == 1:
                    placed[number] = (found.pop(), level)
                elif found:
                    self.reader.refuse(
                        "ambiguous_unit_code",
                        number,
                        "unit_code",
                        shown,
                        f"Several {level}s had code {code} on {day.isoformat()}.",
                    )
                else:
                    self.reader.refuse(
                        "unit_not_found",
                        number,
                        "unit_code",
                        shown,
                        f"No {level} had code {code} on {day.isoformat()}, the decision date.",
                    )
        if by_id:
            span = Period(
                min(g.decision_date for _, _, g, _ in by_id),
                max(g.decision_date for _, _, g, _ in by_id) + ONE_DAY,
            )
            versions_by_unit: dict[uuid.UUID, list[units.DatedUnit]] = defaultdict(list)
            for version in await units.versions_during(
                self.session, {u for _, u, _, _ in by_id}, span
            ):
                versions_by_unit[version.unit_id].append(version)
            for number, unit_id, grant, shown in by_id:
                day = grant.decision_date
                on_day = [
                    v for v in versions_by_unit.get(unit_id, []) if v.valid_from <= day < v.valid_to
                ]
                if on_day:
                    placed[number] = (unit_id, on_day[0].level)
                else:
                    self.reader.refuse(
                        "unit_not_found",
                        number,
                        "unit_id",
                        shown,
                        f"No unit {unit_id} existed on {day.isoformat()}, the decision date.",
                    )
        return placed

    async def _compare(self, rows: list[Row]) -> Outcome:
        outcome = Outcome()
        existing = await repo.find_many_by_natural_key(
            self.session,
            [(row.grant.unit_id, row.grant.title.value, row.grant.year_for) for row in rows],
        )
        now = utcnow()
        for row in rows:
            grant = row.grant
            stored = existing.get((grant.unit_id, grant.title.value, grant.year_for))
            values = {
                "decision_number": grant.decision_number,
                "decision_date": grant.decision_date,
                "signer": grant.signer,
                "issuing_body": grant.issuing_body,
                "field": grant.field,
                "note": grant.note,
                **(row.revocation or {}),
            }
            if stored is None:
                outcome.created.append(self._new_row(grant, values, now))
                continue
            # A revocation left out of the row is not compared: the stored one is kept.
            changes = {k: v for k, v in values.items() if stored[k] != v}
            if not changes:
                outcome.unchanged += 1
                continue
            if stored["source"] not in CORRECTABLE:
                self.reader.refuse(
                    "recognition_exists",
                    row.number,
                    "title",
                    grant.title.value,
                    f"Recognition {stored['id']} ({stored['source']}) already records this "
                    "title for this unit and year; a file does not overwrite it.",
                )
                continue
            if stored["revocation_decision_date"] is None and row.revocation is not None:
                changes["revoked_at"] = now
            changes.update(
                revision=stored["revision"] + 1,
                updated_at=now,
                updated_by=self.context.actor_id,
                updated_by_name=self.context.actor_name,
                import_ref=f"import:{self.import_id}",
            )
            outcome.updated.append((stored, changes))
        return outcome

    def _new_row(self, grant: Grant, values: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        revoked = values.get("revocation_decision_date")
        return {
            "id": uuid.uuid4(),
            "unit_id": grant.unit_id,
            "title": grant.title.value,
            "year_for": grant.year_for,
            "issuing_unit_id": None,
            "source": RecognitionSource.IMPORT.value,
            "dossier_id": None,
            "unit_event_id": None,
            "carried_from": None,
            "import_ref": f"import:{self.import_id}",
            "held_until": END_OF_TIME,
            "revocation_decision_number": None,
            "revocation_decision_date": None,
            "revocation_signer": None,
            "revocation_issuing_body": None,
            "revocation_reason": None,
            "revocation_basis": None,
            "revoked_at": now if revoked is not None else None,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
            "created_by": self.context.actor_id,
            "created_by_name": self.context.actor_name,
            "updated_by": self.context.actor_id,
            "updated_by_name": self.context.actor_name,
            **values,
        }

    async def _write(self, outcome: Outcome) -> None:
        await repo.insert_many(self.session, outcome.created)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for stored, changes in outcome.updated:
            by_columns[tuple(sorted(changes))].append({"id": stored["id"], **changes})
        for rows in by_columns.values():
            await repo.update_many(self.session, rows)
        audit = [
            entry(
                self.context,
                entity=AUDIT_ENTITY,
                entity_id=row["id"],
                action=AuditAction.IMPORT,
                after=row,
                unit_id=row["unit_id"],
            )
            for row in outcome.created
        ] + [
            entry(
                self.context,
                entity=AUDIT_ENTITY,
                entity_id=stored["id"],
                action=AuditAction.IMPORT,
                before={k: stored[k] for k in changes if k in stored},
                after=changes,
                unit_id=stored["unit_id"],
            )
            for stored, changes in outcome.updated
        ]
        await record_many(self.session, audit)


async def run_import(
    session: AsyncSession,
    context: AuditContext,
    path: Path,
    params: ImportParams,
    principal: Principal | None,
) -> dict[str, Any]:
    return await RecognitionImport(session, context, params, principal).run(path)
