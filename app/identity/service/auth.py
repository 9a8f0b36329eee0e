"""``POST /auth/token`` (RFC 6749 password and client-credentials grants), revocation (RFC 7009)
and the limit on failed logins.

Failed logins are counted per account and per address in the database, so that every worker
agrees. An unknown account, an inactive one and a wrong password give the same answer after the
same work (a dummy hash is verified), so the answer never says whether an account exists.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.config import Settings
from app.core.errors import ProblemError
from app.core.logging import request_id_var
from app.core.permissions import Action
from app.core.security import (
    PAT_PREFIX,
    Principal,
    PrincipalKind,
    access_token_expiry,
    digest,
    issue_access_token,
    secrets_match,
)
from app.db.types import utcnow
from app.identity import repository
from app.identity.passwords import burn_verification, hash_password, needs_rehash, verify_password
from app.identity.schemas import TokenResponse
from app.models.enums import AuditAction
from app.models.identity import Client, User

ACCOUNT = "account"
CLIENT = "client"
ADDRESS = "address"
# Many officials of one office share a public address (NAT): allow it more failures than one
# account before it is held back.
ADDRESS_FACTOR = 4
_DUMMY_SECRET_DIGEST = digest("not a secret of any client")


def oauth_error(
    error: str, detail: str, *, status: int = 400, headers: Mapping[str, str] | None = None
) -> ProblemError:
    """An RFC 6749 §5.2 error, as problem+json that also carries ``error``/``error_description``."""
    return ProblemError(
        detail,
        code=error,
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        extra={"error": error, "error_description": detail},
    )


def invalid_grant() -> ProblemError:
    return oauth_error("invalid_grant", "The username or password is not correct.")


def invalid_client() -> ProblemError:
    return oauth_error(
        "invalid_client",
        "The client could not be authenticated.",
        status=401,
        headers={"WWW-Authenticate": 'Basic realm="ntm"'},
    )


@dataclass(frozen=True)
class TokenRequest:
    grant_type: str | None
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    address: str = "unknown"


async def _check_limits(
    session: AsyncSession, settings: Settings, keys: list[tuple[str, str]], now: datetime
) -> None:
    window = timedelta(seconds=settings.login_lockout_seconds)
    for scope, key in keys:
        limit = settings.login_max_failures * (ADDRESS_FACTOR if scope == ADDRESS else 1)
        count, oldest = await repository.failures_since(session, scope, key, now - window)
        if count >= limit:
            wait = (oldest + window - now).total_seconds() if oldest else window.total_seconds()
            retry_after = max(1, math.ceil(wait))
            raise ProblemError(
                "Too many failed sign-in attempts; try again later.",
                code="too_many_attempts",
                status=429,
                headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
                extra={"error": "invalid_grant", "error_description": "Too many failed attempts."},
            )


async def _fail(
    session: AsyncSession, settings: Settings, keys: list[tuple[str, str]], now: datetime
) -> None:
    await repository.add_failures(session, now, keys)
    await repository.prune_failures(
        session, now - timedelta(seconds=settings.login_lockout_seconds)
    )


def _login_context(principal_id: uuid.UUID, kind: PrincipalKind, name: str) -> AuditContext:
    return AuditContext(
        actor_id=principal_id,
        actor_kind=str(kind),
        actor_name=name,
        client_id=str(principal_id) if kind is PrincipalKind.CLIENT else None,
        request_id=request_id_var.get(),
    )


async def _password_grant(
    session: AsyncSession, settings: Settings, form: TokenRequest
) -> TokenResponse:
    if not form.username or form.password is None:
        raise oauth_error("invalid_request", "The password grant needs username and password.")
    username = form.username.strip().lower()
    keys = [(ACCOUNT, username[:255]), (ADDRESS, form.address)]
    now = utcnow()
    await _check_limits(session, settings, keys, now)
    user = await repository.get_user_by_username(session, username)
    if user is None:
        await asyncio.to_thread(burn_verification, form.password)
        valid = False
    else:
        valid = await asyncio.to_thread(verify_password, user.password_hash, form.password)
    if user is None or not valid or not user.active:
        await _fail(session, settings, keys, now)
        raise invalid_grant()
    await repository.clear_failures(session, ACCOUNT, username)
    values: dict[str, object] = {"last_login_at": now, "updated_at": User.updated_at}
    if needs_rehash(user.password_hash):
        values["password_hash"] = await asyncio.to_thread(hash_password, form.password)
    await session.execute(update(User).where(User.id == user.id).values(**values))
    await record(
        session,
        _login_context(user.id, PrincipalKind.USER, user.username),
        entity="user",
        entity_id=user.id,
        action=AuditAction.LOGIN,
        after={"grant_type": "password"},
    )
    issued = issue_access_token(settings, subject=user.id, kind=PrincipalKind.USER)
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


async def _client_credentials_grant(
    session: AsyncSession, settings: Settings, form: TokenRequest
) -> TokenResponse:
    if not form.client_id or form.client_secret is None:
        raise invalid_client()
    keys = [(CLIENT, form.client_id[:255]), (ADDRESS, form.address)]
    now = utcnow()
    await _check_limits(session, settings, keys, now)
    client: Client | None = None
    try:
        client = await repository.get_client(session, uuid.UUID(form.client_id))
    except ValueError:
        client = None
    expected = client.secret_hash if client is not None else _DUMMY_SECRET_DIGEST
    valid = secrets_match(form.client_secret, expected)
    if client is None or not valid or not client.active:
        await _fail(session, settings, keys, now)
        raise invalid_client()
    await repository.clear_failures(session, CLIENT, form.client_id)
    await session.execute(
        update(Client)
        .where(Client.id == client.id)
        .values(last_login_at=now, updated_at=Client.updated_at)
    )
    await record(
        session,
        _login_context(client.id, PrincipalKind.CLIENT, client.name),
        entity="client",
        entity_id=client.id,
        action=AuditAction.LOGIN,
        after={"grant_type": "client_credentials"},
    )
    issued = issue_access_token(
        settings, subject=client.id, kind=PrincipalKind.CLIENT, client_id=str(client.id)
    )
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


async def issue_token(
    session: AsyncSession, settings: Settings, form: TokenRequest
) -> TokenResponse:
    """Run a grant. Failed attempts are added to the session before the error is raised: the
    caller commits them either way."""
    if not form.grant_type:
        raise oauth_error("invalid_request", "grant_type is required.")
    if form.grant_type == "password":
        return await _password_grant(session, settings, form)
    if form.grant_type == "client_credentials":
        return await _client_credentials_grant(session, settings, form)
    raise oauth_error(
        "unsupported_grant_type",
        "Supported grant types: password (people) and client_credentials (integrations).",
    )


async def revoke_token(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    context: AuditContext,
    token: str,
) -> None:
    """RFC 7009: revoke an access token or a personal access token of the caller (or any, for
    a system administrator). Unknown, invalid or foreign tokens are ignored (§2.2: 200 anyway)."""
    now = utcnow()
    may_revoke_any = principal.allows_nationally(Action.USERS_MANAGE)
    token = token.strip()
    if token.startswith(PAT_PREFIX):
        pat = await repository.token_by_digest(session, digest(token))
        if pat is None or pat.revoked_at is not None:
            return
        if pat.user_id != principal.user_id and not may_revoke_any:
            return
        pat.revoked_at = now
        await session.flush()
        await record(
            session,
            context,
            entity="access_token",
            entity_id=pat.id,
            action=AuditAction.REVOKE,
            after={"name": pat.name, "prefix": pat.prefix, "user_id": pat.user_id},
        )
        return
    found = access_token_expiry(settings, token)
    if found is None:
        return
    claims, expires_at = found
    if claims["sub"] != str(principal.id) and not may_revoke_any:
        return
    if await repository.add_revoked_token(session, str(claims["jti"]), expires_at, now):
        await record(
            session,
            context,
            entity="access_token",
            entity_id=str(claims["jti"]),
            action=AuditAction.REVOKE,
            after={"subject": claims["sub"], "kind": claims["kind"], "expires_at": expires_at},
        )
