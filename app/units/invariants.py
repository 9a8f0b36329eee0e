"""The rules every change of the map must keep, checked set-wise after the change is flushed.

A change is written inside the request's transaction, then checked here; a violation raises a
422 and the router never commits, so nothing is written. The checks:

- versions of one unit never overlap (``version_overlap``);
- no two units of the same level share a code on the same day (``unit_code_conflict``);
- a parent exists (``parent_not_found``), is of an allowed higher level (``parent_level_invalid``,
  ``parent_required``), and is valid on every day of the child's version (``parent_not_valid``);
- no unit is its own ancestor (``cycle_detected``);
- a unit whose validity ends or shrinks keeps no child beyond it (``unit_has_children``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import UnitLevel
from app.units import repository as repo
from app.units.errors import Loc, Violations
from app.units.repository import Record
from app.units.temporal import covers, end_out, overlaps, start_out

# A unit's parent is one of these levels (DOMAIN.md §5: since 01/07/2025 communes sit directly
# under provinces; villages always under a commune).
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    UnitLevel.PROVINCE.value: (),
    UnitLevel.DISTRICT.value: (UnitLevel.PROVINCE.value,),
    UnitLevel.COMMUNE.value: (UnitLevel.DISTRICT.value, UnitLevel.PROVINCE.value),
    UnitLevel.VILLAGE.value: (UnitLevel.COMMUNE.value,),
}


@dataclass
class Touched:
    """Where the fields of a unit's changed versions came from in the request, for ``loc``."""

    code: Loc = ("body", "code")
    parent: Loc = ("body", "parent_id")
    dates: Loc = ("body", "valid_from")


@dataclass
class Change:
    units: dict[uuid.UUID, Touched] = field(default_factory=dict)
    shrunk: dict[uuid.UUID, Loc] = field(default_factory=dict)

    def touch(self, unit_id: uuid.UUID, where: Touched) -> None:
        self.units.setdefault(unit_id, where)

    def shrink(self, unit_id: uuid.UUID, loc: Loc) -> None:
        self.shrunk.setdefault(unit_id, loc)


def _span(row: Record) -> str:
    start, end = start_out(row["valid_from"]), end_out(row["valid_to"])
    return f"{start.isoformat() if start else '…'} to {end.isoformat() if end else '…'}"


async def check(session: AsyncSession, change: Change) -> None:
    violations = Violations()
    if change.units:
        rows = await repo.versions_of(session, list(change.units))
        _check_overlaps(rows, change, violations)
        await _check_codes(session, rows, change, violations)
        await _check_parents(session, rows, change, violations)
    if change.shrunk:
        await _check_children(session, change, violations)
    violations.raise_if_any()


def _check_overlaps(rows: Sequence[Record], change: Change, out: Violations) -> None:
    previous: Record | None = None
    for row in rows:
        same_unit = previous is not None and previous["unit_id"] == row["unit_id"]
        if same_unit and previous is not None and previous["valid_to"] > row["valid_from"]:
            out.add(
                "version_overlap",
                change.units[row["unit_id"]].dates,
                f"Versions of unit {row['unit_id']} would overlap: {_span(previous)} and "
                f"{_span(row)}.",
            )
        previous = row


async def _check_codes(
    session: AsyncSession, rows: Sequence[Record], change: Change, out: Violations
) -> None:
    others = await repo.versions_with_codes(session, [row["code"] for row in rows])
    by_code: dict[tuple[str, str], list[Record]] = {}
    for found in others:
        by_code.setdefault((found["level"], found["code"]), []).append(found)
    for row in rows:
        for other in by_code.get((row["level"], row["code"]), []):
            if other["unit_id"] == row["unit_id"]:
                continue
            if overlaps(row["valid_from"], row["valid_to"], other["valid_from"], other["valid_to"]):
                out.add(
                    "unit_code_conflict",
                    change.units[row["unit_id"]].code,
                    f"Code {row['code']} is already used by {other['name']} ({other['unit_id']}) "
                    f"from {_span(other)}; two {row['level']}s cannot share a code on a day.",
                )


async def _check_parents(
    session: AsyncSession, rows: Sequence[Record], change: Change, out: Violations
) -> None:
    parent_ids = sorted({row["parent_id"] for row in rows if row["parent_id"] is not None})
    levels = await repo.unit_levels(session, parent_ids)
    parent_versions: dict[uuid.UUID, list[tuple[date, date]]] = {}
    for version in await repo.versions_of(session, parent_ids):
        parent_versions.setdefault(version["unit_id"], []).append(
            (version["valid_from"], version["valid_to"])
        )
    for row in rows:
        unit_id, parent_id, level = row["unit_id"], row["parent_id"], row["level"]
        loc = change.units[unit_id].parent
        allowed = PARENT_LEVELS[level]
        if parent_id is None:
            if allowed:
                out.add(
                    "parent_required", loc, f"A {level} needs a parent ({' or '.join(allowed)})."
                )
            continue
        if parent_id == unit_id:
            out.add("cycle_detected", loc, f"Unit {unit_id} cannot be its own parent.")
            continue
        if parent_id not in levels:
            out.add("parent_not_found", loc, f"No unit {parent_id} to be the parent.")
            continue
        if level != UnitLevel.VILLAGE.value:
            chain = {a["id"] for a in await repo.ancestors(session, parent_id, row["valid_from"])}
            if unit_id in chain:
                out.add("cycle_detected", loc, f"Unit {unit_id} would become its own ancestor.")
                continue
        if levels[parent_id] not in allowed:
            wanted = " or ".join(allowed) or "no parent"
            out.add(
                "parent_level_invalid",
                loc,
                f"A {level} cannot sit under a {levels[parent_id]}: its parent must be {wanted}.",
            )
            continue
        if not covers(parent_versions.get(parent_id, []), row["valid_from"], row["valid_to"]):
            out.add(
                "parent_not_valid",
                loc,
                f"Parent {parent_id} does not exist on every day of the version {_span(row)}.",
            )


async def _check_children(session: AsyncSession, change: Change, out: Violations) -> None:
    parents = list(change.shrunk)
    children = await repo.child_versions(session, parents)
    if not children:
        return
    spans: dict[uuid.UUID, list[tuple[date, date]]] = {}
    for version in await repo.versions_of(session, parents):
        spans.setdefault(version["unit_id"], []).append(
            (version["valid_from"], version["valid_to"])
        )
    for child in children:
        parent_id = child["parent_id"]
        if not covers(spans.get(parent_id, []), child["valid_from"], child["valid_to"]):
            out.add(
                "unit_has_children",
                change.shrunk[parent_id],
                f"Unit {parent_id} would end while {child['name']} ({child['unit_id']}) is still "
                f"its child ({_span(child)}); move the children first or with the event.",
            )
