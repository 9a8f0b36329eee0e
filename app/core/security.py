"""Who is calling: bearer tokens, the ``Principal`` they resolve to, and the FastAPI dependencies.

A bearer token is either a signed access token from ``POST /api/v1/auth/token`` (a JWT, HS256, a
few minutes to hours long) or a personal access token (``ntm_pat_…``, kept as a SHA-256 digest).
Either way the principal and its role assignments are loaded from the database on every request
(one statement for a signed-in user), so a deactivated account, a revoked assignment or a revoked
token stops working at once.

Object-level checks (scopes) live in :mod:`app.core.authz`.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

import jwt
from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2
from sqlalchemy import Date, Select, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.clock import today
from app.core.errors import Forbidden, Unauthorized
from app.core.permissions import Action, Role, client_allows, role_allows
from app.db.engine import Database
from app.db.intervals import valid_on
from app.db.session import SessionDep, get_database
from app.db.types import utcnow
from app.models.identity import Client, PersonalAccessToken, RevokedToken, RoleAssignment, User

TOKEN_URL: Final = "/api/v1/auth/token"  # noqa: S105 (a path)
ISSUER: Final = "ntm"
ALGORITHM: Final = "HS256"
PAT_PREFIX: Final = "ntm_pat_"
# The user's token generation a token was issued under (absent: 0).
GENERATION_CLAIM: Final = "gen"
CLIENT_SECRET_PREFIX: Final = "ntm_cs_"  # noqa: S105 (a prefix)
MAX_TOKEN_LENGTH: Final = 4096
# A personal access token's last use is recorded at most this often (it costs a write).
LAST_USED_RESOLUTION: Final = timedelta(minutes=5)
# Viet Nam has one time zone (UTC+7) and no daylight saving time; the legal date of a map change
# is the local one.

# Marks a route as public (no token needed) in OpenAPI: ``@router.get(..., openapi_extra=PUBLIC)``.
PUBLIC: Final[dict[str, Any]] = {"x-public": True}


class PrincipalKind(StrEnum):
    """Who calls: ``user`` (a person signed in with a password), ``client`` (an integration
    client, OAuth2 client credentials), ``token`` (a person through a personal access token)."""

    USER = "user"
    CLIENT = "client"
    # A person acting through one of their personal access tokens.
    TOKEN = "token"  # noqa: S105


@dataclass(frozen=True)
class Grant:
    """One active role assignment: a role over a unit's subtree (``unit_id`` None: national)."""

    id: uuid.UUID
    role: Role
    unit_id: uuid.UUID | None
    step: str | None = None
    resources: dict[str, str] | None = None

    def allows(self, action: Action) -> bool:
        if not role_allows(self.role, action):
            return False
        if self.role is Role.INTEGRATION_CLIENT:
            return client_allows(self.resources, action)
        return True


@dataclass(eq=False)
class Principal:
    """The caller of a request. ``id`` is the user's or the client's id (for a personal access
    token, its owner's), so that the audit trail finds every action of one person."""

    id: uuid.UUID
    kind: PrincipalKind
    name: str
    client_id: str | None = None
    grants: tuple[Grant, ...] = ()
    token_id: uuid.UUID | None = None
    jti: str | None = None
    read_only: bool = False
    # Per-request cache of scope look-ups (app.core.authz).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def user_id(self) -> uuid.UUID | None:
        return None if self.kind is PrincipalKind.CLIENT else self.id

    def grants_for(self, action: Action) -> list[Grant]:
        if self.read_only and not action.is_read:
            return []
        return [grant for grant in self.grants if grant.allows(action)]

    def allows(self, action: Action) -> bool:
        """Whether the principal may do ``action`` somewhere (a first, coarse check)."""
        return bool(self.grants_for(action))

    def allows_nationally(self, action: Action) -> bool:
        return any(grant.unit_id is None for grant in self.grants_for(action))

    @property
    def national(self) -> bool:
        """Whether any grant is national (the principal can see every unit)."""
        return any(grant.unit_id is None for grant in self.grants)


# --- secrets and tokens -------------------------------------------------------------------------


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret (client secret, personal access token)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def secrets_match(value: str, expected_digest: str) -> bool:
    return secrets.compare_digest(digest(value), expected_digest)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime
    expires_in: int


def issue_access_token(
    settings: Settings,
    *,
    subject: uuid.UUID,
    kind: PrincipalKind,
    client_id: str | None = None,
    generation: int = 0,
) -> IssuedToken:
    """Sign an access token; ``generation`` is the user's ``token_generation`` at issue."""
    now = utcnow()
    ttl = settings.access_token_ttl_seconds
    expires_at = now + timedelta(seconds=ttl)
    jti = secrets.token_hex(16)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(subject),
        "kind": str(kind),
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    if client_id is not None:
        claims["client_id"] = client_id
    if generation:
        claims[GENERATION_CLAIM] = generation
    token = jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM)
    return IssuedToken(token=token, jti=jti, expires_at=expires_at, expires_in=ttl)


# Which of the translated sentences of ``invalid_token`` (app.core.messages) each detail is.
_TOKEN_VARIANTS = {
    "The access token has expired.": "expired",
    "The access token has been revoked.": "revoked",
    "The access token is not valid.": "invalid",
    "Send the token as `Authorization: Bearer <token>`.": "scheme",
}


def invalid_token(detail: str) -> Unauthorized:
    # RFC 6750 §3: the challenge names the error; the description repeats the problem's detail.
    return Unauthorized(
        detail,
        code="invalid_token",
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
        params={"variant": _TOKEN_VARIANTS.get(detail, "invalid")},
    )


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise invalid_token("The access token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise invalid_token("The access token is not valid.") from exc
    if claims.get("kind") not in {PrincipalKind.USER, PrincipalKind.CLIENT}:
        raise invalid_token("The access token is not valid.")
    return claims


def access_token_expiry(settings: Settings, token: str) -> tuple[dict[str, Any], datetime] | None:
    """Claims and expiry of a token this service signed and that is still valid, else None."""
    try:
        claims = decode_access_token(settings, token)
    except Unauthorized:
        return None
    return claims, datetime.fromtimestamp(int(claims["exp"]), UTC)


# --- loading principals -------------------------------------------------------------------------


async def load_grants(
    session: AsyncSession,
    *,
    user_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    on: date | None = None,
) -> tuple[Grant, ...]:
    day = on or today()
    query = select(
        RoleAssignment.id,
        RoleAssignment.role,
        RoleAssignment.unit_id,
        RoleAssignment.step,
        RoleAssignment.resources,
    ).where(RoleAssignment.revoked_at.is_(None), valid_on(RoleAssignment, day))
    if user_id is not None:
        query = query.where(RoleAssignment.user_id == user_id)
    else:
        query = query.where(RoleAssignment.client_id == client_id)
    rows = (await session.execute(query.order_by(RoleAssignment.granted_at))).all()
    found = (_grant(row) for row in rows)
    return tuple(grant for grant in found if grant is not None)


def _grant(row: Any) -> Grant | None:
    try:
        role = Role(row.role)
    except ValueError:  # a role retired from the code: it grants nothing
        return None
    return Grant(id=row.id, role=role, unit_id=row.unit_id, step=row.step, resources=row.resources)


def _user_principal_statement() -> Select[Any]:
    grants = (
        select(
            RoleAssignment.user_id,
            RoleAssignment.id,
            RoleAssignment.role,
            RoleAssignment.unit_id,
            RoleAssignment.step,
            RoleAssignment.resources,
            RoleAssignment.granted_at,
        )
        .where(
            RoleAssignment.user_id == bindparam("subject"),
            RoleAssignment.revoked_at.is_(None),
            RoleAssignment.valid_from <= bindparam("day", type_=Date),
            RoleAssignment.valid_to > bindparam("day", type_=Date),
        )
        .subquery("grants")
    )
    return (
        select(
            User.id.label("user_id"),
            User.username,
            User.active,
            User.token_generation,
            exists().where(RevokedToken.jti == bindparam("jti")).label("revoked"),
            grants.c.id,
            grants.c.role,
            grants.c.unit_id,
            grants.c.step,
            grants.c.resources,
        )
        .outerjoin(grants, grants.c.user_id == User.id)
        .where(User.id == bindparam("subject"))
        .order_by(grants.c.granted_at)
    )


# Built once: a subquery made per request copies its columns every time (issue 16).
_USER_PRINCIPAL = _user_principal_statement()


async def _user_principal(
    session: AsyncSession, subject: uuid.UUID, jti: str, generation: Any
) -> Principal:
    """A signed-in user's principal in one statement: the account, whether the token's ``jti``
    was revoked, and the active grants (one row each, or one row of nulls). One round trip
    instead of three on every authenticated request (issue 16), and nothing cached: a
    deactivation, a revoked token or a revoked assignment still stops the next request."""
    parameters = {"subject": subject, "jti": jti, "day": today()}
    rows = (await session.execute(_USER_PRINCIPAL, parameters)).all()
    if rows and rows[0].revoked:
        raise invalid_token("The access token has been revoked.")
    if not rows or not rows[0].active:
        raise invalid_token("The access token is not valid.")
    user = rows[0]
    if generation != user.token_generation:
        # Issued before the password was last changed or reset.
        raise invalid_token("The access token has been revoked.")
    found = (_grant(row) for row in rows if row.id is not None)
    return Principal(
        id=user.user_id,
        kind=PrincipalKind.USER,
        name=user.username,
        grants=tuple(grant for grant in found if grant is not None),
        jti=jti,
    )


async def _principal_from_claims(session: AsyncSession, claims: dict[str, Any]) -> Principal:
    try:
        subject = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise invalid_token("The access token is not valid.") from exc
    jti = str(claims["jti"])
    if claims["kind"] != PrincipalKind.CLIENT:
        return await _user_principal(session, subject, jti, claims.get(GENERATION_CLAIM, 0))
    if await session.scalar(select(exists().where(RevokedToken.jti == jti))):
        raise invalid_token("The access token has been revoked.")
    client = await session.scalar(select(Client).where(Client.id == subject))
    if client is None or not client.active:
        raise invalid_token("The access token is not valid.")
    return Principal(
        id=client.id,
        kind=PrincipalKind.CLIENT,
        name=client.name,
        client_id=str(client.id),
        grants=await load_grants(session, client_id=client.id),
        jti=jti,
    )


async def _principal_from_pat(session: AsyncSession, token: str) -> Principal:
    now = utcnow()
    row = (
        await session.execute(
            select(PersonalAccessToken, User)
            .join(User, User.id == PersonalAccessToken.user_id)
            .where(PersonalAccessToken.token_hash == digest(token))
        )
    ).first()
    if row is None:
        raise invalid_token("The access token is not valid.")
    pat, user = row[0], row[1]
    if pat.revoked_at is not None:
        raise invalid_token("The access token has been revoked.")
    if pat.expires_at <= now:
        raise invalid_token("The access token has expired.")
    if not user.active:
        raise invalid_token("The access token is not valid.")
    principal = Principal(
        id=user.id,
        kind=PrincipalKind.TOKEN,
        name=user.username,
        grants=await load_grants(session, user_id=user.id),
        token_id=pat.id,
        read_only=pat.read_only,
    )
    if pat.last_used_at is None or now - pat.last_used_at > LAST_USED_RESOLUTION:
        await session.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == pat.id)
            .values(last_used_at=now)
        )
        # ``session`` is the token's own short session (resolve_token), never the request's:
        # a read-only request never commits, and a writing one commits once, only its own work.
        await session.commit()
    return principal


async def resolve_token(
    session: AsyncSession, settings: Settings, token: str, database: Database | None = None
) -> Principal:
    """The principal of ``token``. A personal access token records its last use in a short
    transaction of its own on ``database`` (the request's ``session`` is left untouched, so
    the request still commits once); without ``database``, in ``session`` itself."""
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise invalid_token("The access token is not valid.")
    if token.startswith(PAT_PREFIX):
        if database is None:
            return await _principal_from_pat(session, token)
        # Read and written before the request's session starts its transaction: on SQLite (WAL)
        # a transaction that has read cannot write after another connection committed.
        async with database.session() as own:
            return await _principal_from_pat(own, token)
    return await _principal_from_claims(session, decode_access_token(settings, token))


# --- dependencies -------------------------------------------------------------------------------

oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        password=OAuthFlowPassword(tokenUrl=TOKEN_URL),
        clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL),
    ),
    scheme_name="oauth2",
    description="Access tokens from `POST /api/v1/auth/token` (password or client credentials).",
    auto_error=False,
)
bearer_scheme = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT or ntm_pat_…",
    description="An access token or a personal access token: `Authorization: Bearer <token>`.",
    auto_error=False,
)


def get_settings_from_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]


async def authenticate(request: Request, session: SessionDep) -> Principal | None:
    """The caller, or None without an ``Authorization`` header; 401 for a bad token."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("Send the token as `Authorization: Bearer <token>`.")
    principal = await resolve_token(
        session, get_settings_from_app(request), token, get_database(request)
    )
    request.state.principal = principal
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(authenticate)],
    _oauth2: Annotated[str | None, Depends(oauth2_scheme)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if principal is None:
        raise Unauthorized(
            "This endpoint needs an access token: `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": 'Bearer realm="ntm"'},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
# Public routes that show more to a signed-in caller; declares no security requirement.
OptionalPrincipal = Annotated[Principal | None, Depends(authenticate)]


def forbidden(action: Action) -> Forbidden:
    return Forbidden(
        f"Your roles do not allow `{action}` here.", code="forbidden", params={"action": action}
    )


def require(action: Action) -> Any:
    """A dependency: the caller, who must hold ``action`` somewhere (401 / 403 otherwise).

    Use as ``principal: Annotated[Principal, require(Action.UNITS_WRITE)]`` or in
    ``dependencies=[require(...)]``; then check the object's unit with ``authz.require``.
    """

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.allows(action):
            raise forbidden(action)
        return principal

    dependency.required_action = action  # type: ignore[attr-defined]
    return Depends(dependency)
