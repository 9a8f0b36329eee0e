"""Object-level authorisation: may this principal do this action on something in this unit?

A role held over a unit covers the unit's subtree **as the map stands today**: a commune officer
of a commune that has merged into a new one does not see the new commune until granted it. A unit
that no longer exists stays where it last was, so that its history remains in the subtree of the
units that held it (a district officer keeps the communes the district had when it was dissolved).

Answers: allowed; 404 when the object is outside everything the principal can see (its existence
is not revealed); 403 when it is visible but the action is not allowed there.

    await authz.require(session, principal, Action.ASSESSMENTS_WRITE,
                        unit_id=assessment.unit_id, entity="assessment", entity_id=assessment.id)
    query = query.where(authz.scope(principal, Action.ASSESSMENTS_READ).clause(Assessment.unit_id))
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, false, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import today
from app.core.errors import NotFound
from app.core.permissions import Action
from app.core.security import Principal, forbidden
from app.units import query as units


def subtree_select(roots: Iterable[uuid.UUID], day: date | None = None) -> Select[tuple[uuid.UUID]]:
    """Ids of the units in the subtrees of ``roots`` (roots included) on ``day`` (default today)."""
    return units.subtree_select(roots, day or today())


def ancestors_select(unit_id: uuid.UUID, day: date | None = None) -> Select[tuple[uuid.UUID]]:
    """Ids of the unit and its ancestors as the map stands on ``day`` (default today)."""
    return units.ancestors_select(unit_id, day or today())


async def ancestors(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID
) -> frozenset[uuid.UUID]:
    key = ("ancestors", unit_id)
    if key not in principal.cache:
        rows = await session.scalars(ancestors_select(unit_id))
        principal.cache[key] = frozenset(rows)
    found: frozenset[uuid.UUID] = principal.cache[key]
    return found


def not_found(entity: str, entity_id: object | None = None) -> NotFound:
    """The 404 of an entity, the same whether it does not exist or is out of the caller's scope."""
    label = entity.replace("_", " ")
    detail = f"There is no {label} {entity_id}." if entity_id is not None else f"No such {label}."
    params = {"id": str(entity_id)} if entity_id is not None else None
    return NotFound(detail, code=f"{entity}_not_found", params=params)


async def _covers(
    session: AsyncSession, principal: Principal, roots: set[uuid.UUID | None], unit_id: uuid.UUID
) -> bool:
    if None in roots:
        return True
    if not roots:
        return False
    return bool(roots & await ancestors(session, principal, unit_id))


async def allows(
    session: AsyncSession, principal: Principal, action: Action, *, unit_id: uuid.UUID | None
) -> bool:
    """Whether ``principal`` may do ``action`` on something in ``unit_id`` (None: national)."""
    roots = {grant.unit_id for grant in principal.grants_for(action)}
    if unit_id is None:
        return None in roots
    return await _covers(session, principal, roots, unit_id)


async def can_see(session: AsyncSession, principal: Principal, unit_id: uuid.UUID | None) -> bool:
    """Whether anything in ``unit_id`` is within any of the principal's scopes."""
    if unit_id is None:
        return True
    return await _covers(session, principal, {grant.unit_id for grant in principal.grants}, unit_id)


async def require(
    session: AsyncSession,
    principal: Principal,
    action: Action,
    *,
    unit_id: uuid.UUID | None,
    entity: str = "unit",
    entity_id: object | None = None,
    missing: NotFound | None = None,
) -> None:
    """Raise 404 (``<entity>_not_found``) when the object's unit is out of every scope of the
    principal, 403 (``forbidden``) when it is visible but ``action`` is not allowed there.

    ``unit_id`` is the unit the object belongs to; None for national objects (e.g. a national
    criteria set), which need a national grant of ``action``. ``missing``: the feature's own 404
    for the object, so that out of scope reads exactly like absent.
    """
    if await allows(session, principal, action, unit_id=unit_id):
        return
    if not await can_see(session, principal, unit_id):
        raise missing or not_found(entity, entity_id)
    raise forbidden(action)


async def require_all(
    session: AsyncSession,
    principal: Principal,
    action: Action,
    unit_ids: Iterable[uuid.UUID | None],
    *,
    entity: str = "unit",
    missing: Callable[[uuid.UUID], NotFound] | None = None,
) -> None:
    """``require`` for an operation touching several units at once (a map change, a bulk
    write): one subtree query instead of one per unit. ``None`` among ``unit_ids`` stands for
    something national. 404 names the first unit the principal cannot see at all."""
    ids = set(unit_ids)
    grants = principal.grants_for(action)
    if not ids or any(grant.unit_id is None for grant in grants):
        return
    if None in ids:
        raise forbidden(action)
    wanted = {unit for unit in ids if unit is not None}
    roots = {grant.unit_id for grant in grants if grant.unit_id is not None}
    allowed = set(await session.scalars(subtree_select(roots))) if roots else set()
    outside = wanted - allowed
    if not outside:
        return
    if not principal.national:
        seen = {grant.unit_id for grant in principal.grants if grant.unit_id is not None}
        visible = set(await session.scalars(subtree_select(seen))) if seen else set()
        hidden = sorted(outside - visible, key=str)
        if hidden:
            raise missing(hidden[0]) if missing else not_found(entity, hidden[0])
    raise forbidden(action)


@dataclass(frozen=True)
class Scope:
    """Where a principal may do an action: everywhere (``national``) or in the subtrees of
    ``roots``. ``clause`` filters a list query to it."""

    national: bool
    roots: frozenset[uuid.UUID]

    @property
    def empty(self) -> bool:
        return not self.national and not self.roots

    def clause(self, unit_column: Any, *, day: date | None = None) -> ColumnElement[bool]:
        if self.national:
            return true()
        if not self.roots:
            return false()
        return unit_column.in_(subtree_select(self.roots, day))  # type: ignore[no-any-return]

    async def unit_ids(self, session: AsyncSession) -> set[uuid.UUID] | None:
        """The visible units, or None for all of them."""
        if self.national:
            return None
        if not self.roots:
            return set()
        return set(await session.scalars(subtree_select(self.roots)))


def scope(principal: Principal | None, action: Action) -> Scope:
    if principal is None:
        return Scope(national=False, roots=frozenset())
    grants = principal.grants_for(action)
    national = any(grant.unit_id is None for grant in grants)
    roots = frozenset(grant.unit_id for grant in grants if grant.unit_id is not None)
    return Scope(national=national, roots=frozenset() if national else roots)
