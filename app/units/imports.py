"""``POST /units/import``: villages under their communes from a CSV file, all or nothing.

Columns (header names, any case): ``code``, ``name``, ``type`` (``thon``, ``Thôn``, ``tổ dân
phố``, …), and the commune as ``parent_code`` (statistics-office code, leading zeros optional)
or ``parent_id`` (or ``parent``, either); optionally ``id`` (client-chosen UUID). With
``as_of``, parents are resolved on that date and the villages exist from it; without, parents
are resolved today and each village exists from the start of its commune's current version.
A row that matches an existing village exactly is "unchanged", so a file can be sent again.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, entry, record_many
from app.core import authz
from app.core.clock import today
from app.core.errors import Unprocessable
from app.core.permissions import Action
from app.core.security import Principal
from app.db.types import utcnow
from app.models.enums import VILLAGE_TYPES, AuditAction, UnitLevel
from app.units import repository as repo
from app.units.changes import lifetime_end, version_row
from app.units.errors import unit_not_found
from app.units.invariants import Change, Touched, check
from app.units.repository import Record
from app.units.temporal import OPEN_END, overlaps
from app.units.text import normalise_name, parse_type

MAX_ROWS = 20000
CODE_RE = re.compile(r"^[0-9A-Za-z._-]{1,20}$")


@dataclass
class Row:
    line: int
    code: str
    name: str
    type: str
    parent_text: str
    unit_id: uuid.UUID | None
    parent_id: uuid.UUID | None = None
    valid_from: date | None = None
    valid_to: date = OPEN_END


class RowErrors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.lines: set[int] = set()

    def add(self, line: int, field: str | None, code: str, msg: str) -> None:
        self.items.append({"row": line, "field": field, "code": code, "msg": msg})
        self.lines.add(line)


def _read(content: bytes, errors: RowErrors) -> list[Row]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable("The file is not UTF-8 text.", code="import_unreadable") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = {name.strip().lower(): name for name in reader.fieldnames or []}
    parent_column = next(
        (header[c] for c in ("parent_code", "parent_id", "parent") if c in header), None
    )
    missing = [c for c in ("code", "name", "type") if c not in header]
    if missing or parent_column is None:
        needed = missing + ([] if parent_column else ["parent_code or parent_id"])
        raise Unprocessable(
            f"The CSV header lacks: {', '.join(needed)}.",
            code="import_header_invalid",
            errors=[
                {"loc": ["body", "header"], "msg": f"missing {c}", "type": "missing"}
                for c in needed
            ],
        )
    rows: list[Row] = []
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise Unprocessable(f"At most {MAX_ROWS} rows per file.", code="import_too_large")
        values = {key.strip().lower(): (value or "").strip() for key, value in raw.items() if key}
        if not any(values.values()):
            continue
        unit_id = None
        if values.get("id"):
            try:
                unit_id = uuid.UUID(values["id"])
            except ValueError:
                errors.add(line, "id", "invalid_id", "id is not a UUID.")
        rows.append(
            Row(
                line=line,
                code=values.get("code", ""),
                name=normalise_name(values.get("name", "")),
                type=values.get("type", ""),
                parent_text=values.get(parent_column.strip().lower(), ""),
                unit_id=unit_id,
            )
        )
    return rows


def _check_fields(rows: list[Row], errors: RowErrors) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if not CODE_RE.match(row.code):
            errors.add(
                row.line, "code", "code_invalid", "code: 1-20 letters, digits, '.', '_' or '-'."
            )
        elif row.code in seen:
            errors.add(
                row.line,
                "code",
                "unit_code_conflict",
                f"code {row.code} is also on line {seen[row.code]}.",
            )
        else:
            seen[row.code] = row.line
        if not 0 < len(row.name) <= 300:
            errors.add(row.line, "name", "name_invalid", "name: 1-300 characters.")
        parsed = parse_type(row.type) if row.type else None
        if parsed is None or parsed not in VILLAGE_TYPES:
            errors.add(
                row.line,
                "type",
                "type_invalid",
                f"type must be a kind of village: {', '.join(t.value for t in VILLAGE_TYPES)}.",
            )
        else:
            row.type = parsed.value
        if not row.parent_text:
            errors.add(row.line, "parent", "parent_required", "give the commune (code or id).")


async def _resolve_parents(
    session: AsyncSession, rows: list[Row], on: date, errors: RowErrors
) -> None:
    by_id: dict[str, uuid.UUID] = {}
    codes: list[str] = []
    for row in rows:
        try:
            by_id[row.parent_text] = uuid.UUID(row.parent_text)
        except ValueError:
            if row.parent_text.isdigit() and len(row.parent_text) <= 5:
                codes.append(row.parent_text.zfill(5))
    communes = await repo.commune_ids_by_code(session, codes, on)
    refs = await repo.refs_at(session, sorted(set(by_id.values())), on)
    for row in rows:
        if not row.parent_text:
            continue
        parent_id = by_id.get(row.parent_text)
        if parent_id is None:
            parent_id = (
                communes.get(row.parent_text.zfill(5)) if row.parent_text.isdigit() else None
            )
            if parent_id is None:
                errors.add(row.line, "parent", "parent_not_found", _no_commune(row.parent_text, on))
                continue
        else:
            found = refs.get(parent_id)
            if found is None:
                errors.add(row.line, "parent", "parent_not_found", _no_commune(row.parent_text, on))
                continue
            if found["level"] != UnitLevel.COMMUNE.value:
                errors.add(
                    row.line,
                    "parent",
                    "parent_level_invalid",
                    f"{found['name']} is a {found['level']}; villages sit under a commune.",
                )
                continue
        row.parent_id = parent_id


async def _hide_unseen_parents(
    session: AsyncSession, principal: Principal, rows: list[Row], on: date, errors: RowErrors
) -> None:
    """A commune the caller cannot see at all is refused as one that does not exist, naming
    what the row gave (never its id): out of scope is always the same answer as absent."""
    if principal.national:
        return
    roots = {grant.unit_id for grant in principal.grants if grant.unit_id is not None}
    visible = set(await session.scalars(authz.subtree_select(roots))) if roots else set()
    for row in rows:
        if row.parent_id is not None and row.parent_id not in visible:
            row.parent_id = None
            errors.add(row.line, "parent", "parent_not_found", _no_commune(row.parent_text, on))


def _no_commune(given: str, on: date) -> str:
    return f"no commune {given} on {on}."


async def _spans(session: AsyncSession, rows: list[Row], on: date, fixed_start: bool) -> None:
    """Each village lives while its commune does, from ``as_of`` (or the commune's version)."""
    parents = sorted({row.parent_id for row in rows if row.parent_id is not None})
    versions: dict[uuid.UUID, list[Record]] = {}
    for version in await repo.versions_of(session, parents):
        versions.setdefault(version["unit_id"], []).append(version)
    for row in rows:
        if row.parent_id is None:
            continue
        own = versions.get(row.parent_id, [])
        current = next(v for v in own if v["valid_from"] <= on < v["valid_to"])
        row.valid_from = on if fixed_start else current["valid_from"]
        row.valid_to = lifetime_end(own, on)


async def _existing(
    session: AsyncSession, rows: list[Row], errors: RowErrors
) -> tuple[list[Row], dict[int, uuid.UUID]]:
    """Rows to create, and the lines that match a village that already exists."""
    unchanged: dict[int, uuid.UUID] = {}
    same_code: dict[str, list[Record]] = {}
    for found in await repo.versions_with_codes(session, [row.code for row in rows]):
        if found["level"] == UnitLevel.VILLAGE.value:
            same_code.setdefault(found["code"], []).append(found)
    given_ids = [row.unit_id for row in rows if row.unit_id is not None]
    taken_ids = await repo.existing_unit_ids(session, given_ids)
    fresh: list[Row] = []
    for row in rows:
        if row.line in errors.lines or row.valid_from is None:
            continue
        match = None
        clash = None
        for version in same_code.get(row.code, []):
            if not overlaps(
                row.valid_from, row.valid_to, version["valid_from"], version["valid_to"]
            ):
                continue
            if (
                version["parent_id"] == row.parent_id
                and version["name"] == row.name
                and version["type"] == row.type
                and row.unit_id in (None, version["unit_id"])
            ):
                match = version
            else:
                clash = version
        if match is not None and clash is None:
            unchanged[row.line] = match["unit_id"]
        elif clash is not None:
            errors.add(
                row.line,
                "code",
                "unit_code_conflict",
                f"village code {row.code} is already {clash['name']} ({clash['unit_id']}).",
            )
        elif row.unit_id in taken_ids:
            errors.add(row.line, "id", "unit_id_conflict", f"a unit with id {row.unit_id} exists.")
        else:
            fresh.append(row)
    return fresh, unchanged


async def import_villages(
    session: AsyncSession,
    context: AuditContext,
    content: bytes,
    as_of: date | None,
    dry_run: bool,
    principal: Principal | None = None,
) -> dict[str, Any]:
    """Validated, then authorised, then written; a dry run stops before writing, after the same
    authorisation (an out-of-scope dry run is refused exactly as the real run)."""
    await repo.lock_map(session)
    on = as_of or today()
    errors = RowErrors()
    rows = _read(content, errors)
    if not rows:
        raise Unprocessable("The file has no rows.", code="import_empty")
    _check_fields(rows, errors)
    await _resolve_parents(session, rows, on, errors)
    if principal is not None:
        await _hide_unseen_parents(session, principal, rows, on, errors)
    await _spans(session, rows, on, fixed_start=as_of is not None)
    fresh, unchanged = await _existing(session, rows, errors)
    if errors.items:
        errors.items.sort(key=lambda e: e["row"])
        raise Unprocessable(
            f"{len(errors.lines)} of {len(rows)} rows are not valid; nothing was imported.",
            code="import_rejected",
            errors=[
                {"loc": ["body", e["row"], e["field"] or "row"], "msg": e["msg"], "type": e["code"]}
                for e in errors.items
            ],
            extra={"summary": {"rows": len(rows), "rejected": len(errors.lines)}},
        )
    if principal is not None:
        # A new village lies in its commune's subtree; a matched one is checked itself.
        await authz.require_all(
            session,
            principal,
            Action.UNITS_WRITE,
            [*{row.parent_id for row in fresh}, *unchanged.values()],
            missing=unit_not_found,
        )
    # A dry run names no id of a unit it did not create (only ids the file itself gives).
    ids: dict[int, uuid.UUID | None] = {
        row.line: row.unit_id if dry_run else row.unit_id or uuid.uuid4() for row in fresh
    }
    if not dry_run and fresh:
        await _write(session, context, fresh, {line: i for line, i in ids.items() if i})
    return {
        "rows": len(rows),
        "created": len(fresh),
        "unchanged": len(unchanged),
        "dry_run": dry_run,
        "unit_ids": [ids[row.line] if row.line in ids else unchanged[row.line] for row in rows],
    }


async def _write(
    session: AsyncSession, context: AuditContext, rows: list[Row], ids: dict[int, uuid.UUID]
) -> None:
    now = utcnow()
    units, versions, audit = [], [], []
    change = Change()
    for row in rows:
        unit_id = ids[row.line]
        assert row.valid_from is not None
        units.append(
            {
                "id": unit_id,
                "level": UnitLevel.VILLAGE.value,
                "source_key": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        version = version_row(
            unit_id,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            level=UnitLevel.VILLAGE.value,
            code=row.code,
            name=row.name,
            type_=row.type,
            parent_id=row.parent_id,
        )
        versions.append(version)
        loc = ("body", row.line)
        change.touch(unit_id, Touched(code=(*loc, "code"), parent=(*loc, "parent"), dates=loc))
        audit.append(
            entry(
                context,
                entity="unit",
                entity_id=unit_id,
                action=AuditAction.IMPORT,
                after=version,
                unit_id=unit_id,
            )
        )
    await repo.insert_rows(session, repo.UNITS, units)
    await repo.insert_rows(session, repo.VERSIONS, versions)
    await check(session, change)
    await record_many(session, audit)
