"""``/me``: the caller, their password and their personal access tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.audit.service import AuditContextDep
from app.core.errors import problem_responses
from app.core.http import not_modified
from app.core.pagination import Page
from app.core.security import CurrentPrincipal, SettingsDep
from app.db.session import SessionDep
from app.identity.schemas import (
    AccessTokenCreate,
    AccessTokenCreated,
    AccessTokenOut,
    Me,
    PasswordChange,
)
from app.identity.service import me as service

router = APIRouter(prefix="/me", tags=["identity"])


@router.get(
    "",
    response_model=Me,
    summary="Who am I: the caller, its roles and where each action is allowed",
    responses=problem_responses(401),
)
async def get_me(session: SessionDep, principal: CurrentPrincipal) -> Me:
    return await service.me(session, principal)


@router.post(
    "/password",
    status_code=204,
    response_class=Response,
    summary="Change my password",
    responses=problem_responses(401, 403, 422),
)
async def change_password(
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    audit: AuditContextDep,
    body: PasswordChange,
) -> Response:
    await service.change_password(session, settings, principal, audit, body)
    await session.commit()
    return Response(status_code=204)


@router.get(
    "/tokens",
    response_model=Page[AccessTokenOut],
    summary="My personal access tokens (never the tokens themselves)",
    responses=problem_responses(401, 403),
)
async def list_tokens(session: SessionDep, principal: CurrentPrincipal) -> Page[AccessTokenOut]:
    return Page(items=await service.list_tokens(session, principal))


@router.post(
    "/tokens",
    status_code=201,
    response_model=AccessTokenCreated,
    summary="Create a personal access token for a reporting tool (shown once)",
    responses=problem_responses(401, 403, 422),
)
async def create_token(
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    audit: AuditContextDep,
    body: AccessTokenCreate,
) -> AccessTokenCreated:
    created = await service.create_token(session, principal, audit, body)
    etag = await service.token_etag_of(session, created.id)
    await session.commit()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Location"] = f"/api/v1/me/tokens/{created.id}"
    response.headers["ETag"] = etag
    return created


@router.get(
    "/tokens/{token_id}",
    response_model=AccessTokenOut,
    summary="One of my personal access tokens (never the token itself)",
    responses=problem_responses(401, 403, 404),
)
async def get_token(
    token_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> AccessTokenOut | Response:
    token, etag = await service.get_token(session, principal, token_id)
    if (cached := not_modified(request, etag)) is not None:
        return cached
    response.headers["ETag"] = etag
    return token


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke one of my personal access tokens",
    responses=problem_responses(401, 403, 404),
)
async def revoke_token(
    token_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, audit: AuditContextDep
) -> Response:
    await service.revoke_token(session, principal, audit, token_id)
    await session.commit()
    return Response(status_code=204)
