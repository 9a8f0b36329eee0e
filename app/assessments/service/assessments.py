"""Assessments: creation (idempotent with a client id), reads, lists and status transitions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import present
from app.assessments.repository import assessments as repo
from app.assessments.repository import values as values_repo
from app.assessments.schemas import AssessmentCreate, AssessmentPatch
from app.assessments.service import criteria as criteria_port
from app.assessments.service.common import (
    assessment_not_found,
    authorize,
    invalid,
    representation,
    unit_in_year,
    units_in_years,
)
from app.assessments.service.evaluation import evaluate, load, load_many
from app.audit.service import AuditContext, record
from app.core import authz
from app.core.errors import Conflict
from app.core.http import Language, require_match, revision_etag, timestamp
from app.core.lifecycle import Transition, TransitionTable
from app.core.pagination import decode_updated_cursor, page_from_rows
from app.core.permissions import Action
from app.core.security import Principal
from app.db.types import utcnow
from app.models.assessments import AssessmentStatus
from app.models.enums import AuditAction, CriteriaSetStatus
from app.units import query as units

ENTITY = "assessment"


def _refuse(
    state: AssessmentStatus, target: str, allowed: list[str], _label: str | None
) -> Conflict:
    return Conflict(
        f"An assessment cannot go from {state} to {target}.",
        code="assessment_locked"
        if state == AssessmentStatus.LOCKED
        else "assessment_transition_not_allowed",
        extra={"allowed": sorted(allowed)},
    )


# draft → submitted → locked; a submitted assessment may be returned for completion
# (18/2022/QĐ-TTg: any step can return the dossier with reasons). Locking closes the figures to
# changes: a reviewer's act after checking them, not data entry (the commune submits; the
# district or province reviews and locks).
LIFECYCLE: TransitionTable[AssessmentStatus] = TransitionTable(
    ENTITY,
    [
        Transition(
            AssessmentStatus.DRAFT,
            "submit",
            AssessmentStatus.SUBMITTED,
            Action.ASSESSMENTS_WRITE,
            AuditAction.UPDATE,
        ),
        Transition(
            AssessmentStatus.SUBMITTED,
            "return",
            AssessmentStatus.DRAFT,
            Action.ASSESSMENTS_WRITE,
            AuditAction.UPDATE,
        ),
        Transition(
            AssessmentStatus.SUBMITTED,
            "lock",
            AssessmentStatus.LOCKED,
            Action.ASSESSMENTS_REVIEW,
            AuditAction.UPDATE,
        ),
    ],
    refuse=_refuse,
)


def etag_of(row: Mapping[Any, Any]) -> str:
    """Every write of an assessment or its values bumps ``revision``."""
    return revision_etag(row["id"], row["revision"])


def _same(body: AssessmentCreate, row: Mapping[Any, Any]) -> bool:
    return bool(
        row["unit_id"] == body.unit_id
        and row["criteria_set_id"] == body.criteria_set_id
        and row["year"] == body.year
        and row["kind"] == body.kind
        and row["note"] == body.note
    )


async def _check_subject(session: AsyncSession, body: AssessmentCreate) -> None:
    """The set is published, the year in its period, the unit of its level that year and
    inside its scope (the criteria feature's resolution checks the scope)."""
    try:
        spec = await criteria_port.load_set(session, body.criteria_set_id)
    except Exception as exc:
        if getattr(exc, "code", None) == "criteria_set_not_found":
            raise invalid(
                ["body", "criteria_set_id"],
                "criteria_set_not_found",
                f"No criteria set with id {body.criteria_set_id}.",
            ) from exc
        raise
    if spec.status == CriteriaSetStatus.DRAFT:
        raise invalid(
            ["body", "criteria_set_id"],
            "criteria_set_not_published",
            "Assessments are made against published criteria sets only (a draft may change).",
        )
    if not spec.start_year <= body.year <= spec.end_year:
        raise invalid(
            ["body", "year"],
            "year_outside_period",
            f"Year {body.year} is outside the set's period {spec.start_year}-{spec.end_year}.",
        )
    unit = await unit_in_year(session, body.unit_id, body.year)
    if unit is None:
        raise invalid(
            ["body", "unit_id"],
            "unit_not_found",
            f"No unit {body.unit_id} existed in {body.year}.",
        )
    if unit.level != spec.level:
        raise invalid(
            ["body", "unit_id"],
            "unit_level_mismatch",
            f"The set applies to a {spec.level}; the unit is a {unit.level}.",
        )
    await criteria_port.thresholds_for(
        session, spec, body.unit_id, body.year, unit.as_of, loc=("body",)
    )


async def create(
    session: AsyncSession,
    context: AuditContext,
    body: AssessmentCreate,
    principal: Principal | None = None,
) -> tuple[dict[str, Any], bool]:
    """(representation, created). The same id and body again returns the existing one."""
    if principal is not None:
        await authz.require(
            session,
            principal,
            Action.ASSESSMENTS_WRITE,
            unit_id=body.unit_id,
            entity="unit",
            entity_id=body.unit_id,
        )
    if body.id is not None:
        existing = await repo.get(session, body.id)
        if existing is not None:
            await authorize(session, principal, Action.ASSESSMENTS_WRITE, existing)
            if _same(body, existing):
                return representation(existing), False
            raise Conflict(
                f"Assessment {body.id} exists with other values.",
                code="assessment_id_conflict",
            )
    await _check_subject(session, body)
    existing_id = await repo.find_by_natural_key(
        session, body.unit_id, body.criteria_set_id, body.year, body.kind.value
    )
    if existing_id is not None:
        raise repo.natural_key_taken(existing_id)
    now = utcnow()
    new_id = body.id or uuid.uuid4()
    row: dict[str, Any] = {
        "id": new_id,
        "unit_id": body.unit_id,
        "criteria_set_id": body.criteria_set_id,
        "year": body.year,
        "kind": body.kind.value,
        "status": AssessmentStatus.DRAFT.value,
        "note": body.note,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": context.actor_id,
        "created_by_name": context.actor_name,
        "updated_by": context.actor_id,
        "updated_by_name": context.actor_name,
    }
    await repo.insert_one(session, row)
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=new_id,
        action=AuditAction.CREATE,
        after=row,
        unit_id=body.unit_id,
    )
    return representation({**row, "submitted_at": None, "locked_at": None}), True


def _value_out(row: Mapping[Any, Any], codes: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    value: Any = row["value_number"]
    if value is None:
        value = row["value_bool"] if row["value_bool"] is not None else row["judgement"]
    return {
        "indicator_id": row["indicator_id"],
        "indicator_code": codes.get(row["indicator_id"]),
        "value": value,
        "note": row["note"],
        "judgement_reason": row["judgement_reason"],
        "evidence": row["evidence"],
        "entered_by_name": row["entered_by_name"],
        "entered_at": timestamp(row["entered_at"]),
        "source": row["source"],
    }


async def detail(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    language: Language = "vi",
    principal: Principal | None = None,
) -> tuple[dict[str, Any], str]:
    """The assessment with its values, judgements, condition values and evaluation summary."""
    loaded = await load(session, assessment_id, language, principal)
    codes = {indicator.id: indicator.code for indicator in loaded.spec.indicators}
    numbers = {criterion.id: criterion.number for criterion in loaded.spec.criteria}
    value_rows = await values_repo.values_of(session, [assessment_id])
    judgement_rows = await values_repo.judgements_of(session, [assessment_id])
    condition_rows = await values_repo.conditions_of(session, [assessment_id])
    order = {indicator.id: i for i, indicator in enumerate(loaded.spec.indicators)}
    body = representation(loaded.row)
    body.update(
        unit=loaded.unit.ref(),
        values=[
            _value_out(row, codes)
            for row in sorted(value_rows, key=lambda r: order.get(r["indicator_id"], 1 << 30))
        ],
        judgements=[
            {
                "criterion_id": row["criterion_id"],
                "criterion_number": numbers.get(row["criterion_id"]),
                "status": row["status"],
                "reason": row["reason"],
                "judged_by_name": row["judged_by_name"],
                "judged_at": timestamp(row["judged_at"]),
            }
            for row in sorted(judgement_rows, key=lambda r: numbers.get(r["criterion_id"], 0))
        ],
        conditions=[
            {
                "code": row["code"],
                "value": row["value_bool"]
                if row["value_bool"] is not None
                else row["value_number"],
                "note": row["note"],
                "evidence": row["evidence"],
                "entered_by_name": row["entered_by_name"],
                "entered_at": timestamp(row["entered_at"]),
            }
            for row in sorted(condition_rows, key=lambda r: r["code"])
        ],
        evaluation=present.evaluation_summary(evaluate(loaded), language),
    )
    return body, etag_of(loaded.row)


@dataclass(frozen=True)
class AssessmentList:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None


async def list_assessments(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID | None,
    criteria_set_id: uuid.UUID | None,
    year: int | None,
    kind: str | None,
    status: str | None,
    updated_since: datetime | None,
    cursor: str | None,
    within: uuid.UUID | None = None,
    limit: int,
    with_evaluation: bool,
    language: Language = "vi",
    principal: Principal | None = None,
    include_total: bool = False,
) -> AssessmentList:
    visible = (
        authz.scope(principal, Action.ASSESSMENTS_READ).clause(repo.ASSESSMENTS.c.unit_id)
        if principal is not None
        else None
    )
    filters = repo.ListFilters(
        visible=visible,
        # units under it at any time: an assessment of 2023 under a district that no longer
        # exists is still within its province
        within=(
            repo.ASSESSMENTS.c.unit_id.in_(units.subtree_ids(within, None))
            if within is not None
            else None
        ),
        unit_id=unit_id,
        criteria_set_id=criteria_set_id,
        year=year,
        kind=kind,
        status=status,
        updated_since=updated_since,
    )
    after = decode_updated_cursor(cursor)
    rows = await repo.list_page(session, filters, after=after, limit=limit)
    rows, next_cursor = page_from_rows(rows, limit, lambda r: (r["updated_at"], r["id"]))
    items = [representation(row) for row in rows]
    placed = await units_with_parents(session, [(r["unit_id"], r["year"]) for r in rows])
    for item, row in zip(items, rows, strict=True):
        item["unit"] = placed.get((row["unit_id"], row["year"]))
    if with_evaluation and rows:
        loaded = await load_many(session, rows, language)
        for item, one in zip(items, loaded, strict=True):
            item["evaluation"] = present.evaluation_summary(evaluate(one), language)
    total = await repo.count(session, filters) if include_total else None
    return AssessmentList(items, next_cursor, total)


async def units_with_parents(
    session: AsyncSession, pairs: list[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], dict[str, Any]]:
    """Each (unit, year) as the unit stood in that year, with its parents on the same day
    (nearest first): one read for the units of a page, then one per level of parents and
    distinct day, never one per row."""
    found = await units_in_years(session, pairs)
    chains: dict[tuple[uuid.UUID, int], list[dict[str, Any]]] = {key: [] for key in found}
    # (key, parent id, day) still to place, level by level up the tree
    pending = [(key, unit.parent_id, unit.as_of) for key, unit in found.items()]
    for _ in range(units.MAX_DEPTH):
        pending = [(key, parent, day) for key, parent, day in pending if parent is not None]
        if not pending:
            break
        by_day: dict[date, set[uuid.UUID]] = {}
        for _key, parent, day in pending:
            if parent is not None:
                by_day.setdefault(day, set()).add(parent)
        versions = {
            (unit_id, day): version
            for day, ids in by_day.items()
            for unit_id, version in (await units.versions_on(session, ids, day)).items()
        }
        following = []
        for key, parent, day in pending:
            version = versions.get((parent, day)) if parent is not None else None
            if version is None:
                continue
            chains[key].append(
                {
                    "id": version.unit_id,
                    "code": version.code,
                    "name": version.name,
                    "level": version.level,
                }
            )
            following.append((key, version.parent_id, day))
        pending = following
    return {
        key: {**unit.ref(), "as_of": unit.as_of.isoformat(), "parents": chains[key]}
        for key, unit in found.items()
    }


async def patch(
    session: AsyncSession,
    context: AuditContext,
    assessment_id: uuid.UUID,
    body: AssessmentPatch,
    principal: Principal | None = None,
    if_match: str | None = None,
) -> dict[str, Any]:
    """The write pattern (CONTRIBUTING.md): lock, authorise, If-Match, write, audit."""
    current = await repo.get_for_update(session, assessment_id)
    if current is None:
        raise assessment_not_found(assessment_id)
    await authorize(session, principal, Action.ASSESSMENTS_WRITE, current)
    require_match(if_match, etag_of(current), what=f"Assessment {assessment_id}")
    status = AssessmentStatus(current["status"])
    changes: dict[str, Any] = {}
    if body.status is not None and body.status != status:
        transition = LIFECYCLE.leading_to(status, body.status)
        if transition.permission != Action.ASSESSMENTS_WRITE:
            await authorize(session, principal, transition.permission, current)
        changes["status"] = transition.target.value
    if "note" in body.model_fields_set and body.note != current["note"]:
        if status == AssessmentStatus.LOCKED:
            raise Conflict(f"Assessment {assessment_id} is locked.", code="assessment_locked")
        changes["note"] = body.note
    if not changes:
        return representation(current)
    now = utcnow()
    if changes.get("status") == AssessmentStatus.SUBMITTED:
        changes["submitted_at"] = now
    if changes.get("status") == AssessmentStatus.LOCKED:
        changes["locked_at"] = now
    changes.update(
        revision=current["revision"] + 1,
        updated_at=now,
        updated_by=context.actor_id,
        updated_by_name=context.actor_name,
    )
    await repo.update_one(session, assessment_id, changes)
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=assessment_id,
        action=AuditAction.UPDATE,
        before={k: current[k] for k in ("status", "note", "revision")},
        after={k: changes[k] for k in changes if k in ("status", "note", "revision")},
        unit_id=current["unit_id"],
    )
    return representation({**current, **changes})
