"""``GET /units/{id}/lineage``: predecessors and successors, transitively, through the links
that merges and splits record (each with its date, ``partly`` flag and legal basis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.units import repository as repo
from app.units.repository import Record
from app.units.service import legal_basis, ref, resolve
from app.units.temporal import ONE_DAY, end_out, start_out

MAX_DEPTH = 50


async def lineage(session: AsyncSession, unit_id: uuid.UUID) -> dict[str, Any]:
    subject, _ = await resolve(session, unit_id, None)
    predecessors = await _walk(session, unit_id, backwards=True)
    successors = await _walk(session, unit_id, backwards=False)
    everyone = sorted({entry["unit_id"] for entry in predecessors + successors})
    versions: dict[uuid.UUID, list[Record]] = {}
    for version in await repo.versions_of(session, everyone):
        versions.setdefault(version["unit_id"], []).append(version)
    event_ids = sorted(
        {e["event_id"] for e in predecessors + successors if e["event_id"] is not None}
    )
    events = await repo.events(session, event_ids)
    return {
        "unit": ref(subject),
        "predecessors": _ordered(_entry(e, versions, events, before=True) for e in predecessors),
        "successors": _ordered(_entry(e, versions, events, before=False) for e in successors),
    }


def _ordered(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nearest first, then by date and code: a stable, readable order."""
    return sorted(
        entries,
        key=lambda e: (e["depth"], e["effective_date"], e["unit"]["code"], str(e["unit"]["id"])),
    )


async def _walk(
    session: AsyncSession, unit_id: uuid.UUID, *, backwards: bool
) -> list[dict[str, Any]]:
    seen = {unit_id}
    frontier = [unit_id]
    found: list[dict[str, Any]] = []
    depth = 1
    while frontier and depth <= MAX_DEPTH:
        links = await repo.links_touching(session, frontier, backwards=backwards)
        links.sort(key=lambda link: (link["effective_date"], str(link["id"])))
        frontier = []
        for link in links:
            other = link["predecessor_id"] if backwards else link["successor_id"]
            via = link["successor_id"] if backwards else link["predecessor_id"]
            if other in seen:
                continue
            seen.add(other)
            frontier.append(other)
            found.append(
                {
                    "unit_id": other,
                    "via_id": via,
                    "depth": depth,
                    "effective_date": link["effective_date"],
                    "partly": link["partly"],
                    "event_id": link["event_id"],
                }
            )
        depth += 1
    return found


def _shown(versions: list[Record], on: date, before: bool) -> Record:
    """A predecessor as it was the day before the change, a successor as it was on the day."""
    day = on - ONE_DAY if before else on
    for version in versions:
        if version["valid_from"] <= day < version["valid_to"]:
            return version
    earlier = [v for v in versions if v["valid_from"] <= day]
    return earlier[-1] if earlier else versions[0]


def _entry(
    found: Record,
    versions: Mapping[uuid.UUID, list[Record]],
    events: Mapping[uuid.UUID, Record],
    *,
    before: bool,
) -> dict[str, Any]:
    version = _shown(list(versions[found["unit_id"]]), found["effective_date"], before)
    event = events.get(found["event_id"]) if found["event_id"] is not None else None
    return {
        "unit": {
            **ref({**version, "id": found["unit_id"]}),
            "valid_from": start_out(version["valid_from"]),
            "valid_to": end_out(version["valid_to"]),
        },
        "via_id": found["via_id"],
        "depth": found["depth"],
        "effective_date": found["effective_date"],
        "partly": found["partly"],
        "event": None
        if event is None
        else {
            "id": event["id"],
            "kind": event["kind"],
            "effective_date": event["effective_date"],
            "legal_basis": legal_basis(event),
        },
    }
