"""``POST /unit-events``: dated, legally based changes of the map, applied atomically.

Each kind is written with the steps of ``changes`` and then checked as a whole by
``invariants``; any violation fails the request and the router never commits.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core.http import timestamp
from app.models.enums import AuditAction
from app.outbox import service as outbox
from app.units import repository as repo
from app.units.changes import (
    create_unit,
    end_unit,
    has_children_from,
    move_children,
    new_version_from,
    version_on,
)
from app.units.errors import Loc, conflict, event_not_found, invalid
from app.units.invariants import Change, Touched, check
from app.units.repository import Record
from app.units.schemas import (
    DissolveEvent,
    EstablishEvent,
    EventBase,
    EventBody,
    MergeEvent,
    NewUnit,
    ReclassifyEvent,
    RenameEvent,
    SplitEvent,
    Target,
    TransferEvent,
)
from app.units.service import date_flags, legal_basis


class Effects:
    def __init__(self, event_id: uuid.UUID, on: date) -> None:
        self.event_id = event_id
        self.on = on
        self.change = Change()
        self.created: list[uuid.UUID] = []
        self.ended: list[uuid.UUID] = []
        self.changed: list[uuid.UUID] = []
        self.links: list[dict[str, Any]] = []

    def link(self, predecessor: uuid.UUID, successor: uuid.UUID, partly: bool) -> None:
        self.links.append(
            {
                "id": uuid.uuid4(),
                "event_id": self.event_id,
                "effective_date": self.on,
                "predecessor_id": predecessor,
                "successor_id": successor,
                "partly": partly,
            }
        )

    def as_payload(self) -> dict[str, Any]:
        return {
            "created_unit_ids": [str(u) for u in self.created],
            "ended_unit_ids": [str(u) for u in self.ended],
            "changed_unit_ids": [str(u) for u in dict.fromkeys(self.changed)],
        }


def _request(body: EventBase) -> dict[str, Any]:
    data = body.model_dump(mode="json", exclude={"id"})
    return data


async def apply_event(
    session: AsyncSession, context: AuditContext, body: EventBody
) -> tuple[dict[str, Any], bool]:
    """Returns (event, created). A replay of the same id and body returns the stored event."""
    await repo.lock_map(session)
    request = _request(body)
    if body.id is not None:
        stored = await repo.event(session, body.id)
        if stored is not None:
            if (stored["payload"] or {}).get("request") == request:
                return await get_event(session, body.id), False
            raise conflict(
                "unit_event_id_conflict", f"Unit event {body.id} exists with another body."
            )
    event_id = body.id or uuid.uuid4()
    basis = body.legal_basis
    await repo.insert_event(
        session,
        {
            "id": event_id,
            "kind": body.kind.value,
            "effective_date": body.effective_date,
            "note": body.note,
            "payload": {"request": request},
            "source_key": None,
            "legal_basis_number": basis.number,
            "legal_basis_date": basis.date,
            "legal_basis_issuer": basis.issuer,
            "legal_basis_title": basis.title,
        },
    )
    effects = Effects(event_id, body.effective_date)
    if isinstance(body, EstablishEvent):
        await _establish(session, effects, body)
    elif isinstance(body, DissolveEvent):
        await _dissolve(session, effects, body)
    elif isinstance(body, MergeEvent):
        await _merge(session, effects, body)
    elif isinstance(body, SplitEvent):
        await _split(session, effects, body)
    elif isinstance(body, RenameEvent | ReclassifyEvent):
        await _revise(session, effects, body)
    elif isinstance(body, TransferEvent):
        await _transfer(session, effects, body)
    await _save_links(session, effects)
    await check(session, effects.change)
    payload = {"request": request, "effects": effects.as_payload()}
    await session.execute(
        update(repo.EVENTS).where(repo.EVENTS.c.id == event_id).values(payload=payload)
    )
    await repo.touch_units(session, effects.change.units)
    event = await get_event(session, event_id)
    touched = effects.created or effects.changed or effects.ended
    subject = touched[0] if touched else None
    await record(
        session,
        context,
        entity="unit_event",
        entity_id=event_id,
        action=AuditAction.APPLY,
        after=event,
        unit_id=subject,
    )
    await outbox.publish_effects(
        session, _unit_effects(event, context.actor_id, context.request_id)
    )
    return event, True


def _unit_effects(
    event: dict[str, Any], actor_id: uuid.UUID | None, request_id: str | None
) -> list[dict[str, Any]]:
    """One change-feed event per unit the map change touched, dated by the change: created,
    updated, or dissolved (a tombstone: the unit no longer exists from that date)."""
    detail = {"unit_event_id": str(event["id"]), "kind": str(event["kind"])}
    found = []
    for key, action in (
        ("created_unit_ids", AuditAction.CREATE),
        ("changed_unit_ids", AuditAction.UPDATE),
        ("ended_unit_ids", AuditAction.DISSOLVE),
    ):
        for unit_id in event[key]:
            unit = uuid.UUID(str(unit_id))
            found.append(
                {
                    "entity": "unit",
                    "entity_id": str(unit),
                    "action": action.value,
                    "unit_id": unit,
                    "actor_id": actor_id,
                    "request_id": request_id,
                    "effective_date": event["effective_date"],
                    "detail": detail,
                }
            )
    return found


async def get_event(session: AsyncSession, event_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.event(session, event_id)
    if row is None:
        raise event_not_found(event_id)
    payload = row["payload"] or {}
    effects = payload.get("effects", {})
    links = await repo.links_of_event(session, event_id)
    return {
        "id": row["id"],
        "kind": row["kind"],
        "effective_date": row["effective_date"],
        "legal_basis": legal_basis(row),
        "note": row["note"],
        "created_unit_ids": effects.get("created_unit_ids", []),
        "ended_unit_ids": effects.get("ended_unit_ids", []),
        "changed_unit_ids": effects.get("changed_unit_ids", []),
        "links": [
            {
                "predecessor_id": link["predecessor_id"],
                "successor_id": link["successor_id"],
                "partly": link["partly"],
            }
            for link in links
        ],
        **date_flags(payload),
        "created_at": timestamp(row["created_at"]),
    }


async def _new_unit(session: AsyncSession, effects: Effects, unit: NewUnit, loc: Loc) -> uuid.UUID:
    unit_id = unit.id or uuid.uuid4()
    await create_unit(
        session,
        effects.change,
        Touched(code=(*loc, "code"), parent=(*loc, "parent_id"), dates=("body", "effective_date")),
        unit_id=unit_id,
        type_=unit.type,
        code=unit.code,
        name=unit.name,
        parent_id=unit.parent_id,
        valid_from=effects.on,
        event_id=effects.event_id,
    )
    effects.created.append(unit_id)
    return unit_id


async def _target(
    session: AsyncSession, effects: Effects, target: Target, loc: Loc
) -> tuple[uuid.UUID, str]:
    """The unit a merge or split part goes to, and its level."""
    if target.new_unit is not None:
        unit_id = await _new_unit(session, effects, target.new_unit, (*loc, "new_unit"))
        return unit_id, target.new_unit.type.level.value
    assert target.into_id is not None
    row = await version_on(session, target.into_id, effects.on, (*loc, "into_id"))
    return target.into_id, str(row["level"])


async def _end(
    session: AsyncSession,
    effects: Effects,
    unit_id: uuid.UUID,
    loc: Loc,
    *,
    children_to: uuid.UUID | None,
    children_loc: Loc,
) -> Record:
    if await has_children_from(session, unit_id, effects.on):
        if children_to is None:
            raise invalid(
                "unit_has_children",
                loc,
                f"Unit {unit_id} still has children on {effects.on}: give where they move "
                "(move_children_to) or transfer them first.",
            )
        effects.changed.extend(
            await move_children(
                session,
                effects.change,
                parent_id=unit_id,
                to_id=children_to,
                on=effects.on,
                event_id=effects.event_id,
                loc=children_loc,
            )
        )
    row = await end_unit(session, effects.change, unit_id=unit_id, on=effects.on, loc=loc)
    effects.ended.append(unit_id)
    return row


async def _establish(session: AsyncSession, effects: Effects, body: EstablishEvent) -> None:
    await _new_unit(session, effects, body.unit, ("body", "unit"))


async def _dissolve(session: AsyncSession, effects: Effects, body: DissolveEvent) -> None:
    await _end(
        session,
        effects,
        body.unit_id,
        ("body", "unit_id"),
        children_to=body.move_children_to,
        children_loc=("body", "move_children_to"),
    )


def _same_level(level: str, other: str, loc: Loc) -> None:
    if level != other:
        raise invalid("level_mismatch", loc, f"A {other} cannot merge or split with a {level}.")


async def _merge(session: AsyncSession, effects: Effects, body: MergeEvent) -> None:
    ids = [source.unit_id for source in body.sources]
    if len(set(ids)) != len(ids):
        raise invalid("duplicate_unit", ["body", "sources"], "A unit is listed twice.")
    if body.target.into_id is not None and body.target.into_id in ids:
        raise invalid(
            "duplicate_unit", ["body", "target", "into_id"], "The target is also a source."
        )
    target_id, target_level = await _target(session, effects, body.target, ("body", "target"))
    for index, source in enumerate(body.sources):
        loc = ("body", "sources", index, "unit_id")
        current = await version_on(session, source.unit_id, effects.on, loc)
        _same_level(str(current["level"]), target_level, loc)
        if not source.partly:
            await _end(
                session,
                effects,
                source.unit_id,
                loc,
                children_to=target_id,
                children_loc=loc,
            )
        effects.link(source.unit_id, target_id, source.partly)


async def _split(session: AsyncSession, effects: Effects, body: SplitEvent) -> None:
    loc = ("body", "source_id")
    current = await version_on(session, body.source_id, effects.on, loc)
    if not body.source_continues and len(body.parts) < 2:
        raise invalid(
            "split_parts_invalid",
            ["body", "parts"],
            "A unit that ends splits into two or more parts (or set source_continues).",
        )
    part_ids: list[uuid.UUID] = []
    for index, part in enumerate(body.parts):
        part_loc = ("body", "parts", index)
        if part.into_id == body.source_id:
            raise invalid("duplicate_unit", [*part_loc, "into_id"], "A part is the source itself.")
        unit_id, level = await _target(session, effects, part, part_loc)
        _same_level(str(current["level"]), level, part_loc)
        part_ids.append(unit_id)
    if len(set(part_ids)) != len(part_ids):
        raise invalid("duplicate_unit", ["body", "parts"], "A unit is listed twice.")
    if not body.source_continues:
        await _end(
            session,
            effects,
            body.source_id,
            loc,
            children_to=body.move_children_to,
            children_loc=("body", "move_children_to"),
        )
    for part_id in part_ids:
        # Every part receives only a part of the source ("partly merged").
        effects.link(body.source_id, part_id, True)


async def _revise(
    session: AsyncSession, effects: Effects, body: RenameEvent | ReclassifyEvent
) -> None:
    values: dict[str, Any] = {}
    if body.name is not None:
        values["name"] = body.name
    if isinstance(body, ReclassifyEvent):
        current = await version_on(session, body.unit_id, effects.on, ("body", "unit_id"))
        if body.type.level.value != current["level"]:
            raise invalid(
                "type_level_mismatch",
                ["body", "type"],
                f"A {current['level']} cannot become a {body.type.value} (another level).",
            )
        values["type"] = body.type.value
    result = await new_version_from(
        session,
        effects.change,
        Touched(dates=("body", "effective_date")),
        unit_id=body.unit_id,
        on=effects.on,
        values=values,
        event_id=effects.event_id,
        unit_loc=("body", "unit_id"),
    )
    if result is None:
        raise invalid(
            "event_no_change",
            ["body", "type" if isinstance(body, ReclassifyEvent) else "name"],
            f"Unit {body.unit_id} already has these values on {effects.on}.",
        )
    effects.changed.append(body.unit_id)


async def _transfer(session: AsyncSession, effects: Effects, body: TransferEvent) -> None:
    if len(set(body.unit_ids)) != len(body.unit_ids):
        raise invalid("duplicate_unit", ["body", "unit_ids"], "A unit is listed twice.")
    for index, unit_id in enumerate(body.unit_ids):
        loc = ("body", "unit_ids", index)
        result = await new_version_from(
            session,
            effects.change,
            Touched(code=loc, parent=("body", "parent_id"), dates=("body", "effective_date")),
            unit_id=unit_id,
            on=effects.on,
            values={"parent_id": body.parent_id},
            event_id=effects.event_id,
            unit_loc=loc,
        )
        if result is None:
            raise invalid(
                "event_no_change", loc, f"Unit {unit_id} is already under {body.parent_id}."
            )
        effects.changed.append(unit_id)


async def _save_links(session: AsyncSession, effects: Effects) -> None:
    pairs = [(link["predecessor_id"], link["successor_id"]) for link in effects.links]
    existing = await repo.link_pairs_exist(session, pairs)
    if existing:
        predecessor, successor = sorted(existing)[0]
        raise invalid(
            "lineage_exists",
            ["body"],
            f"{predecessor} is already recorded as a predecessor of {successor}.",
        )
    await repo.insert_links(session, effects.links)
