"""Role assignments of users and clients: validation, granting, revoking, presenting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core.clock import today
from app.core.errors import Conflict, Unprocessable, field_error
from app.core.http import etag_for
from app.core.permissions import CLIENT_RESOURCES, CLIENT_ROLES, USER_ROLES, Role
from app.core.security import Principal
from app.db.intervals import BEGINNING_OF_TIME, END_OF_TIME, holds_on, overlaps
from app.db.types import utcnow
from app.dossiers.service import steps
from app.identity import repository
from app.identity.schemas import RoleAssignmentCreate, RoleAssignmentOut
from app.models.enums import AuditAction
from app.models.identity import Client, RoleAssignment, User

ENTITY = "role_assignment"


def assignment_etag(assignment: RoleAssignment) -> str:
    """The strong ETag of a role assignment as answered. Its only change is being revoked (once);
    the day is part of it because ``active`` and the unit's code and name are read as of today."""
    return etag_for(ENTITY, assignment.id, assignment.revoked_at, today())


async def lock_holder(
    session: AsyncSession, *, user_id: uuid.UUID | None, client_id: uuid.UUID | None
) -> User | Client | None:
    """The person or client whose roles change, ``FOR UPDATE``: its representation lists them."""
    if user_id is not None:
        return await repository.lock_user(session, user_id)
    if client_id is not None:
        return await repository.lock_client(session, client_id)
    return None


def touch(holder: User | Client | None) -> None:
    """A write of the holder: its revision (and so its ETag) and ``updated_at`` move on."""
    if holder is not None:
        holder.revision += 1
        holder.updated_at = utcnow()


def is_active(assignment: RoleAssignment) -> bool:
    day = today()
    return assignment.revoked_at is None and holds_on(
        assignment.valid_from, assignment.valid_to, day
    )


def snapshot(assignment: RoleAssignment) -> dict[str, Any]:
    return {
        "user_id": assignment.user_id,
        "client_id": assignment.client_id,
        "role": assignment.role,
        "unit_id": assignment.unit_id,
        "valid_from": assignment.valid_from,
        "valid_to": assignment.valid_to,
        "step": assignment.step,
        "resources": assignment.resources,
        "revoked_at": assignment.revoked_at,
    }


async def present(
    session: AsyncSession, assignments: Sequence[RoleAssignment]
) -> list[RoleAssignmentOut]:
    labels = await repository.unit_labels(
        session, (a.unit_id for a in assignments if a.unit_id is not None), today()
    )
    out = []
    for a in assignments:
        code, name = labels.get(a.unit_id, (None, None)) if a.unit_id else (None, None)
        out.append(
            RoleAssignmentOut(
                id=a.id,
                role=Role(a.role),
                unit_id=a.unit_id,
                unit_code=code,
                unit_name=name,
                valid_from=None if a.valid_from == BEGINNING_OF_TIME else a.valid_from,
                valid_to=None if a.valid_to == END_OF_TIME else a.valid_to,
                step=a.step,
                resources=a.resources,
                granted_by=a.granted_by,
                granted_at=a.granted_at,
                revoked_at=a.revoked_at,
                active=is_active(a),
            )
        )
    return out


def _invalid(loc: list[str | int], message: str, code: str) -> Unprocessable:
    return Unprocessable(message, code=code, errors=[field_error(loc, message, code)])


async def _validate(
    session: AsyncSession, body: RoleAssignmentCreate, *, for_client: bool, loc: list[str | int]
) -> None:
    allowed = CLIENT_ROLES if for_client else USER_ROLES
    if body.role not in allowed:
        holder = "an integration client" if for_client else "a person"
        raise _invalid(
            [*loc, "role"], f"The role {body.role} cannot be given to {holder}.", "role_not_allowed"
        )
    if body.role is Role.INTEGRATION_CLIENT:
        if not body.resources:
            raise _invalid(
                [*loc, "resources"],
                "An integration client's role names the resources it may read or write.",
                "resources_required",
            )
        unknown = sorted(set(body.resources) - CLIENT_RESOURCES)
        if unknown:
            raise _invalid(
                [*loc, "resources"],
                f"Unknown resources {', '.join(unknown)}; known: "
                f"{', '.join(sorted(CLIENT_RESOURCES))}.",
                "unknown_resource",
            )
    elif body.resources:
        raise _invalid(
            [*loc, "resources"],
            "Only integration clients' roles name resources.",
            "resources_not_allowed",
        )
    if body.step is not None and body.role is not Role.APPRAISER:
        raise _invalid([*loc, "step"], "Only appraisers act at a step.", "step_not_allowed")
    if body.step is not None and not steps.is_step(body.step):
        # A step of a procedure version (app/dossiers/data), never free text: the permission to
        # act at that step comes from this assignment.
        raise _invalid(
            [*loc, "step"],
            f"Unknown procedure step {body.step!r}; known: {', '.join(steps.step_refs())}.",
            "step_unknown",
        )
    if body.unit_id is not None and not await repository.unit_exists(session, body.unit_id):
        raise _invalid([*loc, "unit_id"], f"There is no unit {body.unit_id}.", "unit_not_found")
    start = body.valid_from or today()
    end = body.valid_to or END_OF_TIME
    if start >= end:
        raise _invalid(
            [*loc, "valid_to"], "valid_to must come after valid_from.", "invalid_interval"
        )


async def grant(
    session: AsyncSession,
    context: AuditContext,
    granted_by: uuid.UUID | None,
    body: RoleAssignmentCreate,
    *,
    user_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    loc: list[str | int] | None = None,
) -> RoleAssignment:
    holder = await lock_holder(session, user_id=user_id, client_id=client_id)
    await _validate(session, body, for_client=client_id is not None, loc=loc or ["body"])
    valid_from = body.valid_from or today()
    valid_to = body.valid_to or END_OF_TIME
    existing = await repository.assignments_of(
        session,
        user_ids=[user_id] if user_id else [],
        client_ids=[client_id] if client_id else [],
    )
    for other in existing:
        if (
            other.role == body.role
            and other.unit_id == body.unit_id
            and overlaps(other.valid_from, other.valid_to, valid_from, valid_to)
        ):
            raise Conflict(
                f"The role {body.role} is already held over this scope for part of that time "
                f"(assignment {other.id}).",
                code="role_already_granted",
                extra={"assignment_id": str(other.id)},
            )
    assignment = RoleAssignment(
        id=uuid.uuid4(),
        user_id=user_id,
        client_id=client_id,
        role=str(body.role),
        unit_id=body.unit_id,
        valid_from=valid_from,
        valid_to=valid_to,
        step=body.step,
        resources={k: str(v) for k, v in body.resources.items()} if body.resources else None,
        granted_by=granted_by,
        granted_at=utcnow(),
    )
    session.add(assignment)
    touch(holder)
    await session.flush()
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=assignment.id,
        action=AuditAction.CREATE,
        after=snapshot(assignment),
        unit_id=assignment.unit_id,
    )
    return assignment


async def ensure_other_admin(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Refuse a change that would leave no active national system administrator."""
    if await repository.other_active_admins(session, today(), except_user=user_id) == 0:
        raise Conflict(
            "This would leave no active system administrator; appoint another one first.",
            code="last_administrator",
        )


def is_national_admin(assignment: RoleAssignment) -> bool:
    return (
        assignment.role == Role.SYSTEM_ADMIN
        and assignment.unit_id is None
        and is_active(assignment)
    )


async def revoke(
    session: AsyncSession,
    context: AuditContext,
    principal: Principal,
    assignment: RoleAssignment,
) -> None:
    holder = await lock_holder(session, user_id=assignment.user_id, client_id=assignment.client_id)
    # Read again under the holder's lock: of two concurrent revocations, one writes.
    await session.refresh(assignment)
    if assignment.revoked_at is not None:
        return
    if assignment.user_id is not None and is_national_admin(assignment):
        await ensure_other_admin(session, assignment.user_id)
    before = snapshot(assignment)
    assignment.revoked_at = utcnow()
    assignment.revoked_by = principal.id
    touch(holder)
    await session.flush()
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=assignment.id,
        action=AuditAction.REVOKE,
        before=before,
        after=snapshot(assignment),
        unit_id=assignment.unit_id,
    )
