"""Dated classifications of units (NTM region, especially difficult, commune group, …).

Assigning a value from a date ends the assignment of the same kind that covers that date (it
stays as history) and starts the new one; assigning on the very day an assignment starts
corrects it (the audit trail keeps the old value). Later assignments are never overwritten
silently: they make the request fail with ``classification_overlap``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, entry, record_many
from app.core.http import require_match
from app.db.types import utcnow
from app.models.enums import AuditAction, ClassificationKind, Region, UnitLevel
from app.units import repository as repo
from app.units.errors import Loc, Violations, unit_not_found
from app.units.schemas import ClassificationAssign
from app.units.service import current_etag
from app.units.temporal import OPEN_END

YES_NO = ("true", "false")
# Which units each kind applies to and its values (DOMAIN.md §7; 318/QĐ-TTg regions;
# 51/2025/QĐ-TTg commune groups).
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ClassificationKind.NTM_REGION.value: (
        (UnitLevel.PROVINCE.value,),
        tuple(r.value for r in Region),
    ),
    ClassificationKind.ESPECIALLY_DIFFICULT.value: (
        (UnitLevel.COMMUNE.value, UnitLevel.VILLAGE.value),
        YES_NO,
    ),
    ClassificationKind.SAFE_ZONE.value: ((UnitLevel.COMMUNE.value,), YES_NO),
    ClassificationKind.COMMUNE_GROUP.value: ((UnitLevel.COMMUNE.value,), ("1", "2", "3")),
    ClassificationKind.URBANITY.value: ((UnitLevel.COMMUNE.value,), ("rural", "urban")),
}


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "closed": self.closed,
        }


def _basis(body: ClassificationAssign) -> dict[str, Any]:
    basis = body.legal_basis
    return {
        "legal_basis_number": basis.number if basis else None,
        "legal_basis_date": basis.date if basis else None,
        "legal_basis_issuer": basis.issuer if basis else None,
        "legal_basis_title": basis.title if basis else None,
    }


async def assign(
    session: AsyncSession,
    context: AuditContext,
    items: Sequence[tuple[uuid.UUID, ClassificationAssign, Loc]],
    *,
    single_unit: uuid.UUID | None = None,
    if_match: str | None = None,
) -> Outcome:
    """Apply every assignment or none (422 listing each problem with its ``loc``). A unit's
    classifications are part of it: each write raises the unit's revision, and ``If-Match``
    (``single_unit`` only) is compared with the unit's ETag once the map is locked."""
    await repo.lock_map(session)
    unit_ids = sorted({unit_id for unit_id, _, _ in items})
    levels = await repo.unit_levels(session, unit_ids)
    if single_unit is not None and single_unit not in levels:
        raise unit_not_found(single_unit)
    if single_unit is not None:
        etag = await current_etag(session, single_unit)
        require_match(if_match, etag, what=f"Unit {single_unit}")
    lifetimes: dict[uuid.UUID, tuple[date, date]] = {}
    for version in await repo.versions_of(session, unit_ids):
        low, high = lifetimes.get(version["unit_id"], (version["valid_from"], version["valid_to"]))
        lifetimes[version["unit_id"]] = (
            min(low, version["valid_from"]),
            max(high, version["valid_to"]),
        )
    state = {
        key: [dict(row) for row in rows]
        for key, rows in (
            await repo.classification_rows(
                session, [(unit_id, body.kind.value) for unit_id, body, _ in items]
            )
        ).items()
    }
    violations = Violations()
    outcome = Outcome()
    audit: list[dict[str, Any]] = []
    now = utcnow()
    for unit_id, body, loc in items:
        kind = body.kind.value
        if unit_id not in levels:
            violations.add("unit_not_found", [*loc, "unit_id"], f"No unit {unit_id}.")
            continue
        allowed_levels, allowed_values = RULES[kind]
        if levels[unit_id] not in allowed_levels:
            violations.add(
                "classification_invalid",
                [*loc, "kind"],
                f"{kind} applies to {' and '.join(allowed_levels)} units, not a {levels[unit_id]}.",
            )
            continue
        if body.value not in allowed_values:
            violations.add(
                "classification_invalid",
                [*loc, "value"],
                f"{kind} is one of {', '.join(allowed_values)}.",
            )
            continue
        first, last = lifetimes[unit_id]
        start = body.valid_from
        end = min(body.valid_to or OPEN_END, last)
        if not first <= start < last:
            violations.add(
                "unit_not_valid", [*loc, "valid_from"], f"Unit {unit_id} does not exist on {start}."
            )
            continue
        if not start < end:
            violations.add(
                "invalid_interval", [*loc, "valid_to"], "valid_to must be after valid_from."
            )
            continue
        rows = state[(unit_id, kind)]
        later = [r for r in rows if start < r["valid_from"] < end]
        if later:
            violations.add(
                "classification_overlap",
                [*loc, "valid_to"],
                f"Unit {unit_id} has another {kind} from {later[0]['valid_from']}: end this one "
                "before it (valid_to).",
            )
            continue
        covering = next((r for r in rows if r["valid_from"] <= start < r["valid_to"]), None)
        if covering is not None and covering["value"] == body.value and covering["valid_to"] == end:
            outcome.unchanged += 1
            continue
        basis = _basis(body)
        if covering is not None and covering["valid_to"] > end:
            rest = {
                **covering,
                "id": uuid.uuid4(),
                "valid_from": end,
                "created_at": now,
                "updated_at": now,
            }
            await repo.insert_classification(session, rest)
            rows.append(rest)
        if covering is not None and covering["valid_from"] == start:
            values = {"value": body.value, "valid_to": end, "note": body.note, **basis}
            await repo.update_classification(session, covering["id"], values)
            audit.append(_audit(context, covering, {**covering, **values}, AuditAction.UPDATE))
            covering.update(values)
            outcome.updated += 1
            continue
        if covering is not None:
            await repo.update_classification(session, covering["id"], {"valid_to": start})
            audit.append(
                _audit(context, covering, {**covering, "valid_to": start}, AuditAction.UPDATE)
            )
            covering["valid_to"] = start
            outcome.closed += 1
        row = {
            "id": uuid.uuid4(),
            "unit_id": unit_id,
            "kind": kind,
            "value": body.value,
            "valid_from": start,
            "valid_to": end,
            "note": body.note,
            **basis,
            "created_at": now,
            "updated_at": now,
        }
        await repo.insert_classification(session, row)
        audit.append(_audit(context, None, row, AuditAction.CREATE))
        rows.append(row)
        outcome.created += 1
    violations.raise_if_any()
    await repo.touch_units(session, [entry_["unit_id"] for entry_ in audit])
    await record_many(session, audit)
    return outcome


def _audit(
    context: AuditContext, before: dict[str, Any] | None, after: dict[str, Any], action: str
) -> dict[str, Any]:
    return entry(
        context,
        entity="unit_classification",
        entity_id=after["id"],
        action=action,
        before=before,
        after=after,
        unit_id=after["unit_id"],
    )
