"""``/clients``: integration clients, their secrets and roles (system administrators)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response

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
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import Instant
from app.db.session import SessionDep
from app.identity.schemas import (
    ClientCreate,
    ClientCreated,
    ClientOut,
    ClientSecret,
    ClientUpdate,
    RoleAssignmentCreate,
    RoleAssignmentOut,
)
from app.identity.service import accounts

router = APIRouter(prefix="/clients", tags=["identity"])

Manager = Annotated[Principal, require(Action.USERS_MANAGE)]
READ_ERRORS = problem_responses(401, 403, 404)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get(
    "", response_model=Page[ClientOut], summary="List integration clients", responses=READ_ERRORS
)
async def list_clients(
    request: Request,
    session: SessionDep,
    principal: Manager,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    active: bool | None = None,
    updated_since: Instant | None = None,
    include_total: IncludeTotalQuery = False,
) -> Response:
    page = await accounts.list_clients(
        session,
        principal,
        limit=limit,
        cursor=cursor,
        active=active,
        updated_since=updated_since,
        include_total=include_total,
    )
    return model_page_response(request, page)


@router.post(
    "",
    status_code=201,
    response_model=ClientCreated,
    summary="Register an integration client; the response shows its secret once",
    responses=WRITE_ERRORS,
)
async def create_client(
    response: Response,
    session: SessionDep,
    principal: Manager,
    audit: AuditContextDep,
    body: ClientCreate,
) -> ClientCreated:
    client = await accounts.create_client(session, principal, audit, body)
    etag = await accounts.current_client_etag(session, client.id)
    await session.commit()
    response.headers.update(NO_STORE)
    response.headers["Location"] = f"/api/v1/clients/{client.id}"
    response.headers["ETag"] = etag
    return client


@router.get(
    "/{client_id}",
    response_model=ClientOut,
    summary="One integration client",
    responses=READ_ERRORS,
)
async def get_client(
    client_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
) -> ClientOut | Response:
    client = await accounts.get_client(session, principal, client_id)
    etag = await accounts.current_client_etag(session, client_id)
    if (cached := not_modified(request, etag)) is not None:
        return cached
    response.headers["ETag"] = etag
    return client


@router.patch(
    "/{client_id}",
    response_model=ClientOut,
    summary="Rename, deactivate or reactivate a client",
    responses=WRITE_ERRORS,
)
async def update_client(
    client_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: Manager,
    audit: AuditContextDep,
    body: ClientUpdate,
    if_match: IfMatch = None,
) -> ClientOut:
    client = await accounts.update_client(session, principal, audit, client_id, body, if_match)
    etag = await accounts.current_client_etag(session, client_id)
    await session.commit()
    response.headers["ETag"] = etag
    return client


@router.post(
    "/{client_id}/secret",
    response_model=ClientSecret,
    summary="Rotate a client's secret; the old one stops working, the new one is shown once",
    responses=WRITE_ERRORS,
)
async def rotate_secret(
    client_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: Manager,
    audit: AuditContextDep,
) -> ClientSecret:
    secret = await accounts.rotate_secret(session, principal, audit, client_id)
    etag = await accounts.current_client_etag(session, client_id)
    await session.commit()
    response.headers.update(NO_STORE)
    response.headers["ETag"] = etag  # the client's: its `secret_rotated_at` changed
    return secret


@router.get(
    "/{client_id}/roles",
    response_model=Page[RoleAssignmentOut],
    summary="A client's role assignments",
    responses=READ_ERRORS,
)
async def list_roles(
    client_id: uuid.UUID, session: SessionDep, principal: Manager, include_revoked: bool = False
) -> Page[RoleAssignmentOut]:
    items = await accounts.roles_of(
        session, principal, client_id=client_id, include_revoked=include_revoked
    )
    return Page(items=items)


@router.post(
    "/{client_id}/roles",
    status_code=201,
    response_model=RoleAssignmentOut,
    summary="Grant a client access to resources over a unit's subtree (or nationally)",
    description="Raises the client's revision: its ETag changes, since it lists its roles. "
    "Audited; an `Audit-Note` header is kept with the record.",
    responses=WRITE_ERRORS,
)
async def grant_role(
    client_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: Manager,
    audit: AuditContextDep,
    body: RoleAssignmentCreate,
) -> RoleAssignmentOut:
    assignment, etag = await accounts.grant_role(
        session, principal, audit, body, client_id=client_id
    )
    await session.commit()
    response.headers["Location"] = f"/api/v1/clients/{client_id}/roles/{assignment.id}"
    response.headers["ETag"] = etag
    return assignment


@router.get(
    "/{client_id}/roles/{assignment_id}",
    response_model=RoleAssignmentOut,
    summary="One of a client's role assignments (revoked ones too)",
    responses=READ_ERRORS,
)
async def get_role(
    client_id: uuid.UUID,
    assignment_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
) -> RoleAssignmentOut | Response:
    assignment, etag = await accounts.get_role(
        session, principal, assignment_id, client_id=client_id
    )
    if (cached := not_modified(request, etag)) is not None:
        return cached
    response.headers["ETag"] = etag
    return assignment


@router.delete(
    "/{client_id}/roles/{assignment_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke a client's role assignment",
    responses=WRITE_ERRORS,
)
async def revoke_role(
    client_id: uuid.UUID,
    assignment_id: uuid.UUID,
    session: SessionDep,
    principal: Manager,
    audit: AuditContextDep,
) -> Response:
    await accounts.revoke_role(session, principal, audit, assignment_id, client_id=client_id)
    await session.commit()
    return Response(status_code=204)
