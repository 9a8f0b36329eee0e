"""People and integration clients, managed by system administrators (``users:manage``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.config import Settings
from app.core import authz
from app.core.clock import today
from app.core.errors import Conflict
from app.core.http import etag_for, require_match
from app.core.pagination import Page, decode_updated_cursor, page_from_rows
from app.core.permissions import Action, Role
from app.core.security import CLIENT_SECRET_PREFIX, Principal, digest, new_secret
from app.db.types import utcnow
from app.identity import repository
from app.identity.passwords import check_password_policy, hash_password
from app.identity.schemas import (
    ClientCreate,
    ClientCreated,
    ClientOut,
    ClientSecret,
    ClientUpdate,
    RoleAssignmentCreate,
    RoleAssignmentOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.identity.service import grants
from app.models.enums import AuditAction
from app.models.identity import Client, RoleAssignment, User


async def _require_manager(session: AsyncSession, principal: Principal | None, entity: str) -> None:
    """Accounts are national: managing them needs a national users:manage grant. No principal:
    the command line, run by whoever operates the server."""
    if principal is not None:
        await authz.require(session, principal, Action.USERS_MANAGE, unit_id=None, entity=entity)


def user_etag(user: User) -> str:
    """The strong ETag of a person as answered: the revision names its own state (every write
    raises it, role assignments included); ``last_login_at`` is shown but a sign-in is not a
    write; the day, because each role's ``active`` and unit name are read as of today."""
    return etag_for("user", user.id, user.revision, user.last_login_at, today())


def client_etag(client: Client) -> str:
    """The strong ETag of an integration client as answered (see :func:`user_etag`)."""
    return etag_for("client", client.id, client.revision, client.last_login_at, today())


async def current_user_etag(session: AsyncSession, user_id: uuid.UUID) -> str:
    """The ETag of a person this request has just read or written."""
    user = await repository.get_user(session, user_id)
    if user is None:
        raise authz.not_found("user", user_id)
    return user_etag(user)


async def current_client_etag(session: AsyncSession, client_id: uuid.UUID) -> str:
    """The ETag of a client this request has just read or written."""
    client = await repository.get_client(session, client_id)
    if client is None:
        raise authz.not_found("client", client_id)
    return client_etag(client)


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "active": user.active,
        "password_changed_at": user.password_changed_at,
    }


def client_snapshot(client: Client) -> dict[str, Any]:
    return {"name": client.name, "active": client.active}


async def present_users(session: AsyncSession, users: Sequence[User]) -> list[UserOut]:
    assignments = await repository.assignments_of(session, user_ids=[u.id for u in users])
    roles = await grants.present(session, assignments)
    by_user: dict[uuid.UUID, list[RoleAssignmentOut]] = {u.id: [] for u in users}
    for assignment, out in zip(assignments, roles, strict=True):
        if assignment.user_id is not None:
            by_user[assignment.user_id].append(out)
    return [
        UserOut(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            email=u.email,
            active=u.active,
            password_changed_at=u.password_changed_at,
            last_login_at=u.last_login_at,
            created_at=u.created_at,
            updated_at=u.updated_at,
            roles=by_user[u.id],
        )
        for u in users
    ]


async def present_clients(session: AsyncSession, clients: Sequence[Client]) -> list[ClientOut]:
    assignments = await repository.assignments_of(session, client_ids=[c.id for c in clients])
    roles = await grants.present(session, assignments)
    by_client: dict[uuid.UUID, list[RoleAssignmentOut]] = {c.id: [] for c in clients}
    for assignment, out in zip(assignments, roles, strict=True):
        if assignment.client_id is not None:
            by_client[assignment.client_id].append(out)
    return [
        ClientOut(
            id=c.id,
            client_id=str(c.id),
            name=c.name,
            active=c.active,
            secret_rotated_at=c.secret_rotated_at,
            last_login_at=c.last_login_at,
            created_at=c.created_at,
            updated_at=c.updated_at,
            roles=by_client[c.id],
        )
        for c in clients
    ]


# --- users --------------------------------------------------------------------------------------


async def load_user(session: AsyncSession, principal: Principal | None, user_id: uuid.UUID) -> User:
    await _require_manager(session, principal, "user")
    user = await repository.get_user(session, user_id)
    if user is None:
        raise authz.not_found("user", user_id)
    return user


async def _lock_user(
    session: AsyncSession, principal: Principal | None, user_id: uuid.UUID, if_match: str | None
) -> User:
    """The write pattern's first three steps: lock, authorise, compare ``If-Match``."""
    user = await repository.lock_user(session, user_id)
    await _require_manager(session, principal, "user")
    if user is None:
        raise authz.not_found("user", user_id)
    require_match(if_match, user_etag(user), what=f"User {user_id}")
    return user


async def list_users(
    session: AsyncSession,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    q: str | None = None,
    active: bool | None = None,
    role: Role | None = None,
    updated_since: datetime | None = None,
    include_total: bool = False,
) -> Page[UserOut]:
    await _require_manager(session, principal, "user")
    filters = repository.UserFilters(q=q, active=active, role=role, updated_since=updated_since)
    after = decode_updated_cursor(cursor)
    rows = await repository.list_users(session, filters, limit=limit, after=after)
    kept, next_cursor = page_from_rows(rows, limit, lambda u: (u.updated_at, u.id))
    total = await repository.count_users(session, filters) if include_total else None
    return Page(items=await present_users(session, kept), next_cursor=next_cursor, total=total)


async def get_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> UserOut:
    user = await load_user(session, principal, user_id)
    return (await present_users(session, [user]))[0]


async def create_user(
    session: AsyncSession,
    settings: Settings,
    principal: Principal | None,
    context: AuditContext,
    body: UserCreate,
) -> tuple[UserOut, bool]:
    """Create a person (``principal`` None: the command line). Returns the user and whether it
    was created (False: the same ``id`` and username were sent again)."""
    await _require_manager(session, principal, "user")
    if body.id is not None:
        existing = await repository.get_user(session, body.id)
        if existing is not None:
            if existing.username == body.username:
                return (await present_users(session, [existing]))[0], False
            raise Conflict(
                f"Another user has the id {body.id}.", code="user_id_taken", params={"id": body.id}
            )
        if await repository.get_client(session, body.id) is not None:
            # One id, one principal: the audit trail and grants are keyed on it alone.
            raise Conflict(
                f"A client has the id {body.id}.", code="user_id_taken", params={"id": body.id}
            )
    if await repository.get_user_by_username(session, body.username) is not None:
        raise Conflict(
            f"The username {body.username} is taken.",
            code="username_taken",
            params={"username": body.username},
        )
    check_password_policy(
        body.password, username=body.username, min_length=settings.password_min_length
    )
    now = utcnow()
    user = User(
        id=body.id or uuid.uuid4(),
        username=body.username,
        display_name=body.display_name,
        email=body.email,
        password_hash=await asyncio.to_thread(hash_password, body.password),
        active=body.active,
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        context,
        entity="user",
        entity_id=user.id,
        action=AuditAction.CREATE,
        after=user_snapshot(user),
    )
    granted_by = principal.id if principal else None
    for index, role in enumerate(body.roles):
        await grants.grant(
            session, context, granted_by, role, user_id=user.id, loc=["body", "roles", index]
        )
    return (await present_users(session, [user]))[0], True


async def update_user(
    session: AsyncSession,
    settings: Settings,
    principal: Principal | None,
    context: AuditContext,
    user_id: uuid.UUID,
    body: UserUpdate,
    if_match: str | None = None,
) -> UserOut:
    user = await _lock_user(session, principal, user_id, if_match)
    before = user_snapshot(user)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("active") is False and user.active and await _is_admin(session, user.id):
        await grants.ensure_other_admin(session, user.id)
    if "display_name" in changes and body.display_name is not None:
        user.display_name = body.display_name
    if "email" in changes:
        user.email = body.email
    if body.active is not None:
        user.active = body.active
    if body.password is not None:
        check_password_policy(
            body.password, username=user.username, min_length=settings.password_min_length
        )
        user.password_hash = await asyncio.to_thread(hash_password, body.password)
        user.password_changed_at = utcnow()
        # A reset locks out whoever held the old password, and their access tokens with it.
        user.token_generation += 1
    after = user_snapshot(user)
    if after != before or body.password is not None:
        user.updated_at = utcnow()
        user.revision += 1
        await session.flush()
        await record(
            session,
            context,
            entity="user",
            entity_id=user.id,
            action=AuditAction.UPDATE,
            before=before,
            after=after,
        )
    return (await present_users(session, [user]))[0]


async def _is_admin(session: AsyncSession, user_id: uuid.UUID) -> bool:
    assignments = await repository.assignments_of(session, user_ids=[user_id])
    return any(grants.is_national_admin(a) for a in assignments)


async def deactivate_user(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    context: AuditContext,
    user_id: uuid.UUID,
    if_match: str | None = None,
) -> UserOut:
    return await update_user(
        session, settings, principal, context, user_id, UserUpdate(active=False), if_match
    )


# --- clients ------------------------------------------------------------------------------------


async def load_client(
    session: AsyncSession, principal: Principal | None, client_id: uuid.UUID
) -> Client:
    await _require_manager(session, principal, "client")
    client = await repository.get_client(session, client_id)
    if client is None:
        raise authz.not_found("client", client_id)
    return client


async def _lock_client(
    session: AsyncSession, principal: Principal | None, client_id: uuid.UUID, if_match: str | None
) -> Client:
    """The write pattern's first three steps: lock, authorise, compare ``If-Match``."""
    client = await repository.lock_client(session, client_id)
    await _require_manager(session, principal, "client")
    if client is None:
        raise authz.not_found("client", client_id)
    require_match(if_match, client_etag(client), what=f"Client {client_id}")
    return client


async def list_clients(
    session: AsyncSession,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    active: bool | None = None,
    updated_since: datetime | None = None,
    include_total: bool = False,
) -> Page[ClientOut]:
    await _require_manager(session, principal, "client")
    rows = await repository.list_clients(
        session,
        limit=limit,
        after=decode_updated_cursor(cursor),
        active=active,
        updated_since=updated_since,
    )
    kept, next_cursor = page_from_rows(rows, limit, lambda c: (c.updated_at, c.id))
    total = None
    if include_total:
        total = await repository.count_clients(session, active=active, updated_since=updated_since)
    return Page(items=await present_clients(session, kept), next_cursor=next_cursor, total=total)


async def get_client(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID
) -> ClientOut:
    client = await load_client(session, principal, client_id)
    return (await present_clients(session, [client]))[0]


async def create_client(
    session: AsyncSession,
    principal: Principal | None,
    context: AuditContext,
    body: ClientCreate,
) -> ClientCreated:
    await _require_manager(session, principal, "client")
    if body.id is not None and await repository.get_client(session, body.id) is not None:
        # Not replayed: the secret was shown once and is not kept.
        raise Conflict(
            f"A client with the id {body.id} exists.",
            code="client_id_taken",
            params={"id": body.id},
        )
    if body.id is not None and await repository.get_user(session, body.id) is not None:
        # One id, one principal: the audit trail and grants are keyed on it alone.
        raise Conflict(
            f"A user has the id {body.id}.", code="client_id_taken", params={"id": body.id}
        )
    secret = new_secret(CLIENT_SECRET_PREFIX)
    now = utcnow()
    client = Client(
        id=body.id or uuid.uuid4(),
        name=body.name,
        secret_hash=digest(secret),
        active=body.active,
        secret_rotated_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    await session.flush()
    await record(
        session,
        context,
        entity="client",
        entity_id=client.id,
        action=AuditAction.CREATE,
        after=client_snapshot(client),
    )
    granted_by = principal.id if principal else None
    for index, role in enumerate(body.roles):
        await grants.grant(
            session, context, granted_by, role, client_id=client.id, loc=["body", "roles", index]
        )
    out = (await present_clients(session, [client]))[0]
    return ClientCreated(**out.model_dump(), client_secret=secret)


async def update_client(
    session: AsyncSession,
    principal: Principal | None,
    context: AuditContext,
    client_id: uuid.UUID,
    body: ClientUpdate,
    if_match: str | None = None,
) -> ClientOut:
    client = await _lock_client(session, principal, client_id, if_match)
    before = client_snapshot(client)
    if body.name is not None:
        client.name = body.name
    if body.active is not None:
        client.active = body.active
    after = client_snapshot(client)
    if after != before:
        client.updated_at = utcnow()
        client.revision += 1
        await session.flush()
        await record(
            session,
            context,
            entity="client",
            entity_id=client.id,
            action=AuditAction.UPDATE,
            before=before,
            after=after,
        )
    return (await present_clients(session, [client]))[0]


async def rotate_secret(
    session: AsyncSession, principal: Principal, context: AuditContext, client_id: uuid.UUID
) -> ClientSecret:
    client = await _lock_client(session, principal, client_id, None)
    secret = new_secret(CLIENT_SECRET_PREFIX)
    now = utcnow()
    before = {"secret_rotated_at": client.secret_rotated_at}
    client.secret_hash = digest(secret)
    client.secret_rotated_at = now
    client.updated_at = now
    client.revision += 1
    await session.flush()
    await record(
        session,
        context,
        entity="client",
        entity_id=client.id,
        action="rotate_secret",
        before=before,
        after={"secret_rotated_at": now},
    )
    return ClientSecret(client_id=str(client.id), client_secret=secret, secret_rotated_at=now)


# --- role assignments of users and clients ------------------------------------------------------


async def roles_of(
    session: AsyncSession,
    principal: Principal,
    *,
    user_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    include_revoked: bool = False,
) -> list[RoleAssignmentOut]:
    if user_id is not None:
        await load_user(session, principal, user_id)
    elif client_id is not None:
        await load_client(session, principal, client_id)
    assignments = await repository.assignments_of(
        session,
        user_ids=[user_id] if user_id else [],
        client_ids=[client_id] if client_id else [],
        include_revoked=include_revoked,
    )
    return await grants.present(session, assignments)


async def grant_role(
    session: AsyncSession,
    principal: Principal,
    context: AuditContext,
    body: RoleAssignmentCreate,
    *,
    user_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
) -> tuple[RoleAssignmentOut, str]:
    """The new assignment and its ETag."""
    if user_id is not None:
        await load_user(session, principal, user_id)
    elif client_id is not None:
        await load_client(session, principal, client_id)
    assignment = await grants.grant(
        session, context, principal.id, body, user_id=user_id, client_id=client_id
    )
    return (await grants.present(session, [assignment]))[0], grants.assignment_etag(assignment)


async def get_role(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
) -> tuple[RoleAssignmentOut, str]:
    """One role assignment of a person or client (revoked ones too) and its ETag."""
    assignment = await _assignment(session, principal, assignment_id, user_id, client_id)
    return (await grants.present(session, [assignment]))[0], grants.assignment_etag(assignment)


async def _assignment(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    user_id: uuid.UUID | None,
    client_id: uuid.UUID | None,
) -> RoleAssignment:
    if user_id is not None:
        await load_user(session, principal, user_id)
    elif client_id is not None:
        await load_client(session, principal, client_id)
    assignment = await repository.get_assignment(session, assignment_id)
    if (
        assignment is None
        or (user_id is not None and assignment.user_id != user_id)
        or (client_id is not None and assignment.client_id != client_id)
    ):
        raise authz.not_found("role_assignment", assignment_id)
    return assignment


async def revoke_role(
    session: AsyncSession,
    principal: Principal,
    context: AuditContext,
    assignment_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
) -> None:
    assignment = await _assignment(session, principal, assignment_id, user_id, client_id)
    await grants.revoke(session, context, principal, assignment)
