"""What a plan holds: targets, roadmap items and tasks (list, create, update).

Every write locks the plan (``plan_for_child_write``) then the item, checks ``If-Match`` on the
item, validates against the plan (its period, its scope on its scope date, the titles criteria
sets grant), writes, bumps the item's revision and the plan's, and audits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core.errors import Conflict
from app.core.http import timestamp
from app.core.pagination import decode_updated_cursor, page_from_rows
from app.core.security import Principal
from app.db.types import utcnow
from app.models.enums import AuditAction, TargetMetric, TaskStatus, Title
from app.plans import repository as repo
from app.plans.rules import (
    BUDGET_METRICS,
    CRITERIA_METRICS,
    TITLE_LEVEL,
    TITLE_METRICS,
    default_title,
)
from app.plans.schemas import (
    RoadmapCreate,
    RoadmapPatch,
    TargetCreate,
    TargetPatch,
    TaskCreate,
    TaskPatch,
)
from app.plans.service.common import (
    Loc,
    check_title_granted,
    check_year_in_period,
    child_for_write,
    in_plan_scope,
    invalid,
    plan_for_child_write,
    readable_plan,
    roadmap_out,
    target_out,
    task_out,
)

Out = Callable[[Mapping[Any, Any]], dict[str, Any]]
KINDS: dict[str, tuple[Table, Out]] = {
    "plan_target": (repo.TARGETS, target_out),
    "plan_roadmap_item": (repo.ROADMAP, roadmap_out),
    "plan_task": (repo.TASKS, task_out),
}


async def list_items(
    session: AsyncSession,
    entity: str,
    plan_id: uuid.UUID,
    principal: Principal | None,
    *,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    await readable_plan(session, plan_id, principal)
    table, out = KINDS[entity]
    rows = await repo.child_page(
        session,
        table,
        plan_id,
        after=decode_updated_cursor(cursor),
        updated_since=updated_since,
        limit=limit,
    )
    kept, next_cursor = page_from_rows(rows, limit, lambda r: (r["updated_at"], r["id"]))
    return [out(row) for row in kept], next_cursor


def _stamp(context: AuditContext, now: datetime) -> dict[str, Any]:
    return {
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": context.actor_id,
        "created_by_name": context.actor_name,
        "updated_by": context.actor_id,
        "updated_by_name": context.actor_name,
    }


async def _touch_plan(
    session: AsyncSession, plan: Mapping[Any, Any], context: AuditContext, now: datetime
) -> None:
    await repo.update_one(
        session,
        repo.PLANS,
        plan["id"],
        {
            "revision": plan["revision"] + 1,
            "updated_at": now,
            "updated_by": context.actor_id,
            "updated_by_name": context.actor_name,
        },
    )


async def _create(
    session: AsyncSession,
    context: AuditContext,
    entity: str,
    plan: Mapping[Any, Any],
    item_id: uuid.UUID | None,
    values: dict[str, Any],
) -> tuple[dict[str, Any], bool]:
    table, out = KINDS[entity]
    if item_id is not None:
        existing = await repo.get(session, table, item_id)
        if existing is not None:
            same = existing["plan_id"] == plan["id"] and all(
                existing[k] == v for k, v in values.items() if k != "notes"
            )
            if same:
                return out(existing), False
            raise Conflict(f"{entity} {item_id} exists with other values.", code="item_id_conflict")
    now = utcnow()
    row = {"id": item_id or uuid.uuid4(), "plan_id": plan["id"], **values, **_stamp(context, now)}
    await repo.insert_one(session, table, row)
    await _touch_plan(session, plan, context, now)
    await record(
        session,
        context,
        entity=entity,
        entity_id=row["id"],
        action=AuditAction.CREATE,
        after=row,
        unit_id=plan["issuing_unit_id"],
    )
    return out(row), True


async def _update(
    session: AsyncSession,
    context: AuditContext,
    entity: str,
    plan: Mapping[Any, Any],
    current: Mapping[Any, Any],
    changes: dict[str, Any],
) -> dict[str, Any]:
    table, out = KINDS[entity]
    changes = {k: v for k, v in changes.items() if current[k] != v}
    if not changes:
        return out(current)
    now = utcnow()
    audited = dict(changes)
    changes.update(
        revision=current["revision"] + 1,
        updated_at=now,
        updated_by=context.actor_id,
        updated_by_name=context.actor_name,
    )
    await repo.update_one(session, table, current["id"], changes)
    await _touch_plan(session, plan, context, now)
    await record(
        session,
        context,
        entity=entity,
        entity_id=current["id"],
        action=AuditAction.UPDATE,
        before={k: current[k] for k in audited},
        after=audited,
        unit_id=plan["issuing_unit_id"],
    )
    return out({**current, **changes})


# --- targets ---------------------------------------------------------------------------------


async def _check_target(
    session: AsyncSession,
    plan: Mapping[Any, Any],
    metric: TargetMetric,
    title: Title | None,
    year: int,
    planned: float,
    threshold: int | None,
    loc: Loc,
) -> Title | None:
    check_year_in_period(plan, year, [*loc, "year"])
    if metric == TargetMetric.SHARE_WITH_TITLE and planned > 100:
        raise invalid(
            [*loc, "planned_value"], "share_over_100", "A share is at most 100 (per cent)."
        )
    if metric in TITLE_METRICS and title is None:
        raise invalid([*loc, "title"], "target_title_required", f"A {metric} target names a title.")
    if metric in BUDGET_METRICS and title is not None:
        raise invalid([*loc, "title"], "target_title_not_applicable", "Budgets name no title.")
    if metric == TargetMetric.DIFFICULT_VILLAGES_NTM and title not in (None, Title.NTM_VILLAGE):
        raise invalid(
            [*loc, "title"],
            "target_title_not_applicable",
            "This target counts NTM villages (ntm_village).",
        )
    title = default_title(metric, title)
    if metric in CRITERIA_METRICS and title is not None and TITLE_LEVEL[title] != "commune":
        raise invalid(
            [*loc, "title"],
            "target_title_not_applicable",
            "Criteria met are counted per commune: name a commune title.",
        )
    if metric == TargetMetric.COMMUNES_BELOW_CRITERIA and threshold is None:
        raise invalid(
            [*loc, "criteria_threshold"],
            "criteria_threshold_required",
            "Say below how many criteria a commune is counted.",
        )
    if title is not None and metric != TargetMetric.DIFFICULT_VILLAGES_NTM:
        await check_title_granted(session, title, year, [*loc, "title"])
    return title


def _reported(body: TargetCreate | TargetPatch) -> list[dict[str, Any]] | None:
    if body.reported is None:
        return None
    return [figure.model_dump(mode="json") for figure in sorted(body.reported, key=lambda f: f.on)]


async def create_target(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    body: TargetCreate,
    principal: Principal | None,
) -> tuple[dict[str, Any], bool]:
    plan = await plan_for_child_write(session, plan_id, principal)
    loc: Loc = ["body"]
    await _check_target(
        session,
        plan,
        body.metric,
        body.title,
        body.year,
        body.planned_value,
        body.criteria_threshold,
        loc,
    )
    scope_day = body.scope_as_of or plan["scope_as_of"]
    scope_unit = body.scope_unit_id or plan["issuing_unit_id"]
    await in_plan_scope(session, plan, scope_unit, scope_day, [*loc, "scope_unit_id"])
    values = {
        "metric": body.metric.value,
        "title": body.title.value if body.title else None,
        "scope_unit_id": scope_unit,
        "scope_as_of": scope_day,
        "year": body.year,
        "planned_value": body.planned_value,
        "criteria_threshold": body.criteria_threshold,
        "source_document": body.source_document,
        "reported": _reported(body),
        "note": body.note,
    }
    return await _create(session, context, "plan_target", plan, body.id, values)


async def update_target(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    target_id: uuid.UUID,
    body: TargetPatch,
    principal: Principal | None,
    if_match: str | None,
) -> dict[str, Any]:
    plan = await plan_for_child_write(session, plan_id, principal)
    current = await child_for_write(session, repo.TARGETS, "plan_target", plan, target_id, if_match)
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("planned_value", "year", "criteria_threshold", "source_document", "note")
        if name in body.model_fields_set
    }
    if "reported" in body.model_fields_set:
        changes["reported"] = _reported(body)
    for required in ("planned_value", "year", "source_document"):
        if required in changes and changes[required] is None:
            raise invalid(["body", required], "value_required", f"{required} cannot be null.")
    merged = {**current, **changes}
    await _check_target(
        session,
        plan,
        TargetMetric(merged["metric"]),
        Title(merged["title"]) if merged["title"] else None,
        merged["year"],
        merged["planned_value"],
        merged["criteria_threshold"],
        ["body"],
    )
    return await _update(session, context, "plan_target", plan, current, changes)


# --- roadmap ---------------------------------------------------------------------------------


async def _check_roadmap(
    session: AsyncSession,
    plan: Mapping[Any, Any],
    unit_id: uuid.UUID,
    title: Title,
    year: int,
    field: str | None,
) -> None:
    check_year_in_period(plan, year, ["body", "target_year"])
    unit = await in_plan_scope(session, plan, unit_id, plan["scope_as_of"], ["body", "unit_id"])
    if unit.level != TITLE_LEVEL[title]:
        raise invalid(
            ["body", "title"],
            "unit_level_mismatch",
            f"{title.value} is granted to a {TITLE_LEVEL[title].value}; the unit is a "
            f"{unit.level}.",
        )
    if field is not None and title != Title.MODEL_NTM_COMMUNE:
        raise invalid(
            ["body", "field"],
            "roadmap_field_not_applicable",
            "Only a model NTM commune names the field it excels in.",
        )
    await check_title_granted(session, title, year, ["body", "title"])


async def create_roadmap_item(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    body: RoadmapCreate,
    principal: Principal | None,
) -> tuple[dict[str, Any], bool]:
    plan = await plan_for_child_write(session, plan_id, principal)
    await _check_roadmap(session, plan, body.unit_id, body.title, body.target_year, body.field)
    values = {
        "unit_id": body.unit_id,
        "title": body.title.value,
        "target_year": body.target_year,
        "field": body.field,
        "owner": body.owner,
        "note": body.note,
    }
    return await _create(session, context, "plan_roadmap_item", plan, body.id, values)


async def update_roadmap_item(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    item_id: uuid.UUID,
    body: RoadmapPatch,
    principal: Principal | None,
    if_match: str | None,
) -> dict[str, Any]:
    plan = await plan_for_child_write(session, plan_id, principal)
    current = await child_for_write(
        session, repo.ROADMAP, "plan_roadmap_item", plan, item_id, if_match
    )
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("target_year", "field", "owner", "note")
        if name in body.model_fields_set
    }
    if "target_year" in changes and changes["target_year"] is None:
        raise invalid(["body", "target_year"], "value_required", "target_year cannot be null.")
    merged = {**current, **changes}
    await _check_roadmap(
        session,
        plan,
        merged["unit_id"],
        Title(merged["title"]),
        merged["target_year"],
        merged["field"],
    )
    return await _update(session, context, "plan_roadmap_item", plan, current, changes)


# --- tasks -----------------------------------------------------------------------------------


def _check_deadline(plan: Mapping[Any, Any], deadline: Any) -> None:
    if deadline is not None and deadline < plan["issue_date"]:
        raise invalid(
            ["body", "deadline"],
            "deadline_before_plan",
            f"The deadline is before the plan's date {plan['issue_date'].isoformat()}.",
        )


async def create_task(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    body: TaskCreate,
    principal: Principal | None,
) -> tuple[dict[str, Any], bool]:
    plan = await plan_for_child_write(session, plan_id, principal)
    _check_deadline(plan, body.deadline)
    values: dict[str, Any] = {
        "description": body.description,
        "agency": body.agency,
        "deadline": body.deadline,
        "status": body.status.value,
        "notes": [],
    }
    return await _create(session, context, "plan_task", plan, body.id, values)


async def update_task(
    session: AsyncSession,
    context: AuditContext,
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    body: TaskPatch,
    principal: Principal | None,
    if_match: str | None,
) -> dict[str, Any]:
    plan = await plan_for_child_write(session, plan_id, principal)
    current = await child_for_write(session, repo.TASKS, "plan_task", plan, task_id, if_match)
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("description", "agency", "deadline")
        if name in body.model_fields_set
    }
    for required in ("description", "agency"):
        if required in changes and changes[required] is None:
            raise invalid(["body", required], "value_required", f"{required} cannot be null.")
    if "deadline" in changes:
        _check_deadline(plan, changes["deadline"])
    if body.status is not None:
        changes["status"] = TaskStatus(body.status).value
    if body.add_note is not None:
        note = {
            "on": body.add_note.on.isoformat(),
            "text": body.add_note.text,
            "by": context.actor_name,
            "at": timestamp(utcnow()),
        }
        changes["notes"] = [*(current["notes"] or []), note]
    return await _update(session, context, "plan_task", plan, current, changes)
