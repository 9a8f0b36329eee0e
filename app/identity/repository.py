"""SQL of the identity feature."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Select, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import count_matching
from app.core.permissions import Role
from app.db.intervals import valid_on
from app.db.locking import for_update
from app.models.identity import (
    Client,
    LoginFailure,
    PersonalAccessToken,
    RevokedToken,
    RoleAssignment,
    User,
)
from app.units import query as units

# --- users and clients --------------------------------------------------------------------------


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The person ``FOR UPDATE`` (the write pattern's first step), fresh from the database."""
    statement = for_update(select(User).where(User.id == user_id))
    return await session.scalar(statement.execution_options(populate_existing=True))


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def any_user(session: AsyncSession) -> bool:
    return (await session.scalar(select(User.id).limit(1))) is not None


@dataclass(frozen=True)
class UserFilters:
    q: str | None = None
    active: bool | None = None
    role: Role | None = None
    updated_since: datetime | None = None


async def count_users(session: AsyncSession, filters: UserFilters) -> int:
    return await count_matching(session, _users_select(filters))


async def list_users(
    session: AsyncSession,
    filters: UserFilters,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[User]:
    query = _users_select(filters)
    if after is not None:
        query = query.where(tuple_(User.updated_at, User.id) > tuple_(*after))
    query = query.order_by(User.updated_at, User.id).limit(limit + 1)
    return (await session.scalars(query)).all()


def _users_select(filters: UserFilters) -> Select[User]:
    q, active, role, updated_since = filters.q, filters.active, filters.role, filters.updated_since
    query = select(User)
    if q:
        needle = q.lower()
        query = query.where(
            or_(
                User.username.contains(needle, autoescape=True),
                func.lower(User.display_name).contains(needle, autoescape=True),
            )
        )
    if active is not None:
        query = query.where(User.active.is_(active))
    if role is not None:
        query = query.where(
            User.id.in_(
                select(RoleAssignment.user_id).where(
                    RoleAssignment.role == role, RoleAssignment.revoked_at.is_(None)
                )
            )
        )
    if updated_since is not None:
        query = query.where(User.updated_at >= updated_since)
    return query


async def all_users(session: AsyncSession) -> Sequence[User]:
    return (await session.scalars(select(User).order_by(User.username))).all()


async def all_clients(session: AsyncSession) -> Sequence[Client]:
    return (await session.scalars(select(Client).order_by(Client.name, Client.id))).all()


async def get_client(session: AsyncSession, client_id: uuid.UUID) -> Client | None:
    return await session.get(Client, client_id)


async def lock_client(session: AsyncSession, client_id: uuid.UUID) -> Client | None:
    """The client ``FOR UPDATE`` (the write pattern's first step), fresh from the database."""
    statement = for_update(select(Client).where(Client.id == client_id))
    return await session.scalar(statement.execution_options(populate_existing=True))


def _clients_select(active: bool | None, updated_since: datetime | None) -> Select[Client]:
    query = select(Client)
    if active is not None:
        query = query.where(Client.active.is_(active))
    if updated_since is not None:
        query = query.where(Client.updated_at >= updated_since)
    return query


async def count_clients(
    session: AsyncSession, *, active: bool | None, updated_since: datetime | None
) -> int:
    return await count_matching(session, _clients_select(active, updated_since))


async def list_clients(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    active: bool | None,
    updated_since: datetime | None,
) -> Sequence[Client]:
    query = _clients_select(active, updated_since)
    if after is not None:
        query = query.where(tuple_(Client.updated_at, Client.id) > tuple_(*after))
    query = query.order_by(Client.updated_at, Client.id).limit(limit + 1)
    return (await session.scalars(query)).all()


# --- role assignments ---------------------------------------------------------------------------


async def assignments_of(
    session: AsyncSession,
    *,
    user_ids: Iterable[uuid.UUID] = (),
    client_ids: Iterable[uuid.UUID] = (),
    include_revoked: bool = False,
) -> Sequence[RoleAssignment]:
    users, clients = list(user_ids), list(client_ids)
    if not users and not clients:
        return []
    query = select(RoleAssignment).where(
        or_(RoleAssignment.user_id.in_(users), RoleAssignment.client_id.in_(clients))
    )
    if not include_revoked:
        query = query.where(RoleAssignment.revoked_at.is_(None))
    query = query.order_by(RoleAssignment.granted_at, RoleAssignment.id)
    return (await session.scalars(query)).all()


async def get_assignment(session: AsyncSession, assignment_id: uuid.UUID) -> RoleAssignment | None:
    return await session.get(RoleAssignment, assignment_id)


async def other_active_admins(session: AsyncSession, day: date, *, except_user: uuid.UUID) -> int:
    """Active users other than ``except_user`` holding a national system_admin role on ``day``."""
    query = (
        select(func.count(func.distinct(User.id)))
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            User.active.is_(True),
            User.id != except_user,
            RoleAssignment.role == Role.SYSTEM_ADMIN,
            RoleAssignment.unit_id.is_(None),
            RoleAssignment.revoked_at.is_(None),
            valid_on(RoleAssignment, day),
        )
    )
    return int(await session.scalar(query) or 0)


# --- units (read through the units feature, for role scopes) ----------------------------------


async def unit_exists(session: AsyncSession, unit_id: uuid.UUID) -> bool:
    return await units.unit_exists(session, unit_id)


async def unit_labels(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], day: date
) -> dict[uuid.UUID, tuple[str, str]]:
    """Code and name of each unit as of ``day`` (or its last version if it has ended)."""
    versions = await units.last_versions(session, unit_ids, day)
    return {unit_id: (version.code, version.name) for unit_id, version in versions.items()}


async def units_with_code(session: AsyncSession, code: str, day: date) -> Sequence[uuid.UUID]:
    found = await units.ids_by_code(session, [code], day)
    return sorted(found[code], key=str)


# --- personal access tokens ---------------------------------------------------------------------


async def tokens_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[PersonalAccessToken]:
    query = (
        select(PersonalAccessToken)
        .where(PersonalAccessToken.user_id == user_id)
        .order_by(PersonalAccessToken.created_at.desc(), PersonalAccessToken.id)
    )
    return (await session.scalars(query)).all()


async def get_token(session: AsyncSession, token_id: uuid.UUID) -> PersonalAccessToken | None:
    return await session.get(PersonalAccessToken, token_id)


async def token_by_digest(session: AsyncSession, token_hash: str) -> PersonalAccessToken | None:
    return await session.scalar(
        select(PersonalAccessToken).where(PersonalAccessToken.token_hash == token_hash)
    )


# --- login failures and revoked access tokens ---------------------------------------------------


async def failures_since(
    session: AsyncSession, scope: str, key: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many failures ``key`` had since ``since``, and the oldest of them."""
    row = (
        await session.execute(
            select(func.count(), func.min(LoginFailure.failed_at)).where(
                LoginFailure.scope == scope, LoginFailure.key == key, LoginFailure.failed_at > since
            )
        )
    ).one()
    oldest = row[1]
    if isinstance(oldest, str):  # an untyped aggregate on SQLite: naive UTC text
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    return int(row[0]), oldest


async def add_failures(
    session: AsyncSession, at: datetime, keys: Iterable[tuple[str, str]]
) -> list[int]:
    """Record one failed (or not yet checked) attempt under each key; the ids of the rows."""
    rows = [LoginFailure(scope=scope, key=key, failed_at=at) for scope, key in keys]
    session.add_all(rows)
    await session.flush()
    return [row.id for row in rows]


async def delete_failures(session: AsyncSession, ids: Iterable[int]) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.id.in_(list(ids))))


async def clear_failures(session: AsyncSession, scope: str, key: str) -> None:
    await session.execute(
        delete(LoginFailure).where(LoginFailure.scope == scope, LoginFailure.key == key)
    )


async def prune_failures(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at < before))


async def add_revoked_token(
    session: AsyncSession, jti: str, expires_at: datetime, now: datetime
) -> bool:
    """Record a revoked access token; False if it was already revoked."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if await session.get(RevokedToken, jti) is not None:
        return False
    session.add(RevokedToken(jti=jti, expires_at=expires_at, revoked_at=now))
    await session.flush()
    return True
