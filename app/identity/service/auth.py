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
# A client id as tried from one address: a wrong secret holds back that address only, so that
# whoever knows a client id cannot lock the legitimate integration out from elsewhere.
CLIENT_ADDRESS = "client_addr"
ADDRESS = "address"
# Many officials of one office share a public address (NAT): allow it more failures than one
# account before it is held back.
ADDRESS_FACTOR = 4
# A client id across all addresses: only a sustained attack from many addresses reaches this,
# and it is then held back for longer (secrets are 256-bit random values: this is a brake on
# traffic, not the defence against guessing).
CLIENT_GLOBAL_FACTOR = 20
CLIENT_GLOBAL_WINDOW_FACTOR = 4
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


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed attempts under (scope, key) within ``window``."""

    scope: str
    key: str
    failures: int
    window: timedelta


def _account_limits(settings: Settings, username: str, address: str) -> list[Limit]:
    window = timedelta(seconds=settings.login_lockout_seconds)
    return [
        Limit(ACCOUNT, username[:255], settings.login_max_failures, window),
        Limit(ADDRESS, address[:255], settings.login_max_failures * ADDRESS_FACTOR, window),
    ]


def _client_limits(settings: Settings, client_id: str, address: str) -> list[Limit]:
    window = timedelta(seconds=settings.login_lockout_seconds)
    return [
        Limit(
            CLIENT_ADDRESS, f"{client_id[:200]} {address[:54]}", settings.login_max_failures, window
        ),
        Limit(
            CLIENT,
            client_id[:255],
            settings.login_max_failures * CLIENT_GLOBAL_FACTOR,
            window * CLIENT_GLOBAL_WINDOW_FACTOR,
        ),
        Limit(ADDRESS, address[:255], settings.login_max_failures * ADDRESS_FACTOR, window),
    ]


def too_many_attempts(retry_after: int) -> ProblemError:
    return ProblemError(
        "Too many failed sign-in attempts; try again later.",
        code="too_many_attempts",
        status=429,
        headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
        extra={"error": "invalid_grant", "error_description": "Too many failed attempts."},
    )


async def _over_limit(
    session: AsyncSession, limits: list[Limit], now: datetime, *, allowed: int = 0
) -> int | None:
    """Seconds to wait if a limit counts more than ``failures - allowed`` attempts, else None."""
    for limit in limits:
        count, oldest = await repository.failures_since(
            session, limit.scope, limit.key, now - limit.window
        )
        if count > limit.failures - allowed:
            wait = (oldest + limit.window - now).total_seconds() if oldest else 0
            return max(1, math.ceil(wait))
    return None


async def _claim_attempt(
    session: AsyncSession, settings: Settings, limits: list[Limit], now: datetime
) -> list[int]:
    """Count this attempt before its secret is checked, so that concurrent attempts cannot all
    read the same count: returns the ids of the rows that record it (a failure unless it
    succeeds), or raises 429.

    The attempt is committed first and the count read after: of N concurrent attempts, the k-th
    to commit sees at least k rows, so at most ``failures`` of them go on to a password check
    whatever the isolation level. Each step is its own short transaction, and the write ones
    begin with their write (SQLite cannot upgrade a reading transaction under contention).
    """
    # Already held back: answer without a write.
    waiting = await _over_limit(session, limits, now, allowed=1)
    await session.commit()
    if waiting is not None:
        raise too_many_attempts(waiting)
    ids = await repository.add_failures(
        session, now, [(limit.scope, limit.key) for limit in limits]
    )
    longest = timedelta(seconds=settings.login_lockout_seconds * CLIENT_GLOBAL_WINDOW_FACTOR)
    await repository.prune_failures(session, now - longest)
    await session.commit()
    waiting = await _over_limit(session, limits, now)
    await session.commit()
    if waiting is not None:
        # Held back: this attempt checked nothing, so it does not count (nor extend the wait).
        await repository.delete_failures(session, ids)
        await session.commit()
        raise too_many_attempts(waiting)
    return ids


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
    now = utcnow()
    attempt = await _claim_attempt(
        session, settings, _account_limits(settings, username, form.address), now
    )
    user = await repository.get_user_by_username(session, username)
    # End the reading transaction before the slow hash (the connection goes back to the pool)
    # and before writing (see _claim_attempt).
    await session.commit()
    if user is None:
        await asyncio.to_thread(burn_verification, form.password)
        valid = False
    else:
        valid = await asyncio.to_thread(verify_password, user.password_hash, form.password)
    if user is None or not valid or not user.active:
        raise invalid_grant()  # the attempt's rows stay, as the failure
    await repository.delete_failures(session, attempt)
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
    issued = issue_access_token(
        settings, subject=user.id, kind=PrincipalKind.USER, generation=user.token_generation
    )
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


async def _client_credentials_grant(
    session: AsyncSession, settings: Settings, form: TokenRequest
) -> TokenResponse:
    if not form.client_id or form.client_secret is None:
        raise invalid_client()
    now = utcnow()
    limits = _client_limits(settings, form.client_id, form.address)
    attempt = await _claim_attempt(session, settings, limits, now)
    client: Client | None = None
    try:
        client = await repository.get_client(session, uuid.UUID(form.client_id))
    except ValueError:
        client = None
    expected = client.secret_hash if client is not None else _DUMMY_SECRET_DIGEST
    valid = secrets_match(form.client_secret, expected)
    await session.commit()
    if client is None or not valid or not client.active:
        raise invalid_client()
    await repository.delete_failures(session, attempt)
    # The global count of the client id is left to age: a success from one address does not
    # wipe what an attacker spread over many.
    await repository.clear_failures(session, CLIENT_ADDRESS, limits[0].key)
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
    a system administrator). Unknown, invalid or foreign tokens are ignored (§2.2: 200 anyway),
    and so are tokens that grant more than the caller's own: a read-only personal access token
    revokes only read-only ones."""
    now = utcnow()
    may_revoke_any = principal.allows_nationally(Action.USERS_MANAGE)
    token = token.strip()
    if token.startswith(PAT_PREFIX):
        pat = await repository.token_by_digest(session, digest(token))
        if pat is None or pat.revoked_at is not None:
            return
        if pat.user_id != principal.user_id and not may_revoke_any:
            return
        if principal.read_only and not pat.read_only:
            return  # revoking needs the same grant or a stronger one
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
    if principal.read_only:
        return  # a read-only token cannot end a session that may write
    if await repository.add_revoked_token(session, str(claims["jti"]), expires_at, now):
        await record(
            session,
            context,
            entity="access_token",
            entity_id=str(claims["jti"]),
            action=AuditAction.REVOKE,
            after={"subject": claims["sub"], "kind": claims["kind"], "expires_at": expires_at},
        )
