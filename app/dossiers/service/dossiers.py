"""Dossiers: creation, reads, lists, history, and the procedures they follow."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service.common import load_or_404 as load_assessment
from app.assessments.service.common import unit_in_year
from app.assessments.service.evaluation import AssessmentEvaluation, evaluate_many
from app.audit.service import AuditContext, record
from app.core import authz
from app.core.clock import today
from app.core.errors import Conflict
from app.core.pagination import decode_updated_cursor, page_from_rows
from app.core.permissions import Action
from app.core.security import Principal
from app.db.types import utcnow
from app.dossiers import procedures, repository
from app.dossiers.procedures import Procedure, Step
from app.dossiers.schemas import DossierCreate
from app.dossiers.service.common import (
    ENTITY,
    allowed_actions,
    authorize,
    catalogue,
    dossier_not_found,
    invalid,
    procedure_of,
    unit_chain,
)
from app.models.enums import AuditAction, DossierStatus
from app.units import query as units


def step_out(procedure: Procedure, step: Step) -> dict[str, Any]:
    return {
        "code": step.code,
        "name": dict(step.name),
        "action": step.action,
        "actors": [a.as_dict() for a in step.actors],
        "documents": list(step.documents),
        "checks": list(step.checks),
        "votes": step.votes,
        "override": step.override,
        "reject": step.reject,
        "duration_days": step.duration_days,
        "step_ref": procedure.step_ref(step),
    }


def procedure_out(procedure: Procedure) -> dict[str, Any]:
    return {
        "code": procedure.code,
        "name": dict(procedure.name),
        "level": str(procedure.level),
        "titles": list(procedure.titles),
        "valid_from": procedure.valid_from,
        "valid_to": procedure.valid_to,
        "legal_basis": list(procedure.legal_basis),
        "steps": [step_out(procedure, s) for s in procedure.steps],
    }


def list_procedures() -> list[dict[str, Any]]:
    return [procedure_out(p) for p in catalogue().procedures]


def _decision(row: Mapping[Any, Any]) -> dict[str, Any] | None:
    if row["decision_number"] is None:
        return None
    return {
        "number": row["decision_number"],
        "date": row["decision_date"],
        "signer": row["decision_signer"],
    }


def summary(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "unit_id": row["unit_id"],
        "title": row["title"],
        "year": row["year"],
        "criteria_set_id": row["criteria_set_id"],
        "procedure": row["procedure"],
        "status": row["status"],
        "revision": row["revision"],
        "submitted_at": row["submitted_at"],
        "decision": _decision(row),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def snapshot_of(evaluations: Sequence[AssessmentEvaluation]) -> dict[str, Any]:
    """The assessment values as submitted (values locked from then on while under review)."""
    return {
        "taken_at": utcnow().isoformat(),
        "assessments": {
            str(item.assessment_id): {
                "revision": item.revision,
                "indicators": {i.code: i.value for c in item.result.criteria for i in c.indicators},
                "conditions": {c.code: c.value for c in item.result.conditions},
                "criteria": {str(c.number): str(c.status) for c in item.result.criteria},
            }
            for item in evaluations
        },
    }


def differences(
    snapshot: Mapping[Any, Any] | None, evaluations: Sequence[AssessmentEvaluation]
) -> list[dict[str, Any]]:
    """Values that differ from the snapshot (changed after a return, or after the dossier ended)."""
    if not snapshot:
        return []
    out = []
    current = snapshot_of(evaluations)["assessments"]
    for assessment_id, then in snapshot.get("assessments", {}).items():
        now = current.get(assessment_id, {})
        for kind, key in (("indicator", "indicators"), ("condition", "conditions")):
            old, new = then.get(key, {}), now.get(key, {})
            for code in sorted(set(old) | set(new)):
                if old.get(code) != new.get(code):
                    out.append(
                        {
                            "assessment_id": assessment_id,
                            "kind": kind,
                            "code": code,
                            "snapshot": old.get(code),
                            "current": new.get(code),
                        }
                    )
    return out


async def representation(
    session: AsyncSession,
    principal: Principal,
    row: Mapping[Any, Any],
    *,
    evaluations: Sequence[AssessmentEvaluation] | None = None,
) -> dict[str, Any]:
    procedure = procedure_of(row)
    status = DossierStatus(row["status"])
    step = procedure.step(status)
    assessment_ids = await repository.assessment_ids(session, row["id"])
    chain = await unit_chain(session, row["unit_id"])
    unit = (await units.last_versions(session, [row["unit_id"]], today())).get(row["unit_id"])
    snapshot = row["snapshot"]
    if snapshot and evaluations is None:
        evaluations = list((await evaluate_many(session, assessment_ids)).values())
    override = row["override"]
    return {
        **summary(row),
        "unit": {
            "id": row["unit_id"],
            "code": unit.code if unit else None,
            "name": unit.name if unit else None,
            "level": unit.level if unit else None,
        },
        "assessment_ids": assessment_ids,
        "step": step_out(procedure, step) if step is not None else None,
        "allowed_actions": await allowed_actions(session, principal, row, chain),
        "note": row["note"],
        "snapshot_taken_at": (snapshot or {}).get("taken_at"),
        "snapshot_differences": differences(snapshot, evaluations or []),
        "override": override,
        "recognition_id": row["recognition_id"],
        "created_by_name": row["created_by_name"],
        "updated_by_name": row["updated_by_name"],
    }


async def load_or_404(
    session: AsyncSession,
    dossier_id: uuid.UUID,
    principal: Principal,
    action: Action = Action.DOSSIERS_READ,
) -> Mapping[Any, Any]:
    row = await repository.get(session, dossier_id)
    if row is None:
        raise dossier_not_found(dossier_id)
    await authorize(session, principal, action, row)
    return row


def _same(body: DossierCreate, row: Mapping[Any, Any], assessments: Sequence[uuid.UUID]) -> bool:
    return bool(
        row["unit_id"] == body.unit_id
        and row["title"] == body.title
        and row["year"] == body.year
        and row["criteria_set_id"] == body.criteria_set_id
        and sorted(assessments, key=str) == sorted(set(body.assessment_ids), key=str)
        and (body.procedure is None or row["procedure"] == body.procedure)
        and row["note"] == body.note
    )


def _choose_procedure(body: DossierCreate, level: str) -> Procedure:
    known = catalogue().procedures
    if body.procedure is not None:
        chosen = procedures.by_code(known, body.procedure)
        if chosen is None:
            raise invalid(
                ["body", "procedure"],
                "dossier_procedure_unknown",
                f"There is no procedure {body.procedure}; known: "
                f"{', '.join(p.code for p in known)}.",
            )
        if chosen.level != level or body.title not in chosen.titles:
            raise invalid(
                ["body", "procedure"],
                "dossier_procedure_not_applicable",
                f"The procedure {chosen.code} is for {', '.join(chosen.titles)} of a "
                f"{chosen.level}, not {body.title} of a {level}.",
            )
        return chosen
    found = procedures.applicable(known, level, body.title, today())
    if found is None:
        raise invalid(
            ["body", "procedure"],
            "dossier_procedure_not_applicable",
            f"No procedure is in force today for {body.title} of a {level}; name one.",
        )
    return found


async def create(
    session: AsyncSession, context: AuditContext, body: DossierCreate, principal: Principal
) -> tuple[dict[str, Any], bool]:
    """(representation, created). The same id and body again returns the existing one."""
    unit = await unit_in_year(session, body.unit_id, body.year)
    if unit is None:
        raise invalid(
            ["body", "unit_id"],
            "dossier_unit_not_in_year",
            f"The unit {body.unit_id} did not exist in {body.year}.",
        )
    await authz.require(
        session,
        principal,
        Action.DOSSIERS_WRITE,
        unit_id=body.unit_id,
        entity="unit",
        entity_id=body.unit_id,
    )
    if body.id is not None:
        existing = await repository.get(session, body.id)
        if existing is not None:
            await authorize(session, principal, Action.DOSSIERS_WRITE, existing)
            linked = await repository.assessment_ids(session, body.id)
            if _same(body, existing, linked):
                return await representation(session, principal, existing), False
            raise Conflict(
                f"Dossier {body.id} exists with other values.", code="dossier_id_conflict"
            )
    procedure = _choose_procedure(body, unit.level)
    wanted = sorted(set(body.assessment_ids), key=str)
    for index, assessment_id in enumerate(wanted):
        row = await load_assessment(session, assessment_id, principal)
        if (row["unit_id"], row["criteria_set_id"], row["year"]) != (
            body.unit_id,
            body.criteria_set_id,
            body.year,
        ):
            raise invalid(
                ["body", "assessment_ids", index],
                "dossier_assessment_mismatch",
                f"Assessment {assessment_id} is not of this unit, criteria set and year.",
            )
    evaluations = await evaluate_many(session, wanted)
    set_title = next(iter(evaluations.values())).result.criteria_set.title
    if set_title is not None and set_title != body.title:
        raise invalid(
            ["body", "title"],
            "dossier_title_mismatch",
            f"The criteria set is for {set_title}, not {body.title}.",
        )
    now = utcnow()
    new_id = body.id or uuid.uuid4()
    row_out: dict[str, Any] = {
        "id": new_id,
        "unit_id": body.unit_id,
        "title": str(body.title),
        "year": body.year,
        "criteria_set_id": body.criteria_set_id,
        "procedure": procedure.code,
        "status": DossierStatus.DRAFT.value,
        "note": body.note,
        "revision": 1,
        "submitted_at": None,
        "snapshot": None,
        "override": None,
        "decision_number": None,
        "decision_date": None,
        "decision_signer": None,
        "recognition_id": None,
        "created_at": now,
        "updated_at": now,
        "created_by": context.actor_id,
        "created_by_name": context.actor_name,
        "updated_by_name": context.actor_name,
    }
    await repository.insert_dossier(session, row_out, wanted)
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=new_id,
        action=AuditAction.CREATE,
        after={**row_out, "assessment_ids": wanted},
        unit_id=body.unit_id,
    )
    return await representation(session, principal, row_out), True


async def detail(
    session: AsyncSession, dossier_id: uuid.UUID, principal: Principal
) -> dict[str, Any]:
    row = await load_or_404(session, dossier_id, principal)
    return await representation(session, principal, row)


async def list_dossiers(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    title: str | None,
    year: int | None,
    unit_id: uuid.UUID | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    units_select = None
    if unit_id is not None:
        await authz.require(
            session,
            principal,
            Action.DOSSIERS_READ,
            unit_id=unit_id,
            entity="unit",
            entity_id=unit_id,
        )
        units_select = authz.subtree_select([unit_id])
    filters = repository.ListFilters(
        visible=authz.scope(principal, Action.DOSSIERS_READ).clause(repository.DOSSIERS.c.unit_id),
        status=status,
        title=title,
        year=year,
        units=units_select,
        updated_since=updated_since,
    )
    rows = await repository.list_page(
        session, filters, limit=limit, after=decode_updated_cursor(cursor)
    )
    kept, next_cursor = page_from_rows(rows, limit, lambda r: (r["updated_at"], r["id"]))
    return [summary(r) for r in kept], next_cursor


async def history(
    session: AsyncSession, dossier_id: uuid.UUID, principal: Principal
) -> list[dict[str, Any]]:
    await load_or_404(session, dossier_id, principal)
    return [
        {
            "seq": r["seq"],
            "action": r["action"],
            "from_status": r["from_status"],
            "to_status": r["to_status"],
            "actor_id": r["actor_id"],
            "actor_name": r["actor_name"],
            "at": r["at"],
            "reasons": r["reasons"],
            "votes": r["votes"],
            "details": r["details"],
        }
        for r in await repository.history(session, dossier_id)
    ]
