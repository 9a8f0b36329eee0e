"""Plans: creation, reads, lists, edits of drafts, the lifecycle and adjustments (new versions)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, entry, record, record_many
from app.core import authz
from app.core.errors import Conflict
from app.core.http import require_match
from app.core.lifecycle import Transition, TransitionTable
from app.core.pagination import decode_updated_cursor, page_from_rows
from app.core.permissions import Action
from app.core.security import Principal
from app.db.types import utcnow
from app.models.enums import AuditAction, PlanStatus
from app.plans import repository as repo
from app.plans.schemas import PlanAdjust, PlanCreate, PlanPatch
from app.plans.service.common import (
    authorize,
    etag_of,
    invalid,
    not_found,
    plan_out,
    readable_plan,
    require_writable,
)
from app.units import query as units

ENTITY = "plan"

# draft → in_force → closed. "superseded" is reached only by an adjustment, which writes the
# new version in the same transaction (DOMAIN.md §6: an adjustment is a new version).
LIFECYCLE: TransitionTable[PlanStatus] = TransitionTable(
    ENTITY,
    [
        Transition(
            PlanStatus.DRAFT,
            "bring_into_force",
            PlanStatus.IN_FORCE,
            Action.PLANS_WRITE,
            AuditAction.UPDATE,
        ),
        Transition(
            PlanStatus.IN_FORCE, "close", PlanStatus.CLOSED, Action.PLANS_WRITE, AuditAction.UPDATE
        ),
    ],
)

_CONTENT = (
    "number",
    "title",
    "issue_date",
    "start_year",
    "end_year",
    "legal_reference",
    "at_risk_criteria_unmet",
    "at_risk_months_left",
    "note",
)
_AUDITED = ("status", "revision", *_CONTENT)


def _same(body: PlanCreate, row: Mapping[Any, Any]) -> bool:
    return all(
        getattr(body, name) == row[name]
        for name in ("number", "title", "issuing_unit_id", "issue_date", "start_year", "end_year")
    )


async def _check_period_against_items(
    session: AsyncSession, plan_id: uuid.UUID, start: int, end: int, issue_date: Any
) -> None:
    for target in await repo.children(session, repo.TARGETS, plan_id):
        if not start <= target["year"] <= end:
            raise invalid(
                ["body", "start_year" if target["year"] < start else "end_year"],
                "target_year_outside_period",
                f"Target {target['id']} is for {target['year']}, outside {start}-{end}.",
            )
    for item in await repo.children(session, repo.ROADMAP, plan_id):
        if not start <= item["target_year"] <= end:
            raise invalid(
                ["body", "start_year" if item["target_year"] < start else "end_year"],
                "target_year_outside_period",
                f"Roadmap item {item['id']} aims at {item['target_year']}, outside {start}-{end}.",
            )
    for task in await repo.children(session, repo.TASKS, plan_id):
        if task["deadline"] is not None and task["deadline"] < issue_date:
            raise invalid(
                ["body", "issue_date"],
                "deadline_before_plan",
                f"Task {task['id']} is due {task['deadline']}, before the plan's date.",
            )


async def create(
    session: AsyncSession, context: AuditContext, body: PlanCreate, principal: Principal | None
) -> tuple[dict[str, Any], bool]:
    """(representation, created). The same id and body again returns the existing plan."""
    if principal is not None:
        await authz.require(
            session,
            principal,
            Action.PLANS_WRITE,
            unit_id=body.issuing_unit_id,
            entity="unit",
            entity_id=body.issuing_unit_id,
        )
    if body.id is not None:
        existing = await repo.get(session, repo.PLANS, body.id)
        if existing is not None:
            await authorize(session, principal, Action.PLANS_WRITE, existing)
            if _same(body, existing):
                return plan_out(existing), False
            raise Conflict(f"Plan {body.id} exists with other values.", code="plan_id_conflict")
    if body.start_year > body.end_year:
        raise invalid(
            ["body", "end_year"], "plan_period_invalid", "The period ends before it starts."
        )
    scope_day = body.scope_as_of or body.issue_date
    if await units.version_on(session, body.issuing_unit_id, scope_day) is None:
        raise invalid(
            ["body", "issuing_unit_id"],
            "unit_not_found",
            f"No unit {body.issuing_unit_id} existed on {scope_day.isoformat()}.",
        )
    if body.parent_id is not None:
        parent = await repo.get(session, repo.PLANS, body.parent_id)
        if parent is None:
            raise invalid(["body", "parent_id"], "plan_not_found", "No such parent plan.")
        await authorize(session, principal, Action.PLANS_READ, parent)
        if body.start_year < parent["start_year"] or body.end_year > parent["end_year"]:
            raise invalid(
                ["body", "start_year"],
                "plan_outside_parent_period",
                f"The period {body.start_year}-{body.end_year} is outside the parent plan's "
                f"{parent['start_year']}-{parent['end_year']}.",
            )
    now = utcnow()
    new_id = body.id or uuid.uuid4()
    row: dict[str, Any] = {
        "id": new_id,
        "number": body.number,
        "title": body.title,
        "kind": body.kind.value,
        "issuing_unit_id": body.issuing_unit_id,
        "issue_date": body.issue_date,
        "start_year": body.start_year,
        "end_year": body.end_year,
        "parent_id": body.parent_id,
        "status": PlanStatus.DRAFT.value,
        "legal_reference": body.legal_reference,
        "scope_as_of": scope_day,
        "version": 1,
        "supersedes_id": None,
        "superseded_by_id": None,
        "effective_from": body.issue_date,
        "effective_to": None,
        "at_risk_criteria_unmet": body.at_risk_criteria_unmet,
        "at_risk_months_left": body.at_risk_months_left,
        "note": body.note,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": context.actor_id,
        "created_by_name": context.actor_name,
        "updated_by": context.actor_id,
        "updated_by_name": context.actor_name,
    }
    await repo.insert_one(session, repo.PLANS, row)
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=new_id,
        action=AuditAction.CREATE,
        after=row,
        unit_id=body.issuing_unit_id,
    )
    return plan_out(row), True


async def detail(
    session: AsyncSession, plan_id: uuid.UUID, principal: Principal | None
) -> tuple[dict[str, Any], str]:
    plan = await readable_plan(session, plan_id, principal)
    return plan_out(plan), etag_of(plan)


@dataclass(frozen=True)
class PlanList:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def list_plans(
    session: AsyncSession,
    principal: Principal | None,
    *,
    issuing_unit_id: uuid.UUID | None,
    parent_id: uuid.UUID | None,
    status: str | None,
    kind: str | None,
    year: int | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> PlanList:
    filters = repo.PlanFilters(
        visible=authz.scope(principal, Action.PLANS_READ).clause(repo.PLANS.c.issuing_unit_id),
        issuing_unit_id=issuing_unit_id,
        parent_id=parent_id,
        status=status,
        kind=kind,
        year=year,
        updated_since=updated_since,
    )
    rows = await repo.plan_page(session, filters, after=decode_updated_cursor(cursor), limit=limit)
    kept, next_cursor = page_from_rows(rows, limit, lambda r: (r["updated_at"], r["id"]))
    return PlanList([plan_out(row) for row in kept], next_cursor)


async def patch(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    body: PlanPatch,
    principal: Principal | None,
    if_match: str | None,
) -> dict[str, Any]:
    """The write pattern: lock, authorise, If-Match, check, write, audit."""
    current = await repo.get_for_update(session, repo.PLANS, plan_id)
    if current is None:
        raise not_found("plan", plan_id)
    await authorize(session, principal, Action.PLANS_WRITE, current)
    require_match(if_match, etag_of(current), what=f"Plan {plan_id}")
    require_writable(current)
    status = PlanStatus(current["status"])
    changes: dict[str, Any] = {}
    for name in _CONTENT:
        if name in body.model_fields_set and getattr(body, name) != current[name]:
            changes[name] = getattr(body, name)
    if changes and status != PlanStatus.DRAFT:
        raise Conflict(
            f"Plan {plan_id} is {status}: its content changes by adjustment (a new version).",
            code="plan_not_draft",
        )
    if body.status is not None and body.status != status:
        changes["status"] = LIFECYCLE.leading_to(status, body.status).target.value
    if not changes:
        return plan_out(current)
    start = changes.get("start_year", current["start_year"])
    end = changes.get("end_year", current["end_year"])
    if start > end:
        raise invalid(
            ["body", "end_year"], "plan_period_invalid", "The period ends before it starts."
        )
    await _check_period_against_items(
        session, plan_id, start, end, changes.get("issue_date", current["issue_date"])
    )
    if "issue_date" in changes:
        changes["effective_from"] = changes["issue_date"]
    now = utcnow()
    changes.update(
        revision=current["revision"] + 1,
        updated_at=now,
        updated_by=context.actor_id,
        updated_by_name=context.actor_name,
    )
    await repo.update_one(session, repo.PLANS, plan_id, changes)
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=plan_id,
        action=AuditAction.UPDATE,
        before={k: current[k] for k in _AUDITED if k in changes},
        after={k: changes[k] for k in _AUDITED if k in changes},
        unit_id=current["issuing_unit_id"],
    )
    return plan_out({**current, **changes})


def _copies(
    rows: list[Any], plan_id: uuid.UUID, now: datetime, context: AuditContext
) -> list[dict[str, Any]]:
    return [
        {
            **dict(row),
            "id": uuid.uuid4(),
            "plan_id": plan_id,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
            "created_by": context.actor_id,
            "created_by_name": context.actor_name,
            "updated_by": context.actor_id,
            "updated_by_name": context.actor_name,
        }
        for row in rows
    ]


async def adjust(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    body: PlanAdjust,
    principal: Principal | None,
    if_match: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new version of a plan in force, superseding it from ``effective_from``: the new plan
    starts with copies of the old one's targets, roadmap and tasks; the old one becomes
    ``superseded`` and stays readable as it was. (new version, old version)."""
    current = await repo.get_for_update(session, repo.PLANS, plan_id)
    if current is None:
        raise not_found("plan", plan_id)
    await authorize(session, principal, Action.PLANS_WRITE, current)
    require_match(if_match, etag_of(current), what=f"Plan {plan_id}")
    if current["status"] != PlanStatus.IN_FORCE:
        raise Conflict(
            f"Plan {plan_id} is {current['status']}: only a plan in force is adjusted.",
            code="plan_not_in_force",
            params={"status": current["status"]},
        )
    if body.effective_from <= current["effective_from"]:
        raise invalid(
            ["body", "effective_from"],
            "adjustment_before_plan",
            f"An adjustment holds from after {current['effective_from'].isoformat()}.",
        )
    if body.issue_date < current["issue_date"]:
        raise invalid(
            ["body", "issue_date"],
            "adjustment_before_plan",
            f"An adjustment is issued on or after {current['issue_date'].isoformat()}.",
        )
    start = body.start_year or current["start_year"]
    end = body.end_year or current["end_year"]
    if start > end:
        raise invalid(
            ["body", "end_year"], "plan_period_invalid", "The period ends before it starts."
        )
    await _check_period_against_items(session, plan_id, start, end, current["issue_date"])
    now = utcnow()
    new_id = uuid.uuid4()
    new = {
        **dict(current),
        "id": new_id,
        "number": body.number,
        "title": body.title or current["title"],
        "issue_date": body.issue_date,
        "start_year": start,
        "end_year": end,
        "legal_reference": body.legal_reference or current["legal_reference"],
        "note": body.note,
        "status": PlanStatus.IN_FORCE.value,
        "version": current["version"] + 1,
        "supersedes_id": plan_id,
        "superseded_by_id": None,
        "effective_from": body.effective_from,
        "effective_to": None,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": context.actor_id,
        "created_by_name": context.actor_name,
        "updated_by": context.actor_id,
        "updated_by_name": context.actor_name,
    }
    await repo.insert_one(session, repo.PLANS, new)
    copied: list[dict[str, Any]] = []
    for table, entity in (
        (repo.TARGETS, "plan_target"),
        (repo.ROADMAP, "plan_roadmap_item"),
        (repo.TASKS, "plan_task"),
    ):
        rows = _copies(await repo.children(session, table, plan_id), new_id, now, context)
        await repo.insert_many(session, table, rows)
        copied += [
            entry(
                context,
                entity=entity,
                entity_id=row["id"],
                action=AuditAction.CREATE,
                after=row,
                unit_id=current["issuing_unit_id"],
            )
            for row in rows
        ]
    old_changes = {
        "status": PlanStatus.SUPERSEDED.value,
        "superseded_by_id": new_id,
        "effective_to": body.effective_from,
        "revision": current["revision"] + 1,
        "updated_at": now,
        "updated_by": context.actor_id,
        "updated_by_name": context.actor_name,
    }
    await repo.update_one(session, repo.PLANS, plan_id, old_changes)
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=new_id,
        action=AuditAction.CREATE,
        after=new,
        unit_id=current["issuing_unit_id"],
    )
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=plan_id,
        action=AuditAction.UPDATE,
        before={"status": current["status"], "revision": current["revision"]},
        after=old_changes,
        unit_id=current["issuing_unit_id"],
    )
    if copied:
        await record_many(session, copied)
    return plan_out(new), plan_out({**current, **old_changes})
