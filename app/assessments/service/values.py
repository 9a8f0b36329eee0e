"""Writes of what an assessment holds: indicator values (with their history), reviewers'
criterion judgements and condition values. Each write bumps the assessment's revision and appends
one audit record with counts, whatever the number of values."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.coerce import Rules, ValueProblem, coerce
from app.assessments.engine import SetSpec
from app.assessments.repository import assessments as repo
from app.assessments.repository import values as values_repo
from app.assessments.schemas import ConditionsPut, EvidenceRef, JudgementsPut, ValuesPut
from app.assessments.service import criteria as criteria_port
from app.assessments.service.common import load_for_write, load_or_404
from app.audit.service import AuditContext, record
from app.core.errors import Unprocessable, field_error
from app.core.http import require_match, revision_etag, timestamp
from app.core.permissions import Action
from app.core.security import Principal
from app.db.types import utcnow
from app.models.assessments import Judgement, ValueChange
from app.models.enums import AuditAction

VALUE_KEYS = ("value_number", "value_bool", "judgement", "judgement_reason", "note", "evidence")


async def _load_for_write(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
    action: Action = Action.ASSESSMENTS_WRITE,
) -> RowMapping:
    """Locked ``FOR UPDATE`` and authorised, then ``If-Match`` against the locked revision: of
    two writers sending the same ETag, the second reads the first one's revision and gets 412."""
    current = await load_for_write(session, assessment_id, principal, action)
    require_match(
        if_match,
        revision_etag(assessment_id, current["revision"]),
        what=f"Assessment {assessment_id}",
    )
    return current


def _fail(errors: list[dict[str, Any]]) -> Unprocessable:
    codes = {error["type"] for error in errors}
    code = errors[0]["type"] if len(codes) == 1 else "invalid_values"
    listed = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors[:5])
    return Unprocessable(f"Some values were refused: {listed}.", code=code, errors=errors)


def _differs(old: Mapping[Any, Any], new: Mapping[str, Any]) -> bool:
    return any(old[key] != new[key] for key in VALUE_KEYS)


def _evidence(evidence: Sequence[EvidenceRef] | None) -> list[dict[str, Any]] | None:
    if evidence is None:
        return None
    return [e.model_dump(mode="json", exclude_none=True) for e in evidence]


def _history_row(
    old: Mapping[Any, Any], change: ValueChange, context: AuditContext, now: Any
) -> dict[str, Any]:
    return {
        "assessment_id": old["assessment_id"],
        "indicator_id": old["indicator_id"],
        "change": change.value,
        "superseded_at": now,
        "superseded_by": context.actor_id,
        "superseded_by_name": context.actor_name,
        "superseded_source": "api",
        **{key: old[key] for key in (*VALUE_KEYS, "entered_by", "entered_by_name")},
        "entered_at": old["entered_at"],
        "source": old["source"],
    }


def _parse_values(
    spec: SetSpec, body: ValuesPut
) -> tuple[dict[uuid.UUID, dict[str, Any] | None], list[dict[str, Any]]]:
    by_id = {indicator.id: indicator for indicator in spec.indicators}
    by_code = spec.indicator_by_code()
    wanted: dict[uuid.UUID, dict[str, Any] | None] = {}
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(body.values):
        loc: list[str | int] = ["body", "values", i]
        indicator = (
            by_id.get(item.indicator_id)
            if item.indicator_id is not None
            else by_code.get(item.indicator_code or "")
        )
        if indicator is None:
            field = "indicator_id" if item.indicator_id is not None else "indicator_code"
            errors.append(
                field_error([*loc, field], "not an indicator of the set", "indicator_not_in_set")
            )
            continue
        if indicator.id in wanted:
            errors.append(
                field_error([*loc, "indicator_id"], "given twice in one request", "duplicate_value")
            )
            continue
        if item.value is None:
            wanted[indicator.id] = None
            continue
        rules = Rules(indicator.kind, indicator.unit, indicator.value_min, indicator.value_max)
        try:
            typed = coerce(item.value, rules)
        except ValueProblem as problem:
            errors.append(field_error([*loc, "value"], problem.message, problem.code))
            continue
        reason = item.judgement_reason
        if typed.judgement == Judgement.BASICALLY_MET and not (reason and reason.strip()):
            # Cơ bản đạt is only ever a recorded judgement with its reasons.
            errors.append(
                field_error(
                    [*loc, "judgement_reason"],
                    "a judgement of basically_met needs its reasons",
                    "judgement_reason_required",
                )
            )
            continue
        wanted[indicator.id] = {
            "value_number": typed.number,
            "value_bool": typed.boolean,
            "judgement": typed.judgement,
            "judgement_reason": reason if indicator.kind == "judgement" else None,
            "note": item.note,
            "evidence": _evidence(item.evidence),
        }
    return wanted, errors


async def put_values(
    session: AsyncSession,
    context: AuditContext,
    assessment_id: uuid.UUID,
    body: ValuesPut,
    principal: Principal | None = None,
    if_match: str | None = None,
) -> dict[str, Any]:
    """Upsert many values at once; ``value: null`` removes one. Locked → 409."""
    current = await _load_for_write(session, assessment_id, principal, if_match)
    spec = await criteria_port.load_set(session, current["criteria_set_id"])
    wanted, errors = _parse_values(spec, body)
    if errors:
        raise _fail(errors)
    existing = {
        row["indicator_id"]: row for row in await values_repo.values_of(session, [assessment_id])
    }
    now = utcnow()
    stamp = {
        "entered_by": context.actor_id,
        "entered_by_name": context.actor_name,
        "entered_at": now,
        "source": "api",
    }
    inserts, updates, history, deletes = [], [], [], []
    unchanged = 0
    for indicator_id, new in wanted.items():
        old = existing.get(indicator_id)
        if new is None:
            if old is not None:
                history.append(_history_row(old, ValueChange.DELETE, context, now))
                deletes.append((assessment_id, indicator_id))
            continue
        row = {"assessment_id": assessment_id, "indicator_id": indicator_id, **new, **stamp}
        if old is None:
            inserts.append(row)
        elif _differs(old, row):
            history.append(_history_row(old, ValueChange.UPDATE, context, now))
            updates.append(row)
        else:
            unchanged += 1
    if history:
        await values_repo.insert_history(session, history)
    await values_repo.delete_values(session, deletes)
    await values_repo.update_values(session, updates)
    await values_repo.insert_values(session, inserts)
    revision = current["revision"]
    counts = {
        "created": len(inserts),
        "updated": len(updates),
        "unchanged": unchanged,
        "deleted": len(deletes),
    }
    if inserts or updates or deletes:
        await repo.touch(session, [assessment_id], now, context.actor_id, context.actor_name)
        revision += 1
        await record(
            session,
            context,
            entity="assessment_values",
            entity_id=assessment_id,
            action=AuditAction.UPDATE,
            after={**counts, "revision": revision, "indicators": sorted(str(i) for i in wanted)},
            unit_id=current["unit_id"],
        )
    return {**counts, "revision": revision}


async def put_judgements(
    session: AsyncSession,
    context: AuditContext,
    assessment_id: uuid.UUID,
    body: JudgementsPut,
    principal: Principal | None = None,
    if_match: str | None = None,
) -> dict[str, Any]:
    """Reviewers' judgements of whole criteria, each with its reasons; ``status: null``
    withdraws one. Needs ``assessments:review`` (district, appraisal council)."""
    current = await _load_for_write(
        session, assessment_id, principal, if_match, Action.ASSESSMENTS_REVIEW
    )
    spec = await criteria_port.load_set(session, current["criteria_set_id"])
    by_id = {c.id: c for c in spec.criteria}
    by_number = {c.number: c for c in spec.criteria}
    errors: list[dict[str, Any]] = []
    wanted: dict[uuid.UUID, dict[str, Any] | None] = {}
    for i, item in enumerate(body.judgements):
        loc: list[str | int] = ["body", "judgements", i]
        criterion = (
            by_id.get(item.criterion_id)
            if item.criterion_id is not None
            else by_number.get(item.criterion_number or -1)
        )
        if criterion is None:
            field = "criterion_id" if item.criterion_id is not None else "criterion_number"
            errors.append(
                field_error([*loc, field], "not a criterion of the set", "criterion_not_in_set")
            )
            continue
        if item.status is None:
            wanted[criterion.id] = None
            continue
        if not (item.reason and item.reason.strip()):
            errors.append(
                field_error([*loc, "reason"], "a judgement needs its reasons", "reason_required")
            )
            continue
        wanted[criterion.id] = {"status": item.status.value, "reason": item.reason.strip()}
    if errors:
        raise _fail(errors)
    existing = {
        row["criterion_id"]: row
        for row in await values_repo.judgements_of(session, [assessment_id])
    }
    now = utcnow()
    inserts, updates, deletes = [], [], []
    for criterion_id, new in wanted.items():
        old = existing.get(criterion_id)
        if new is None:
            if old is not None:
                deletes.append(criterion_id)
            continue
        row = {
            "assessment_id": assessment_id,
            "criterion_id": criterion_id,
            **new,
            "judged_by": context.actor_id,
            "judged_by_name": context.actor_name,
            "judged_at": now,
        }
        if old is None:
            inserts.append(row)
        elif (old["status"], old["reason"]) != (new["status"], new["reason"]):
            updates.append(row)
    counts = {"created": len(inserts), "updated": len(updates), "deleted": len(deletes)}
    if not (inserts or updates or deletes):
        return {**counts, "revision": current["revision"]}
    await values_repo.upsert_judgements(session, assessment_id, inserts, updates, deletes)
    await repo.touch(session, [assessment_id], now, context.actor_id, context.actor_name)
    await record(
        session,
        context,
        entity="assessment_judgements",
        entity_id=assessment_id,
        action=AuditAction.UPDATE,
        before={
            str(k): {"status": v["status"], "reason": v["reason"]}
            for k, v in existing.items()
            if k in wanted
        },
        after={str(k): v for k, v in wanted.items()},
        unit_id=current["unit_id"],
    )
    return {**counts, "revision": current["revision"] + 1}


async def put_conditions(
    session: AsyncSession,
    context: AuditContext,
    assessment_id: uuid.UUID,
    body: ConditionsPut,
    principal: Principal | None = None,
    if_match: str | None = None,
) -> dict[str, Any]:
    """Values of the set's recognition conditions (18/2022/QĐ-TTg art. 4), by code."""
    current = await _load_for_write(session, assessment_id, principal, if_match)
    spec = await criteria_port.load_set(session, current["criteria_set_id"])
    known = {c.code: c for c in spec.conditions}
    errors: list[dict[str, Any]] = []
    wanted: dict[str, dict[str, Any] | None] = {}
    for i, item in enumerate(body.conditions):
        loc: list[str | int] = ["body", "conditions", i]
        condition = known.get(item.code)
        if condition is None:
            errors.append(
                field_error([*loc, "code"], "not a condition of the set", "condition_not_in_set")
            )
            continue
        if item.value is None:
            wanted[item.code] = None
            continue
        kind = "boolean" if condition.kind == "boolean" else "number"
        try:
            typed = coerce(item.value, Rules(kind, condition.unit))
        except ValueProblem as problem:
            errors.append(field_error([*loc, "value"], problem.message, problem.code))
            continue
        wanted[item.code] = {
            "value_number": typed.number,
            "value_bool": typed.boolean,
            "note": item.note,
            "evidence": _evidence(item.evidence),
        }
    if errors:
        raise _fail(errors)
    existing = {
        row["code"]: row for row in await values_repo.conditions_of(session, [assessment_id])
    }
    now = utcnow()
    inserts, updates, deletes = [], [], []
    for code, new in wanted.items():
        old = existing.get(code)
        if new is None:
            if old is not None:
                deletes.append(code)
            continue
        row = {
            "assessment_id": assessment_id,
            "code": code,
            **new,
            "entered_by": context.actor_id,
            "entered_by_name": context.actor_name,
            "entered_at": now,
        }
        if old is None:
            inserts.append(row)
        elif any(old[k] != new[k] for k in new):
            updates.append(row)
    counts = {"created": len(inserts), "updated": len(updates), "deleted": len(deletes)}
    if not (inserts or updates or deletes):
        return {**counts, "revision": current["revision"]}
    await values_repo.upsert_conditions(session, assessment_id, inserts, updates, deletes)
    await repo.touch(session, [assessment_id], now, context.actor_id, context.actor_name)
    await record(
        session,
        context,
        entity="assessment_conditions",
        entity_id=assessment_id,
        action=AuditAction.UPDATE,
        before={
            k: {"value_number": v["value_number"], "value_bool": v["value_bool"]}
            for k, v in existing.items()
            if k in wanted
        },
        after=wanted,
        unit_id=current["unit_id"],
    )
    return {**counts, "revision": current["revision"] + 1}


def _version(
    row: Mapping[Any, Any], codes: Mapping[uuid.UUID, str], current: bool
) -> dict[str, Any]:
    value: Any = row["value_number"]
    if value is None:
        value = row["value_bool"] if row["value_bool"] is not None else row["judgement"]
    return {
        "indicator_id": row["indicator_id"],
        "indicator_code": codes.get(row["indicator_id"]),
        "value": value,
        "note": row["note"],
        "judgement_reason": row["judgement_reason"],
        "entered_by_name": row["entered_by_name"],
        "entered_at": timestamp(row["entered_at"]),
        "source": row["source"],
        "superseded_at": None if current else timestamp(row["superseded_at"]),
        "superseded_by_name": None if current else row["superseded_by_name"],
        "change": None if current else row["change"],
    }


async def history(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    indicator_id: uuid.UUID | None,
    indicator_code: str | None,
    principal: Principal | None = None,
) -> dict[str, Any]:
    """Every version of every value, oldest first per indicator; the current one last."""
    current = await load_or_404(session, assessment_id, principal)
    spec = await criteria_port.load_set(session, current["criteria_set_id"])
    codes = {indicator.id: indicator.code for indicator in spec.indicators}
    if indicator_code is not None:
        found = spec.indicator_by_code().get(indicator_code)
        if found is None:
            raise Unprocessable(
                f"{indicator_code} is not an indicator of the set.",
                code="indicator_not_in_set",
                errors=[
                    field_error(["query", "indicator_code"], "unknown", "indicator_not_in_set")
                ],
            )
        indicator_id = found.id
    old: Sequence[Mapping[Any, Any]] = await values_repo.history_of(
        session, assessment_id, indicator_id
    )
    now_rows = [
        row
        for row in await values_repo.values_of(session, [assessment_id])
        if indicator_id is None or row["indicator_id"] == indicator_id
    ]
    order = {indicator.id: i for i, indicator in enumerate(spec.indicators)}
    items = [_version(row, codes, False) for row in old]
    items += [_version(row, codes, True) for row in now_rows]
    items.sort(
        key=lambda item: (
            order.get(item["indicator_id"], 1 << 30),
            item["entered_at"] or "",
            item["superseded_at"] is None,
        )
    )
    return {"assessment_id": assessment_id, "items": items}
