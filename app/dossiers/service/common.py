"""Shared pieces of the dossiers service: errors, the procedures in use, who may act at a step,
the representation of a dossier."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.core import authz
from app.core.clock import VIETNAM, today
from app.core.errors import NotFound, ProblemError, Unprocessable, field_error
from app.core.http import revision_etag
from app.core.permissions import Action, Role
from app.core.security import Principal
from app.db.intervals import ONE_DAY
from app.dossiers import procedures
from app.dossiers.procedures import NATIONAL, Procedure, Step
from app.models.enums import DossierAction, DossierStatus
from app.units import query as units

ENTITY = "dossier"


def dossier_not_found(dossier_id: uuid.UUID | str) -> NotFound:
    return NotFound(
        f"There is no dossier {dossier_id}.", code="dossier_not_found", params={"id": dossier_id}
    )


def invalid(loc: list[str | int], code: str, message: str) -> Unprocessable:
    return Unprocessable(message, code=code, errors=[field_error(loc, message, code)])


def precondition_required(what: str) -> ProblemError:
    return ProblemError(
        f"{what} changes only with If-Match: send the ETag you read.",
        code="precondition_required",
        status=428,
    )


def catalogue() -> procedures.Catalogue:
    path = get_settings().dossier_procedures_file
    return procedures.load(path) if path is not None else procedures.load()


def procedure_of(row: Mapping[Any, Any]) -> Procedure:
    found = procedures.by_code(catalogue().procedures, row["procedure"])
    if found is None:
        # A dossier names a procedure that the configured file no longer holds: a configuration
        # error, not the caller's.
        raise RuntimeError(f"dossier {row['id']}: procedure {row['procedure']} is not configured")
    return found


def etag_of(row: Mapping[Any, Any]) -> str:
    return revision_etag(row["id"], row["revision"])


async def authorize(
    session: AsyncSession, principal: Principal, action: Action, row: Mapping[Any, Any]
) -> None:
    await authz.require(
        session,
        principal,
        action,
        unit_id=row["unit_id"],
        missing=dossier_not_found(row["id"]),
    )


async def unit_chain(session: AsyncSession, unit_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The unit and its ancestors by level, as the map stands today or, for a unit that has
    ended, as it last stood (a commune dissolved on 01/07/2025 keeps its district)."""
    day = today()
    last = (await units.last_versions(session, [unit_id], day)).get(unit_id)
    if last is None:
        return {}
    on = min(day, last.valid_to - ONE_DAY)
    return {unit.level: unit.unit_id for unit in await units.chain_on(session, unit_id, on)}


def acts_at(
    principal: Principal,
    procedure: Procedure,
    step: Step,
    chain: Mapping[str, uuid.UUID],
) -> bool:
    """Whether one of the principal's role assignments names an actor of the step: the role, held
    over the dossier's unit at the step's level (``national``: a national assignment), and for an
    appraiser the step itself (``<procedure>/<step>``). A system administrator whose scope covers
    the unit may act at every step."""
    if principal.read_only:
        return False
    covering = set(chain.values())
    for grant in principal.grants:
        if grant.role is Role.SYSTEM_ADMIN and (grant.unit_id is None or grant.unit_id in covering):
            return True
        for actor in step.actors:
            if grant.role is not actor.role:
                continue
            if actor.level == NATIONAL:
                placed = grant.unit_id is None
            else:
                placed = grant.unit_id is not None and grant.unit_id == chain.get(actor.level)
            if not placed:
                continue
            if actor.role is Role.APPRAISER and grant.step != procedure.step_ref(step):
                continue
            return True
    return False


def acting_step(procedure: Procedure, status: DossierStatus, action: DossierAction) -> Step:
    """The step whose actors take ``action`` from ``status``: withdrawing belongs to the applying
    unit (the first step's actors); everything else to the current step's."""
    if action == DossierAction.WITHDRAW:
        return procedure.first
    step = procedure.step(status)
    if step is None:
        raise RuntimeError(f"{procedure.code}: no step {status}")
    return step


async def allowed_actions(
    session: AsyncSession,
    principal: Principal,
    row: Mapping[Any, Any],
    chain: Mapping[str, uuid.UUID] | None = None,
) -> list[DossierAction]:
    procedure = procedure_of(row)
    status = DossierStatus(row["status"])
    if status.is_final:
        return []
    if chain is None:
        chain = await unit_chain(session, row["unit_id"])
    out = []
    for name in procedure.table.actions_from(status):
        action = DossierAction(name)
        if acts_at(principal, procedure, acting_step(procedure, status, action), chain):
            out.append(action)
    return out


def local_date(moment: Any) -> date | None:
    """The date in Viet Nam of an instant (decisions are dated locally)."""
    if moment is None:
        return None
    return moment.astimezone(VIETNAM).date()  # type: ignore[no-any-return]
