"""Scopes follow the map as it stands today; out of scope answers 404, in scope without the
right 403."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import authz
from app.core.errors import Forbidden, NotFound
from app.core.permissions import PERMISSIONS, Action, Role, client_allows
from app.core.security import Grant, Principal, PrincipalKind
from app.models.units import Unit
from tests.identity.conftest import Tree


def principal(*grants: tuple[Role, uuid.UUID | None], **kwargs: object) -> Principal:
    return Principal(
        id=uuid.uuid4(),
        kind=kwargs.pop("kind", PrincipalKind.USER),  # type: ignore[arg-type]
        name="someone",
        grants=tuple(
            Grant(id=uuid.uuid4(), role=role, unit_id=unit, **kwargs)  # type: ignore[arg-type]
            for role, unit in grants
        ),
    )


def test_every_role_has_a_row_and_admin_has_every_action() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert PERMISSIONS[Role.SYSTEM_ADMIN] == frozenset(Action)
    assert Action.USERS_MANAGE not in PERMISSIONS[Role.PROVINCE_COORDINATOR]
    assert PERMISSIONS[Role.VIEWER] == {a for a in Action if a.is_read and a != Action.AUDIT_READ}


def test_client_resources_narrow_the_integration_role() -> None:
    resources = {"units": "read", "assessments": "write"}
    assert client_allows(resources, Action.UNITS_READ)
    assert not client_allows(resources, Action.UNITS_WRITE)
    assert client_allows(resources, Action.ASSESSMENTS_WRITE)
    assert client_allows(resources, Action.ASSESSMENTS_READ)
    assert not client_allows(resources, Action.CRITERIA_READ)
    client = principal(
        (Role.INTEGRATION_CLIENT, None), kind=PrincipalKind.CLIENT, resources=resources
    )
    assert client.allows(Action.ASSESSMENTS_WRITE)
    assert not client.allows(Action.UNITS_WRITE)
    assert not client.allows(Action.AUDIT_READ)
    assert not client.allows(Action.USERS_MANAGE)


def test_read_only_token_allows_reads_only() -> None:
    admin = principal((Role.SYSTEM_ADMIN, None))
    admin.read_only = True
    assert admin.allows(Action.UNITS_READ)
    assert admin.allows(Action.AUDIT_READ)
    assert not admin.allows(Action.UNITS_WRITE)
    assert not admin.allows(Action.USERS_MANAGE)


async def _ids(session: AsyncSession, query: object) -> set[uuid.UUID]:
    return set(await session.scalars(query))  # type: ignore[call-overload]


async def test_subtree_follows_todays_map(session: AsyncSession, tree: Tree) -> None:
    assert await _ids(session, authz.subtree_select([tree.p1])) == {
        tree.p1,
        tree.d1,
        tree.c1,
        tree.v1,
        tree.old,  # ended: stays where it last was
        tree.new,
    }
    assert await _ids(session, authz.subtree_select([tree.c1])) == {tree.c1, tree.v1}
    assert await _ids(session, authz.subtree_select([tree.old])) == {tree.old}
    assert await _ids(session, authz.subtree_select([tree.p2])) == {tree.p2, tree.c2}


async def test_ancestors(session: AsyncSession, tree: Tree) -> None:
    assert await _ids(session, authz.ancestors_select(tree.v1)) == {
        tree.v1,
        tree.c1,
        tree.d1,
        tree.p1,
    }
    assert await _ids(session, authz.ancestors_select(tree.old)) == {tree.old, tree.d1, tree.p1}
    assert await _ids(session, authz.ancestors_select(uuid.uuid4())) == set()


async def test_commune_officer_writes_own_commune_only(session: AsyncSession, tree: Tree) -> None:
    officer = principal((Role.COMMUNE_OFFICER, tree.c1))
    await authz.require(session, officer, Action.ASSESSMENTS_WRITE, unit_id=tree.c1)
    await authz.require(session, officer, Action.ASSESSMENTS_WRITE, unit_id=tree.v1)
    with pytest.raises(NotFound) as outside:
        await authz.require(
            session,
            officer,
            Action.ASSESSMENTS_WRITE,
            unit_id=tree.c2,
            entity="assessment",
            entity_id="x",
        )
    assert outside.value.code == "assessment_not_found"
    with pytest.raises(NotFound):
        await authz.require(session, officer, Action.ASSESSMENTS_WRITE, unit_id=tree.d1)
    with pytest.raises(Forbidden) as no_right:
        await authz.require(session, officer, Action.UNITS_WRITE, unit_id=tree.c1)
    assert no_right.value.code == "forbidden"
    # National objects: visible to all, writable only with a national grant.
    with pytest.raises(Forbidden):
        await authz.require(session, officer, Action.CRITERIA_WRITE, unit_id=None)


async def test_viewer_sees_but_cannot_write(session: AsyncSession, tree: Tree) -> None:
    viewer = principal((Role.VIEWER, None))
    await authz.require(session, viewer, Action.ASSESSMENTS_READ, unit_id=tree.c2)
    with pytest.raises(Forbidden):
        await authz.require(session, viewer, Action.ASSESSMENTS_WRITE, unit_id=tree.c2)


async def test_merged_commune_is_not_inherited(session: AsyncSession, tree: Tree) -> None:
    officer = principal((Role.COMMUNE_OFFICER, tree.old))
    await authz.require(session, officer, Action.ASSESSMENTS_WRITE, unit_id=tree.old)
    with pytest.raises(NotFound):
        await authz.require(session, officer, Action.ASSESSMENTS_WRITE, unit_id=tree.new)
    granted = principal((Role.COMMUNE_OFFICER, tree.old), (Role.COMMUNE_OFFICER, tree.new))
    await authz.require(session, granted, Action.ASSESSMENTS_WRITE, unit_id=tree.new)


async def test_district_officer_keeps_the_history_of_its_communes(
    session: AsyncSession, tree: Tree
) -> None:
    officer = principal((Role.DISTRICT_OFFICER, tree.d1))
    for unit in (tree.c1, tree.v1, tree.old, tree.new):
        await authz.require(session, officer, Action.ASSESSMENTS_WRITE, unit_id=unit)
    with pytest.raises(NotFound):
        await authz.require(session, officer, Action.ASSESSMENTS_WRITE, unit_id=tree.p1)


async def test_scope_clause_filters_lists(session: AsyncSession, tree: Tree) -> None:
    officer = principal((Role.COMMUNE_OFFICER, tree.c1), (Role.VIEWER, tree.p2))
    write = authz.scope(officer, Action.ASSESSMENTS_WRITE)
    assert not write.national
    assert write.roots == {tree.c1}
    visible = await _ids(session, select(Unit.id).where(write.clause(Unit.id)))
    assert visible == {tree.c1, tree.v1}
    read = authz.scope(officer, Action.ASSESSMENTS_READ)
    assert await read.unit_ids(session) == {tree.c1, tree.v1, tree.p2, tree.c2}
    national = authz.scope(principal((Role.VIEWER, None)), Action.UNITS_READ)
    assert national.national
    assert await national.unit_ids(session) is None
    nobody = authz.scope(None, Action.UNITS_READ)
    assert nobody.empty
    assert await _ids(session, select(Unit.id).where(nobody.clause(Unit.id))) == set()


async def test_lookups_are_cached_per_principal(session: AsyncSession, tree: Tree) -> None:
    officer = principal((Role.COMMUNE_OFFICER, tree.c1))
    await authz.allows(session, officer, Action.ASSESSMENTS_WRITE, unit_id=tree.v1)
    assert ("ancestors", tree.v1) in officer.cache
