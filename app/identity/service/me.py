"""The caller's own account: who am I, my password, my personal access tokens."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.config import Settings
from app.core import authz
from app.core.errors import Forbidden, Unprocessable, field_error
from app.core.http import etag_for
from app.core.permissions import Action
from app.core.security import PAT_PREFIX, Principal, PrincipalKind, digest, new_secret
from app.db.types import utcnow
from app.identity import repository
from app.identity.passwords import check_password_policy, hash_password, verify_password
from app.identity.schemas import (
    AccessTokenCreate,
    AccessTokenCreated,
    AccessTokenOut,
    Me,
    PasswordChange,
    Permission,
)
from app.identity.service import grants
from app.models.enums import AuditAction
from app.models.identity import PersonalAccessToken, User

PREFIX_LENGTH = len(PAT_PREFIX) + 8


def token_out(pat: PersonalAccessToken) -> AccessTokenOut:
    return AccessTokenOut(
        id=pat.id,
        name=pat.name,
        prefix=pat.prefix,
        read_only=pat.read_only,
        expires_at=pat.expires_at,
        revoked_at=pat.revoked_at,
        last_used_at=pat.last_used_at,
        created_at=pat.created_at,
    )


def token_etag(pat: PersonalAccessToken) -> str:
    """The strong ETag of a personal access token as answered: besides its id, only its
    revocation (once) and ``last_used_at`` (bookkeeping, not a write) ever change."""
    return etag_for("access_token", pat.id, pat.revoked_at, pat.last_used_at)


def _token_snapshot(pat: PersonalAccessToken) -> dict[str, Any]:
    return {
        "user_id": pat.user_id,
        "name": pat.name,
        "prefix": pat.prefix,
        "read_only": pat.read_only,
        "expires_at": pat.expires_at,
        "revoked_at": pat.revoked_at,
    }


def permissions(principal: Principal) -> list[Permission]:
    out = []
    for action in Action:
        scope = authz.scope(principal, action)
        if not scope.empty:
            out.append(
                Permission(
                    action=action, national=scope.national, unit_ids=sorted(scope.roots, key=str)
                )
            )
    return out


async def me(session: AsyncSession, principal: Principal) -> Me:
    if principal.kind is PrincipalKind.CLIENT:
        assignments = await repository.assignments_of(session, client_ids=[principal.id])
    else:
        assignments = await repository.assignments_of(session, user_ids=[principal.id])
    body: dict[str, Any] = {
        "id": principal.id,
        "kind": principal.kind,
        "name": principal.name,
        "read_only": principal.read_only,
        "roles": await grants.present(session, assignments),
        "permissions": permissions(principal),
    }
    if principal.kind is PrincipalKind.CLIENT:
        body["client_id"] = principal.client_id
    else:
        user = await repository.get_user(session, principal.id)
        if user is not None:
            body.update(username=user.username, display_name=user.display_name, email=user.email)
        if principal.token_id is not None:
            pat = await repository.get_token(session, principal.token_id)
            body["token"] = token_out(pat) if pat is not None else None
    return Me(**body)


async def _own_user(
    session: AsyncSession, principal: Principal, what: str, *, lock: bool = False
) -> User:
    """The person behind the caller (``lock``: ``FOR UPDATE``, to write it); clients and
    personal access tokens cannot manage accounts."""
    if principal.kind is not PrincipalKind.USER:
        raise Forbidden(f"Only a person signed in with a password can {what}.", code="forbidden")
    if lock:
        user = await repository.lock_user(session, principal.id)
    else:
        user = await repository.get_user(session, principal.id)
    if user is None:  # deleted between authentication and now
        raise authz.not_found("user", principal.id)
    return user


async def change_password(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    context: AuditContext,
    body: PasswordChange,
) -> None:
    user = await _own_user(session, principal, "change a password", lock=True)
    if not await asyncio.to_thread(verify_password, user.password_hash, body.current_password):
        message = "The current password is not correct."
        raise Unprocessable(
            message,
            code="wrong_password",
            errors=[field_error(["body", "current_password"], message, "wrong_password")],
        )
    check_password_policy(
        body.new_password,
        username=user.username,
        min_length=settings.password_min_length,
        field="new_password",
    )
    if body.new_password == body.current_password:
        message = "The new password must differ from the current one."
        raise Unprocessable(
            message,
            code="weak_password",
            errors=[field_error(["body", "new_password"], message, "weak_password")],
        )
    now = utcnow()
    user.password_hash = await asyncio.to_thread(hash_password, body.new_password)
    user.password_changed_at = now
    # Every access token issued before stops working, the caller's own included.
    user.token_generation += 1
    user.updated_at = now
    user.revision += 1
    await session.flush()
    await record(
        session,
        context,
        entity="user",
        entity_id=user.id,
        action=AuditAction.UPDATE,
        after={"password_changed_at": now},
    )


async def list_tokens(session: AsyncSession, principal: Principal) -> list[AccessTokenOut]:
    user = await _own_user(session, principal, "manage personal access tokens")
    return [token_out(pat) for pat in await repository.tokens_of(session, user.id)]


async def create_token(
    session: AsyncSession, principal: Principal, context: AuditContext, body: AccessTokenCreate
) -> AccessTokenCreated:
    user = await _own_user(session, principal, "create personal access tokens")
    token = new_secret(PAT_PREFIX)
    now = utcnow()
    pat = PersonalAccessToken(
        id=uuid.uuid4(),
        user_id=user.id,
        name=body.name,
        prefix=token[:PREFIX_LENGTH],
        token_hash=digest(token),
        read_only=body.read_only,
        expires_at=now + timedelta(days=body.expires_in_days),
        created_at=now,
    )
    session.add(pat)
    await session.flush()
    await record(
        session,
        context,
        entity="access_token",
        entity_id=pat.id,
        action=AuditAction.CREATE,
        after=_token_snapshot(pat),
    )
    return AccessTokenCreated(**token_out(pat).model_dump(), token=token)


async def get_token(
    session: AsyncSession, principal: Principal, token_id: uuid.UUID
) -> tuple[AccessTokenOut, str]:
    """One of the caller's personal access tokens (never the token itself) and its ETag."""
    pat = await _own_token(session, principal, token_id, "read personal access tokens")
    return token_out(pat), token_etag(pat)


async def token_etag_of(session: AsyncSession, token_id: uuid.UUID) -> str:
    """The ETag of a token this request has just written."""
    pat = await repository.get_token(session, token_id)
    if pat is None:
        raise authz.not_found("access_token", token_id)
    return token_etag(pat)


async def _own_token(
    session: AsyncSession, principal: Principal, token_id: uuid.UUID, what: str
) -> PersonalAccessToken:
    user = await _own_user(session, principal, what)
    pat = await repository.get_token(session, token_id)
    if pat is None or pat.user_id != user.id:
        raise authz.not_found("access_token", token_id)
    return pat


async def revoke_token(
    session: AsyncSession, principal: Principal, context: AuditContext, token_id: uuid.UUID
) -> None:
    pat = await _own_token(session, principal, token_id, "revoke personal access tokens")
    if pat.revoked_at is not None:
        return
    before = _token_snapshot(pat)
    pat.revoked_at = utcnow()
    await session.flush()
    await record(
        session,
        context,
        entity="access_token",
        entity_id=pat.id,
        action=AuditAction.REVOKE,
        before=before,
        after=_token_snapshot(pat),
    )
