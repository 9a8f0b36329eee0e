"""``GET /units/{id}/lineage``: predecessors and successors, transitively, through the links
that merges and splits record (each with its date, ``partly`` flag and legal basis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.units import query
from app.units import repository as repo
from app.units.repository import Record
from app.units.service import date_flags, legal_basis, ref, resolve
from app.units.temporal import ONE_DAY, end_out, start_out


async def lineage(session: AsyncSession, unit_id: uuid.UUID) -> dict[str, Any]:
    subject, _ = await resolve(session, unit_id, None)
    found = await query.lineage(session, unit_id)
    steps = found.predecessors + found.successors
    everyone = sorted({step.unit_id for step in steps})
    versions: dict[uuid.UUID, list[Record]] = {}
    for version in await repo.versions_of(session, everyone):
        versions.setdefault(version["unit_id"], []).append(version)
    event_ids = sorted({step.event_id for step in steps if step.event_id is not None})
    events = await repo.events(session, event_ids)
    return {
        "unit": ref(subject),
        "predecessors": _ordered(
            _entry(step, versions, events, before=True) for step in found.predecessors
        ),
        "successors": _ordered(
            _entry(step, versions, events, before=False) for step in found.successors
        ),
    }


def _ordered(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nearest first, then by date and code: a stable, readable order."""
    return sorted(
        entries,
        key=lambda e: (e["depth"], e["effective_date"], e["unit"]["code"], str(e["unit"]["id"])),
    )


def _shown(versions: list[Record], on: date, before: bool) -> Record:
    """A predecessor as it was the day before the change, a successor as it was on the day."""
    day = on - ONE_DAY if before else on
    for version in versions:
        if version["valid_from"] <= day < version["valid_to"]:
            return version
    earlier = [v for v in versions if v["valid_from"] <= day]
    return earlier[-1] if earlier else versions[0]


def _entry(
    step: query.LineageStep,
    versions: Mapping[uuid.UUID, list[Record]],
    events: Mapping[uuid.UUID, Record],
    *,
    before: bool,
) -> dict[str, Any]:
    version = _shown(list(versions[step.unit_id]), step.effective_date, before)
    event = events.get(step.event_id) if step.event_id is not None else None
    return {
        "unit": {
            **ref({**version, "id": step.unit_id}),
            "valid_from": start_out(version["valid_from"]),
            "valid_to": end_out(version["valid_to"]),
        },
        "via_id": step.via_id,
        "depth": step.depth,
        "effective_date": step.effective_date,
        "partly": step.partly,
        "confidence": step.confidence,
        "rule": step.rule,
        "event": None
        if event is None
        else {
            "id": event["id"],
            "kind": event["kind"],
            "effective_date": event["effective_date"],
            "legal_basis": legal_basis(event),
            **date_flags(event["payload"] or {}),
        },
    }
