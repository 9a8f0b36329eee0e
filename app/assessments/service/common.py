"""Shared pieces of the assessments service: errors, representations, the unit in a year."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.repository import assessments as repo
from app.core import authz
from app.core.errors import Conflict, NotFound, Unprocessable, field_error
from app.core.http import timestamp
from app.core.permissions import Action
from app.core.security import Principal
from app.db.intervals import ONE_DAY, Period, overlaps
from app.models.enums import AssessmentStatus
from app.units import query as units


def assessment_not_found(assessment_id: uuid.UUID | str) -> NotFound:
    return NotFound(
        f"No assessment with id {assessment_id}.",
        code="assessment_not_found",
        params={"id": assessment_id},
    )


def locked(assessment_id: uuid.UUID) -> Conflict:
    return Conflict(
        f"Assessment {assessment_id} is locked: its values can no longer change.",
        code="assessment_locked",
    )


def under_review(assessment_id: uuid.UUID, dossier_id: uuid.UUID) -> Conflict:
    return Conflict(
        f"Assessment {assessment_id} is under review in dossier {dossier_id}: its values are "
        "locked until the dossier is returned or ends.",
        code="assessment_under_review",
        params={"dossier_id": str(dossier_id)},
        extra={"dossier_id": str(dossier_id)},
    )


def invalid(loc: list[str | int], code: str, message: str) -> Unprocessable:
    return Unprocessable(message, code=code, errors=[field_error(loc, message, code)])


async def authorize(
    session: AsyncSession, principal: Principal | None, action: Action, row: Mapping[Any, Any]
) -> None:
    """An assessment belongs to its unit: 404 outside the caller's scopes (as if absent), 403
    where it is visible but ``action`` is not allowed. ``None``: the system itself."""
    if principal is None:
        return
    await authz.require(
        session,
        principal,
        action,
        unit_id=row["unit_id"],
        entity="assessment",
        entity_id=row["id"],
        missing=assessment_not_found(row["id"]),
    )


async def load_or_404(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    principal: Principal | None = None,
    action: Action = Action.ASSESSMENTS_READ,
) -> RowMapping:
    row = await repo.get(session, assessment_id)
    if row is None:
        raise assessment_not_found(assessment_id)
    await authorize(session, principal, action, row)
    return row


async def load_for_write(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    principal: Principal | None = None,
    action: Action = Action.ASSESSMENTS_WRITE,
) -> RowMapping:
    """The row locked for the transaction; 409 ``assessment_locked`` once locked, 409
    ``assessment_under_review`` while a dossier resting on it is under review."""
    row = await repo.get_for_update(session, assessment_id)
    if row is None:
        raise assessment_not_found(assessment_id)
    await authorize(session, principal, action, row)
    if row["status"] == AssessmentStatus.LOCKED:
        raise locked(assessment_id)
    dossier_id = await repo.held_by_dossier(session, assessment_id)
    if dossier_id is not None:
        raise under_review(assessment_id, dossier_id)
    return row


def representation(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "unit_id": row["unit_id"],
        "criteria_set_id": row["criteria_set_id"],
        "year": row["year"],
        "kind": row["kind"],
        "status": row["status"],
        "note": row["note"],
        "revision": row["revision"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "created_by_name": row["created_by_name"],
        "updated_by_name": row["updated_by_name"],
        "submitted_at": timestamp(row["submitted_at"]),
        "locked_at": timestamp(row["locked_at"]),
    }


@dataclass(frozen=True)
class UnitInYear:
    """A unit as it stood in a year: its last version of that year and the date it is read at."""

    id: uuid.UUID
    code: str
    name: str
    level: str
    as_of: date
    parent_id: uuid.UUID | None = None

    def ref(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "name": self.name, "level": self.level}


def _pick(versions: Iterable[units.DatedUnit], year: int) -> UnitInYear | None:
    period = Period.year(year)
    best: units.DatedUnit | None = None
    for version in versions:
        during = overlaps(version.valid_from, version.valid_to, period.start, period.end)
        if during and (best is None or version.valid_from > best.valid_from):
            best = version
    if best is None:
        return None
    # Read the unit on the last day of the year it existed (a commune dissolved on 01/07/2025
    # is assessed for 2025 as it stood on 30/06/2025).
    as_of = min(date(year, 12, 31), best.valid_to - ONE_DAY)
    return UnitInYear(best.unit_id, best.code, best.name, best.level, as_of, best.parent_id)


async def unit_in_year(session: AsyncSession, unit_id: uuid.UUID, year: int) -> UnitInYear | None:
    return _pick(await units.versions_during(session, [unit_id], Period.year(year)), year)


async def units_in_years(
    session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], UnitInYear]:
    wanted = set(pairs)
    if not wanted:
        return {}
    # One read for every unit over the span of all the years asked about.
    first = min(year for _, year in wanted)
    last = max(year for _, year in wanted)
    span = Period(Period.year(first).start, Period.year(last).end)
    by_unit: dict[uuid.UUID, list[units.DatedUnit]] = {}
    for version in await units.versions_during(session, {unit_id for unit_id, _ in wanted}, span):
        by_unit.setdefault(version.unit_id, []).append(version)
    out: dict[tuple[uuid.UUID, int], UnitInYear] = {}
    for unit_id, year in wanted:
        found = _pick(by_unit.get(unit_id, []), year)
        if found is not None:
            out[(unit_id, year)] = found
    return out
