"""``/users``: people and their role assignments (system administrators)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.audit.service import AuditContextDep
from app.core.errors import problem_responses
from app.core.http import IfMatch, not_modified
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    IncludeTotalQuery,
    LimitQuery,
    Page,
    model_page_response,
)
from app.core.permissions import Action, Role
from app.core.security import Principal, SettingsDep, require
from app.core.types import Instant
from app.db.session import SessionDep
from app.identity.schemas import (
    RoleAssignmentCreate,
    RoleAssignmentOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.identity.service import accounts

router = APIRouter(prefix="/users", tags=["identity"])

Manager = Annotated[Principal, require(Action.USERS_MANAGE)]
READ_ERRORS = problem_responses(401, 403, 404)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)


@router.get("", response_model=Page[UserOut], summary="List people", responses=READ_ERRORS)
async def list_users(
    request: Request,
    session: SessionDep,
    principal: Manager,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of the username or name.")
    ] = None,
    active: bool | None = None,
    role: Role | None = None,
    updated_since: Instant | None = None,
    include_total: IncludeTotalQuery = False,
) -> Response:
    page = await accounts.list_users(
        session,
        principal,
        limit=limit,
        cursor=cursor,
        q=q,
        active=active,
        role=role,
        updated_since=updated_since,
        include_total=include_total,
    )
    return model_page_response(request, page)


@router.post(
    "",
    status_code=201,
    response_model=UserOut,
    summary="Create a person, optionally with roles",
    responses={
        200: {"model": UserOut, "description": "Already created with this id."},
        **WRITE_ERRORS,
    },
)
async def create_user(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Manager,
    audit: AuditContextDep,
    body: UserCreate,
) -> UserOut:
    user, created = await accounts.create_user(session, settings, principal, audit, body)
    await session.commit()
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    response.headers["ETag"] = await accounts.current_user_etag(session, user.id)
    return user


@router.get("/{user_id}", response_model=UserOut, summary="One person", responses=READ_ERRORS)
async def get_user(
    user_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
) -> UserOut | Response:
    user = await accounts.get_user(session, principal, user_id)
    etag = await accounts.current_user_etag(session, user_id)
    if (cached := not_modified(request, etag)) is not None:
        return cached
    response.headers["ETag"] = etag
    return user


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    summary="Change a person's name, email, active flag or password",
    responses=WRITE_ERRORS,
)
async def update_user(
    user_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Manager,
    audit: AuditContextDep,
    body: UserUpdate,
    if_match: IfMatch = None,
) -> UserOut:
    user = await accounts.update_user(session, settings, principal, audit, user_id, body, if_match)
    etag = await accounts.current_user_etag(session, user_id)
    await session.commit()
    response.headers["ETag"] = etag
    return user


@router.post(
    "/{user_id}/deactivate",
    response_model=UserOut,
    summary="Deactivate a person: their tokens stop working at once (PATCH active=true undoes it)",
    responses=WRITE_ERRORS,
)
async def deactivate_user(
    user_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Manager,
    audit: AuditContextDep,
    if_match: IfMatch = None,
) -> UserOut:
    user = await accounts.deactivate_user(session, settings, principal, audit, user_id, if_match)
    etag = await accounts.current_user_etag(session, user_id)
    await session.commit()
    response.headers["ETag"] = etag
    return user


@router.get(
    "/{user_id}/roles",
    response_model=Page[RoleAssignmentOut],
    summary="A person's role assignments",
    responses=READ_ERRORS,
)
async def list_roles(
    user_id: uuid.UUID,
    session: SessionDep,
    principal: Manager,
    include_revoked: bool = False,
) -> Page[RoleAssignmentOut]:
    items = await accounts.roles_of(
        session, principal, user_id=user_id, include_revoked=include_revoked
    )
    return Page(items=items)


@router.post(
    "/{user_id}/roles",
    status_code=201,
    response_model=RoleAssignmentOut,
    summary="Grant a person a role over a unit's subtree (or nationally)",
    description="Raises the person's revision: their ETag changes, since it lists their roles. "
    "Audited; an `Audit-Note` header is kept with the record.",
    responses=WRITE_ERRORS,
)
async def grant_role(
    user_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: Manager,
    audit: AuditContextDep,
    body: RoleAssignmentCreate,
) -> RoleAssignmentOut:
    assignment, etag = await accounts.grant_role(session, principal, audit, body, user_id=user_id)
    await session.commit()
    response.headers["Location"] = f"/api/v1/users/{user_id}/roles/{assignment.id}"
    response.headers["ETag"] = etag
    return assignment


@router.get(
    "/{user_id}/roles/{assignment_id}",
    response_model=RoleAssignmentOut,
    summary="One of a person's role assignments (revoked ones too)",
    responses=READ_ERRORS,
)
async def get_role(
    user_id: uuid.UUID,
    assignment_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
) -> RoleAssignmentOut | Response:
    assignment, etag = await accounts.get_role(session, principal, assignment_id, user_id=user_id)
    if (cached := not_modified(request, etag)) is not None:
        return cached
    response.headers["ETag"] = etag
    return assignment


@router.delete(
    "/{user_id}/roles/{assignment_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a role assignment (it stays in the history)",
    responses=WRITE_ERRORS,
)
async def revoke_role(
    user_id: uuid.UUID,
    assignment_id: uuid.UUID,
    session: SessionDep,
    principal: Manager,
    audit: AuditContextDep,
) -> Response:
    await accounts.revoke_role(session, principal, audit, assignment_id, user_id=user_id)
    await session.commit()
    return Response(status_code=204)
