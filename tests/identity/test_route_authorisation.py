"""Every write endpoint of the API, tried without a token, by a principal without the right, and
by one scoped elsewhere: 401, 403, 404, and nothing changes. Then by one allowed: it works and is
audited.

The routes come from the app itself, so a new write endpoint without a case here (or in
``tests/<feature>/authz_cases.py``) fails this test until its authorisation is described and
checked. See route_cases.py for how to add a case.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import tests
from app.config import Settings
from app.core.permissions import PERMISSIONS, USER_ROLES, Action, Role
from app.main import create_app
from app.models import Base
from app.models.system import AuditRecord
from tests.conftest import PrincipalFactory, TestPrincipal
from tests.identity.conftest import Tree
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Signing in is how a caller gets a token: it cannot require one.
EXEMPT = frozenset({("POST", "/api/v1/auth/token")})


def api_routes() -> list[tuple[str, str, APIRoute]]:
    """(method, path template, route) of every operation under /api/v1, as the app serves it."""
    app = create_app(Settings(database_url="sqlite+aiosqlite://"))
    found = []
    # Included routers are nested since FastAPI 0.1xx: iter_route_contexts flattens them.
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path_format
        if isinstance(route, APIRoute) and path and path.startswith("/api/v1/"):
            found += [(method, path, route) for method in sorted(context.methods or ())]
    return found


def write_routes() -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path, _ in api_routes()
        if method in WRITE_METHODS and (method, path) not in EXEMPT
    )


def all_cases() -> dict[tuple[str, str], RouteCase]:
    """Every ``CASES`` of the modules ``tests/<feature>/authz_cases*.py``."""
    cases: dict[tuple[str, str], RouteCase] = {}
    for package in pkgutil.iter_modules(tests.__path__):
        if not package.ispkg:
            continue
        folder = importlib.import_module(f"tests.{package.name}")
        for module in pkgutil.iter_modules(folder.__path__):
            if not module.name.startswith("authz_cases"):
                continue
            found = importlib.import_module(f"tests.{package.name}.{module.name}")
            for key, case in found.CASES.items():
                assert key not in cases, f"two cases for {key}"
                cases[key] = case
    return cases


ROUTES = write_routes()
CASES = all_cases()


def holder_role(action: Action) -> Role:
    """The least privileged role that allows ``action``."""
    holders = [role for role in USER_ROLES if action in PERMISSIONS[role]]
    return min(holders, key=lambda role: (len(PERMISSIONS[role]), role.value))


def lacking_role(action: Action) -> Role:
    """The most privileged role that does not allow ``action``."""
    lacking = [role for role in USER_ROLES if action not in PERMISSIONS[role]]
    return max(lacking, key=lambda role: (len(PERMISSIONS[role]), role.value))


async def state(session: AsyncSession) -> dict[str, tuple[Any, ...]]:
    """Row counts of every table and, where kept, the latest change."""
    snapshot = {}
    for table in Base.metadata.sorted_tables:
        columns: list[Any] = [func.count()]
        if "updated_at" in table.c:
            columns.append(func.max(table.c.updated_at))
        if table.name == AuditRecord.__tablename__:
            columns.append(func.max(table.c.seq))
        row = (await session.execute(select(*columns).select_from(table))).one()
        snapshot[table.name] = tuple(row)
    return snapshot


async def send(client: AsyncClient, method: str, call: Call, who: TestPrincipal | None) -> Response:
    headers = {**call.headers, **(who.headers if who else {})}
    return await client.request(
        method,
        call.path,
        json=call.json,
        data=call.data,
        files=call.files,
        params=call.params,
        headers=headers,
    )


def expect(response: Response, status: int, what: str, code: str | None = None) -> None:
    assert response.status_code == status, f"{what}: {response.status_code} {response.text}"
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), what
        if code is not None:
            assert response.json()["code"] == code, f"{what}: {response.text}"


def test_every_write_route_has_a_case() -> None:
    missing = [f"{method} {path}" for method, path in ROUTES if (method, path) not in CASES]
    assert not missing, (
        "write routes without an authorisation case (add them to tests/<feature>/authz_cases.py; "
        "see tests/identity/route_cases.py): " + ", ".join(missing)
    )


def test_no_case_for_a_route_that_is_gone() -> None:
    stale = sorted(set(CASES) - set(ROUTES))
    assert not stale, f"cases for routes that no longer exist: {stale}"


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_write_route_is_enforced(
    method: str,
    path: str,
    client: AsyncClient,
    admin_client: AsyncClient,
    session: AsyncSession,
    tree: Tree,
    make_principal: PrincipalFactory,
) -> None:
    case = CASES.get((method, path))
    if case is None:
        pytest.fail(
            f"no authorisation case for {method} {path}: see test_every_write_route_has_a_case"
        )
    env = Env(
        admin=admin_client, client=client, session=session, tree=tree, make_principal=make_principal
    )
    what = f"{method} {path}"

    if case.kind is Kind.SELF:
        owner = await make_principal(Role.VIEWER, unit_id=tree.c1)
        target = Target(owner=owner)
        call = await case.build(env, target)
        assert case.foreign is not None, f"{what}: a self-service case needs `foreign`"
        foreign_call, stranger, foreign_status = await case.foreign(env, target)
        allowed = owner
        before = await state(session)
        expect(await send(client, method, call, None), 401, f"{what} without a token")
        expect(
            await send(client, method, foreign_call, stranger),
            foreign_status,
            f"{what} on another's things",
        )
    else:
        assert case.action is not None, f"{what}: name the action it requires"
        action = case.action
        home = getattr(tree, case.home) if case.kind is Kind.UNIT else None
        target = Target(unit_id=home)
        call = await case.build(env, target)
        lacking = await make_principal(lacking_role(action))
        client_lacking = await make_principal(
            Role.INTEGRATION_CLIENT, kind="client", resources={action.resource: "read"}
        )
        if case.kind is Kind.UNIT:
            elsewhere = await make_principal(
                holder_role(action), unit_id=getattr(tree, case.elsewhere)
            )
            allowed = await make_principal(holder_role(action), unit_id=home)
        else:
            elsewhere = await make_principal(holder_role(action), unit_id=tree.c1)
            allowed = await make_principal(holder_role(action))
        before = await state(session)

        response = await send(client, method, call, None)
        expect(response, 401, f"{what} without a token", "not_authenticated")
        assert response.headers["www-authenticate"].startswith("Bearer"), what
        expect(
            await send(client, method, call, lacking),
            403,
            f"{what} by {lacking_role(action)}",
            "forbidden",
        )
        expect(
            await send(client, method, call, client_lacking),
            403,
            f"{what} by a client with read access only",
            "forbidden",
        )
        response = await send(client, method, call, elsewhere)
        if case.kind is Kind.UNIT:
            status = case.hidden_status
            expect(response, status, f"{what} by a {holder_role(action)} of another commune")
            body = response.json()
            code = body["code"] if status == 404 else body["errors"][0]["type"]
            assert code.endswith("_not_found"), response.text
        else:
            expect(response, 403, f"{what} by a {holder_role(action)} of one commune", "forbidden")

    assert await state(session) == before, f"{what}: a refused call changed the database"

    response = await send(client, method, call, allowed)
    assert response.status_code in case.ok, f"{what} by an allowed principal: {response.text}"
    audited = await session.scalar(
        select(func.count()).select_from(AuditRecord).where(AuditRecord.actor_id == allowed.id)
    )
    assert audited, f"{what}: the write left no audit record by its author"
