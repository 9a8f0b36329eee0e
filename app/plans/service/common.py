"""Shared pieces of the plans service: errors, authorisation, representations, scope checks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import RowMapping, Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import authz
from app.core.errors import Conflict, NotFound, Unprocessable, field_error
from app.core.http import require_match, revision_etag, timestamp
from app.core.permissions import Action
from app.core.security import Principal
from app.criteria.service.reading import list_sets
from app.models.enums import PlanStatus, Title
from app.plans import repository as repo
from app.plans.rules import TITLE_LEVEL
from app.units import query as units

Loc = list[str | int]
READ_ONLY = frozenset({PlanStatus.SUPERSEDED, PlanStatus.CLOSED})


def not_found(entity: str, entity_id: uuid.UUID | str) -> NotFound:
    label = entity.replace("_", " ")
    return NotFound(
        f"No {label} with id {entity_id}.", code=f"{entity}_not_found", params={"id": entity_id}
    )


def invalid(loc: Loc, code: str, message: str) -> Unprocessable:
    return Unprocessable(message, code=code, errors=[field_error(loc, message, code)])


def etag_of(row: Mapping[Any, Any]) -> str:
    return revision_etag(row["id"], row["revision"])


async def authorize(
    session: AsyncSession, principal: Principal | None, action: Action, plan: Mapping[Any, Any]
) -> None:
    """A plan belongs to its issuing unit: 404 outside the caller's scopes, 403 where it is
    visible but ``action`` is not allowed. ``None``: the system itself."""
    if principal is None:
        return
    await authz.require(
        session,
        principal,
        action,
        unit_id=plan["issuing_unit_id"],
        entity="plan",
        entity_id=plan["id"],
        missing=not_found("plan", plan["id"]),
    )


async def readable_plan(
    session: AsyncSession, plan_id: uuid.UUID, principal: Principal | None
) -> RowMapping:
    plan = await repo.get(session, repo.PLANS, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    await authorize(session, principal, Action.PLANS_READ, plan)
    return plan


def require_writable(plan: Mapping[Any, Any]) -> None:
    """A superseded or closed plan stays readable as it was: 409 ``plan_read_only``."""
    if PlanStatus(plan["status"]) in READ_ONLY:
        raise Conflict(
            f"Plan {plan['id']} is {plan['status']}: it can no longer change "
            "(adjust the plan in force instead).",
            code="plan_read_only",
            params={"status": plan["status"]},
        )


async def plan_for_child_write(
    session: AsyncSession,
    plan_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None = None,
) -> RowMapping:
    """Writes of a plan's items lock the plan itself: its revision counts every change of what
    it holds, and concurrent writers of one plan take turns."""
    plan = await repo.get_for_update(session, repo.PLANS, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    await authorize(session, principal, Action.PLANS_WRITE, plan)
    require_writable(plan)
    return plan


def missing_item(entity: str, item_id: uuid.UUID) -> NotFound:
    """The 404 of an item of a plan (codes spelled out for the catalogue's scanner)."""
    if entity == "plan_target":
        return not_found("plan_target", item_id)
    if entity == "plan_roadmap_item":
        return not_found("plan_roadmap_item", item_id)
    return not_found("plan_task", item_id)


async def child_for_write(
    session: AsyncSession,
    table: Table,
    entity: str,
    plan: Mapping[Any, Any],
    item_id: uuid.UUID,
    if_match: str | None,
) -> RowMapping:
    item = await repo.get_for_update(session, table, item_id)
    if item is None or item["plan_id"] != plan["id"]:
        raise missing_item(entity, item_id)
    require_match(if_match, etag_of(item), what=f"The {entity.replace('_', ' ')} {item_id}")
    return item


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def plan_out(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "number": row["number"],
        "title": row["title"],
        "kind": row["kind"],
        "issuing_unit_id": row["issuing_unit_id"],
        "issue_date": _iso(row["issue_date"]),
        "start_year": row["start_year"],
        "end_year": row["end_year"],
        "parent_id": row["parent_id"],
        "status": row["status"],
        "legal_reference": row["legal_reference"],
        "scope_as_of": _iso(row["scope_as_of"]),
        "version": row["version"],
        "supersedes_id": row["supersedes_id"],
        "superseded_by_id": row["superseded_by_id"],
        "effective_from": _iso(row["effective_from"]),
        "effective_to": _iso(row["effective_to"]),
        "at_risk_criteria_unmet": row["at_risk_criteria_unmet"],
        "at_risk_months_left": row["at_risk_months_left"],
        "note": row["note"],
        "revision": row["revision"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "created_by_name": row["created_by_name"],
        "updated_by_name": row["updated_by_name"],
    }


def _common(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "plan_id": row["plan_id"],
        "revision": row["revision"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
    }


def target_out(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        **_common(row),
        "metric": row["metric"],
        "title": row["title"],
        "scope_unit_id": row["scope_unit_id"],
        "scope_as_of": _iso(row["scope_as_of"]),
        "year": row["year"],
        "planned_value": row["planned_value"],
        "criteria_threshold": row["criteria_threshold"],
        "source_document": row["source_document"],
        "reported": row["reported"],
        "note": row["note"],
    }


def roadmap_out(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        **_common(row),
        "unit_id": row["unit_id"],
        "title": row["title"],
        "target_year": row["target_year"],
        "field": row["field"],
        "owner": row["owner"],
        "note": row["note"],
    }


def task_out(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        **_common(row),
        "description": row["description"],
        "agency": row["agency"],
        "deadline": _iso(row["deadline"]),
        "status": row["status"],
        "notes": list(row["notes"] or []),
    }


def document_out(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "plan_id": row["plan_id"],
        "kind": row["kind"],
        "filename": row["filename"],
        "media_type": row["media_type"],
        "size_bytes": row["size_bytes"],
        "sha256": row["sha256"],
        "uploaded_at": timestamp(row["uploaded_at"]),
        "uploaded_by_name": row["uploaded_by_name"],
    }


# --- checks against the map and the criteria -------------------------------------------------


def check_year_in_period(plan: Mapping[Any, Any], year: int, loc: Loc) -> None:
    if not plan["start_year"] <= year <= plan["end_year"]:
        raise invalid(
            loc,
            "target_year_outside_period",
            f"Year {year} is outside the plan's period {plan['start_year']}-{plan['end_year']}.",
        )


async def in_plan_scope(
    session: AsyncSession, plan: Mapping[Any, Any], unit_id: uuid.UUID, day: date, loc: Loc
) -> units.DatedUnit:
    """The unit as it stood on ``day``, which must be inside the issuing unit's subtree then."""
    chain = await units.chain_on(session, unit_id, day)
    if not chain:
        raise invalid(loc, "unit_not_found", f"No unit {unit_id} existed on {day.isoformat()}.")
    if plan["issuing_unit_id"] not in {version.unit_id for version in chain}:
        raise invalid(
            loc,
            "unit_outside_plan_scope",
            f"Unit {unit_id} was not under the plan's issuing unit on {day.isoformat()}.",
        )
    return chain[0]


async def check_title_granted(session: AsyncSession, title: Title, year: int, loc: Loc) -> None:
    """Some published criteria set grants ``title`` at its level for ``year`` (a province's
    village sets included); otherwise no unit could ever reach it."""
    items, _cursor, _total = await list_sets(
        session, None, "en", title=title.value, year=year, level=TITLE_LEVEL[title].value
    )
    if not items:
        raise invalid(
            loc,
            "title_not_granted",
            f"No published criteria set grants {title.value} at the "
            f"{TITLE_LEVEL[title].value} level for {year}.",
        )
