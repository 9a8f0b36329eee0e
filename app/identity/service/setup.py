"""Accounts made from the command line, and the first administrator of an embedded install."""

from __future__ import annotations

import secrets
import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext
from app.config import Settings
from app.core.clock import today
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.permissions import Access, Role
from app.identity import repository
from app.identity.passwords import password_problems
from app.identity.schemas import (
    ClientCreate,
    ClientCreated,
    ClientOut,
    ClientUpdate,
    RoleAssignmentCreate,
    RoleAssignmentOut,
    UserCreate,
    UserOut,
)
from app.identity.service import accounts, grants

BOOTSTRAP_USERNAME = "admin"
ROLE_ALIASES = {"admin": Role.SYSTEM_ADMIN}


def parse_role(value: str) -> Role:
    try:
        return ROLE_ALIASES.get(value) or Role(value)
    except ValueError:
        known = ", ".join(sorted([*Role, *ROLE_ALIASES]))
        raise Unprocessable(f"Unknown role {value}; known roles: {known}.") from None


async def unit_for_code(session: AsyncSession, code: str | None) -> uuid.UUID | None:
    if code is None:
        return None
    found = await repository.units_with_code(session, code, today())
    if not found:
        raise NotFound(f"No unit has the code {code} today.", code="unit_not_found")
    if len(set(found)) > 1:
        raise Conflict(f"Several units have the code {code} today; give --unit-id.")
    return found[0]


def random_password(username: str, min_length: int) -> str:
    while True:
        candidate = secrets.token_urlsafe(max(18, min_length))
        if not password_problems(candidate, username=username, min_length=min_length):
            return candidate


async def create_user(
    session: AsyncSession,
    settings: Settings,
    *,
    username: str,
    password: str,
    role: Role | None,
    unit_id: uuid.UUID | None = None,
    display_name: str | None = None,
    email: str | None = None,
    context: AuditContext | None = None,
) -> UserOut:
    roles = [RoleAssignmentCreate(role=role, unit_id=unit_id)] if role else []
    body = UserCreate(
        username=username,
        display_name=display_name or username,
        email=email,
        password=password,
        roles=roles,
    )
    user, _ = await accounts.create_user(
        session, settings, None, context or AuditContext.system("cli"), body
    )
    return user


async def grant(
    session: AsyncSession,
    *,
    username: str,
    role: Role,
    unit_id: uuid.UUID | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    step: str | None = None,
) -> RoleAssignmentOut:
    user = await repository.get_user_by_username(session, username.strip().lower())
    if user is None:
        raise NotFound(f"There is no user {username}.", code="user_not_found")
    body = RoleAssignmentCreate(
        role=role, unit_id=unit_id, valid_from=valid_from, valid_to=valid_to, step=step
    )
    assignment = await grants.grant(
        session, AuditContext.system("cli"), None, body, user_id=user.id
    )
    return (await grants.present(session, [assignment]))[0]


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    unit_id: uuid.UUID | None = None,
    read: list[str] | None = None,
    write: list[str] | None = None,
) -> ClientCreated:
    resources = dict.fromkeys(read or [], Access.READ)
    resources.update(dict.fromkeys(write or [], Access.WRITE))
    roles = (
        [RoleAssignmentCreate(role=Role.INTEGRATION_CLIENT, unit_id=unit_id, resources=resources)]
        if resources
        else []
    )
    body = ClientCreate(name=name, roles=roles)
    return await accounts.create_client(session, None, AuditContext.system("cli"), body)


async def all_users(session: AsyncSession) -> list[UserOut]:
    """Every person, in username order, with their role assignments (for ``ntm users list``)."""
    return await accounts.present_users(session, await repository.all_users(session))


async def all_clients(session: AsyncSession) -> list[ClientOut]:
    """Every integration client, in name order (for ``ntm clients list``)."""
    return await accounts.present_clients(session, await repository.all_clients(session))


async def revoke_client(session: AsyncSession, client_id: uuid.UUID) -> ClientOut:
    """Deactivate a client: its access tokens stop working at once (every request checks that
    the client is active) and its secret obtains no new one. Audited as an update."""
    return await accounts.update_client(
        session,
        None,
        AuditContext.system("cli", reason="ntm clients revoke"),
        client_id,
        ClientUpdate(active=False),
    )


async def bootstrap_admin(session: AsyncSession, settings: Settings) -> str | None:
    """Create ``admin`` with a random password when there is no user at all; return the password
    (to show once) or None when there was nothing to do."""
    if await repository.any_user(session):
        return None
    password = random_password(BOOTSTRAP_USERNAME, settings.password_min_length)
    await create_user(
        session,
        settings,
        username=BOOTSTRAP_USERNAME,
        password=password,
        role=Role.SYSTEM_ADMIN,
        display_name="Administrator",
        context=AuditContext.system("bootstrap", reason="first start without any user"),
    )
    return password
