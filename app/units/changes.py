"""The writes a change of the map is made of: new units, new versions, ends, moved children.

Shared by the unit endpoints and the events; each step records what the invariant check must
look at. Nothing here commits or checks the global rules (see ``invariants``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Unprocessable, field_error
from app.db.types import utcnow
from app.models.enums import UnitType
from app.units import repository as repo
from app.units.errors import Loc, invalid
from app.units.invariants import Change, Touched
from app.units.repository import Record
from app.units.temporal import OPEN_END, end_out, start_out
from app.units.text import fold, normalise_name

VERSION_VALUES = ("level", "code", "name", "type", "parent_id")


def version_row(
    unit_id: uuid.UUID,
    *,
    valid_from: date,
    valid_to: date,
    level: str,
    code: str,
    name: str,
    type_: str,
    parent_id: uuid.UUID | None,
    event_id: uuid.UUID | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    now = utcnow()
    name = normalise_name(name)
    return {
        "id": uuid.uuid4(),
        "unit_id": unit_id,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "level": level,
        "code": code.strip(),
        "name": name,
        "name_folded": fold(name),
        "type": type_,
        "parent_id": parent_id,
        "event_id": event_id,
        "note": note,
        "created_at": now,
        "updated_at": now,
    }


def lifetime_end(versions: Sequence[Record], on: date) -> date:
    """The end of the unbroken run of versions that covers ``on``."""
    end = on
    for version in sorted(versions, key=lambda v: v["valid_from"]):
        if version["valid_from"] <= end < version["valid_to"]:
            end = version["valid_to"]
    return end


async def ensure_parent(
    session: AsyncSession, parent_id: uuid.UUID | None, loc: Loc, what: str = "parent"
) -> None:
    """422 ``parent_not_found`` before a row would point at a unit that does not exist."""
    if parent_id is not None and await repo.unit_row(session, parent_id) is None:
        raise invalid("parent_not_found", loc, f"No unit {parent_id} to be the {what}.")


async def create_unit(
    session: AsyncSession,
    change: Change,
    where: Touched,
    *,
    unit_id: uuid.UUID,
    type_: UnitType,
    code: str,
    name: str,
    parent_id: uuid.UUID | None,
    valid_from: date,
    valid_to: date = OPEN_END,
    event_id: uuid.UUID | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    if await repo.unit_row(session, unit_id) is not None:
        raise invalid(
            "unit_id_conflict", [*where.code[:-1], "id"], f"A unit with id {unit_id} exists."
        )
    if not valid_from < valid_to:
        raise invalid("invalid_interval", where.dates, "valid_from must be before valid_to.")
    await ensure_parent(session, parent_id, where.parent)
    now = utcnow()
    level = type_.level.value
    await repo.insert_unit(
        session,
        {"id": unit_id, "level": level, "source_key": None, "created_at": now, "updated_at": now},
    )
    row = version_row(
        unit_id,
        valid_from=valid_from,
        valid_to=valid_to,
        level=level,
        code=code,
        name=name,
        type_=type_.value,
        parent_id=parent_id,
        event_id=event_id,
        note=note,
    )
    await repo.insert_version(session, row)
    change.touch(unit_id, where)
    return row


async def version_on(session: AsyncSession, unit_id: uuid.UUID, on: date, loc: Loc) -> Record:
    """The version valid on ``on``, or 422 naming ``loc`` (the unit must exist that day)."""
    row = await repo.version_at(session, unit_id, on)
    if row is None:
        if await repo.unit_row(session, unit_id) is None:
            raise invalid("unit_not_found", loc, f"No unit {unit_id}.")
        versions = await repo.history(session, unit_id)
        first = start_out(min(v["valid_from"] for v in versions)) if versions else None
        last = end_out(max(v["valid_to"] for v in versions)) if versions else None
        span = (
            f" It existed from {first.isoformat() if first else 'before the records'}"
            f" until {last.isoformat() if last else 'now'} (exclusive)."
        )
        msg = f"Unit {unit_id} does not exist on {on.isoformat()}.{span}"
        raise Unprocessable(
            msg,
            code="unit_not_valid",
            errors=[field_error(loc, msg, "unit_not_valid")],
            extra={
                "first_date": first.isoformat() if first else None,
                "last_date": last.isoformat() if last else None,
            },
        )
    return row


async def new_version_from(
    session: AsyncSession,
    change: Change,
    where: Touched,
    *,
    unit_id: uuid.UUID,
    on: date,
    values: Record,
    event_id: uuid.UUID | None = None,
    note: str | None = None,
    unit_loc: Loc,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Split the version valid on ``on``: it ends the day before, a changed copy starts ``on``.

    It runs until the old version's end (the next recorded change keeps its own values).
    Returns (before, after), or None when nothing would change.
    """
    current = dict(await version_on(session, unit_id, on, unit_loc))
    current["id"] = current.pop("version_id")
    wanted = {name: values.get(name, current[name]) for name in VERSION_VALUES}
    if "name" in values:
        wanted["name"] = normalise_name(values["name"])
    if all(wanted[name] == current[name] for name in VERSION_VALUES):
        return None
    await ensure_parent(session, wanted["parent_id"], where.parent)
    if current["valid_from"] == on:
        raise invalid(
            "version_overlap",
            where.dates,
            f"A version of unit {unit_id} already starts on {on.isoformat()}; a change takes "
            "effect from a day after the start of the version it changes.",
        )
    await repo.end_version(session, current["id"], on)
    row = version_row(
        unit_id,
        valid_from=on,
        valid_to=current["valid_to"],
        level=current["level"],
        code=wanted["code"],
        name=wanted["name"],
        type_=wanted["type"],
        parent_id=wanted["parent_id"],
        event_id=event_id,
        note=note,
    )
    await repo.insert_version(session, row)
    change.touch(unit_id, where)
    return current, row


async def end_unit(
    session: AsyncSession, change: Change, *, unit_id: uuid.UUID, on: date, loc: Loc
) -> Record:
    """The unit ceases to exist from ``on`` (its version valid that day ends the day before)."""
    current = await version_on(session, unit_id, on, loc)
    if current["valid_from"] == on:
        raise invalid(
            "effective_date_invalid",
            loc,
            f"Unit {unit_id} only starts its current form on {on.isoformat()}; it cannot end then.",
        )
    later = [v for v in await repo.versions_of(session, [unit_id]) if v["valid_from"] > on]
    if later:
        raise invalid(
            "version_overlap",
            loc,
            f"Unit {unit_id} has a version from {later[0]['valid_from'].isoformat()}, after "
            f"{on.isoformat()}; it cannot end before it.",
        )
    await repo.end_version(session, current["version_id"], on)
    change.touch(unit_id, Touched(code=loc, parent=loc, dates=loc))
    change.shrink(unit_id, loc)
    return current


async def has_children_from(session: AsyncSession, unit_id: uuid.UUID, on: date) -> bool:
    return bool(await repo.child_versions(session, [unit_id], ending_after=on))


async def move_children(
    session: AsyncSession,
    change: Change,
    *,
    parent_id: uuid.UUID,
    to_id: uuid.UUID,
    on: date,
    event_id: uuid.UUID | None,
    loc: Loc,
) -> list[uuid.UUID]:
    """Children of ``parent_id`` on or after ``on`` are under ``to_id`` from ``on``."""
    await ensure_parent(session, to_id, loc, "new parent of the children")
    moved: list[uuid.UUID] = []
    for child in await repo.child_versions(session, [parent_id], ending_after=on):
        if child["valid_from"] >= on:
            await repo.set_version_parent(session, child["id"], to_id, event_id)
        else:
            await repo.end_version(session, child["id"], on)
            row = version_row(
                child["unit_id"],
                valid_from=on,
                valid_to=child["valid_to"],
                level=child["level"],
                code=child["code"],
                name=child["name"],
                type_=child["type"],
                parent_id=to_id,
                event_id=event_id,
                note=child["note"],
            )
            await repo.insert_version(session, row)
        change.touch(child["unit_id"], Touched(code=loc, parent=loc, dates=loc))
        moved.append(child["unit_id"])
    return moved
