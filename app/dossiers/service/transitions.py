"""The only way a dossier's status changes: ``POST /dossiers/{id}/transitions`` with an action.

The write pattern: lock the dossier, authorise (404 outside the caller's scope), If-Match against
the locked revision (428 without it, 412 when stale), the procedure's transition table (409
``dossier_transition_not_allowed`` listing what the state allows), the caller acts at the step
(403 ``dossier_step_forbidden``), the body the action needs (422), the step's preconditions (422
``dossier_preconditions_failed`` listing each failing one), then write, history, audit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service.evaluation import evaluate_many
from app.audit.service import AuditContext, record
from app.core.errors import Forbidden
from app.core.http import require_match
from app.core.permissions import Action
from app.core.security import Principal
from app.db.types import utcnow
from app.dossiers import repository
from app.dossiers.procedures import NATIONAL, REASONED, Step
from app.dossiers.schemas import TransitionRequest
from app.dossiers.service import preconditions, register
from app.dossiers.service.common import (
    ENTITY,
    acting_step,
    acts_at,
    authorize,
    catalogue,
    dossier_not_found,
    etag_of,
    invalid,
    local_date,
    precondition_required,
    procedure_of,
    unit_chain,
)
from app.dossiers.service.dossiers import representation, snapshot_of
from app.models.enums import DossierAction, DossierStatus, PreconditionKind


def _check_body(
    body: TransitionRequest,
    row: Mapping[Any, Any],
    step_votes: bool,
    step_override: bool,
    forward: bool,
    decision_step: bool,
) -> None:
    action = body.action
    if action in REASONED and body.reasons is None:
        raise invalid(
            ["body", "reasons"],
            "dossier_reasons_required",
            f"To {action} a dossier, give the reasons.",
        )
    if body.votes is not None and not (forward and step_votes):
        raise invalid(
            ["body", "votes"],
            "dossier_votes_not_expected",
            "Votes are recorded only by the action of a step with a council's vote.",
        )
    if forward and step_votes and body.votes is None:
        raise invalid(
            ["body", "votes"],
            "dossier_votes_required",
            "This step records the appraisal council's vote: send votes.",
        )
    if body.override_reasons is not None and not (forward and step_override):
        raise invalid(
            ["body", "override_reasons"],
            "dossier_override_not_allowed",
            "An override is recorded only by the action of an appraisal step.",
        )
    if body.decision is not None and not (forward and decision_step):
        raise invalid(
            ["body", "decision"],
            "dossier_decision_not_expected",
            "A decision is given only to recognise.",
        )
    if forward and decision_step:
        if body.decision is None:
            raise invalid(
                ["body", "decision"],
                "dossier_decision_required",
                "To recognise, give the decision: number, date and signer.",
            )
        submitted = local_date(row["submitted_at"])
        if submitted is not None and body.decision.date < submitted:
            raise invalid(
                ["body", "decision", "date"],
                "dossier_decision_before_submission",
                f"The decision date {body.decision.date} is before the dossier was submitted "
                f"({submitted}).",
            )


def _issuer(step: Step, chain: Mapping[str, uuid.UUID]) -> uuid.UUID | None:
    """The unit whose authority signs the decision: the deciding step's level (the province
    for a commune title); None for a national decision (the Prime Minister)."""
    level = step.actors[0].level
    return None if level == NATIONAL else chain.get(level)


async def transition(
    session: AsyncSession,
    context: AuditContext,
    dossier_id: uuid.UUID,
    body: TransitionRequest,
    principal: Principal,
    if_match: str | None,
) -> dict[str, Any]:
    row = await repository.get_for_update(session, dossier_id)
    if row is None:
        raise dossier_not_found(dossier_id)
    await authorize(session, principal, Action.DOSSIERS_READ, row)
    if if_match is None:
        raise precondition_required(f"Dossier {dossier_id}")
    require_match(if_match, etag_of(row), what=f"Dossier {dossier_id}")
    procedure = procedure_of(row)
    status = DossierStatus(row["status"])
    found = procedure.table.find(status, body.action, label=f"The dossier {dossier_id}")
    step = acting_step(procedure, status, body.action)
    chain = await unit_chain(session, row["unit_id"])
    if not acts_at(principal, procedure, step, chain):
        raise Forbidden(
            f"You do not act at the step {step.code} of {procedure.code}: it takes "
            + ", ".join(f"{a.role} at {a.level}" for a in step.actors)
            + (
                " (appraisers: a role assignment naming the step)"
                if any(a.role == "appraiser" for a in step.actors)
                else ""
            )
            + ".",
            code="forbidden",
            extra={"step": procedure.step_ref(step), "actors": [a.as_dict() for a in step.actors]},
        )
    current = procedure.step(status)
    assert current is not None  # a final state has no transitions: find() refused it
    forward = body.action == current.action
    _check_body(body, row, current.votes, current.override, forward, current.decision)

    now = utcnow()
    override = row["override"]
    if forward and body.override_reasons is not None:
        override = {
            "by": str(principal.id),
            "by_name": principal.name,
            "at": now.isoformat(),
            "step": procedure.step_ref(current),
            "reasons": body.override_reasons,
        }
    assessment_ids = await repository.assessment_ids(session, dossier_id)
    evaluations = list((await evaluate_many(session, assessment_ids)).values())
    if forward:
        failures: list[preconditions.Failure] = []
        checks = current.checks
        if PreconditionKind.DOCUMENTS in checks:
            failures += preconditions.documents(
                current, await repository.documents(session, dossier_id)
            )
        if PreconditionKind.ASSESSMENT_MEETS_SET in checks:
            failures += preconditions.meets_set(evaluations, override)
        if PreconditionKind.CONDITIONS in checks:
            failures += preconditions.conditions(evaluations)
        if PreconditionKind.TITLE_PREREQUISITES in checks:
            failures += await preconditions.title_prerequisites(
                session,
                row["unit_id"],
                row["title"],
                preconditions.check_day(body.decision.date if body.decision else None),
                catalogue().prerequisites,
                evaluations,
            )
        if failures:
            raise preconditions.failed(failures)

    changes: dict[str, Any] = {
        "status": found.target.value,
        "revision": row["revision"] + 1,
        "updated_at": now,
        "updated_by_name": principal.name,
        "override": override,
    }
    if body.action == DossierAction.SUBMIT:
        changes["submitted_at"] = now
        changes["snapshot"] = snapshot_of(evaluations)
    if body.action == DossierAction.RETURN and found.target == DossierStatus.DRAFT:
        # Back with the applying unit: its figures may change again (and an override given on
        # figures that will change no longer holds).
        changes["override"] = None
    details: dict[str, Any] = {}
    if forward and body.decision is not None:
        changes.update(
            decision_number=body.decision.number,
            decision_date=body.decision.date,
            decision_signer=body.decision.signer,
        )
        details["decision"] = body.decision.model_dump(mode="json")
        # The title enters the register of titles, with the decision and the dossier.
        changes["recognition_id"] = await register.record_grant(
            session,
            context,
            dossier_id=dossier_id,
            unit_id=row["unit_id"],
            title=row["title"],
            year_for=row["year"],
            decision_number=body.decision.number,
            decision_date=body.decision.date,
            signer=body.decision.signer,
            field=body.decision.field,
            issuing_unit_id=_issuer(current, chain),
        )
        details["recognition_id"] = str(changes["recognition_id"])
    if forward and body.override_reasons is not None:
        details["override"] = override
    if body.comment:
        details["comment"] = body.comment
    await repository.update_dossier(session, dossier_id, changes)
    await repository.insert_transition(
        session,
        {
            "dossier_id": dossier_id,
            "seq": await repository.next_seq(session, dossier_id),
            "action": body.action.value,
            "from_status": status.value,
            "to_status": found.target.value,
            "actor_id": principal.id,
            "actor_name": principal.name,
            "at": now,
            "reasons": body.reasons,
            "votes": body.votes.model_dump() if body.votes else None,
            "details": details or None,
        },
    )
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=dossier_id,
        action=found.audit_action,
        before={"status": status.value, "revision": row["revision"]},
        after={
            "status": found.target.value,
            "revision": changes["revision"],
            "action": body.action.value,
            "reasons": body.reasons,
            "votes": body.votes.model_dump() if body.votes else None,
            **details,
        },
        unit_id=row["unit_id"],
    )
    updated = await repository.get(session, dossier_id)
    assert updated is not None
    return await representation(session, principal, updated, evaluations=evaluations)
