"""A signed-in user's identity is one statement per request, and revocations still act at once
(issue 16: authentication was three queries on every request)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.permissions import Role
from app.core.security import resolve_token
from app.db.engine import Database
from tests.identity.conftest import Tree
from tests.identity.helpers import assert_problem, create_user, login


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The test's outer transaction shows as SAVEPOINTs; only queries count.
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            sent.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def test_a_users_identity_is_one_statement_and_revocations_act_at_once(
    admin_client: AsyncClient,
    client: AsyncClient,
    session: AsyncSession,
    database: Database,
    settings: Settings,
    tree: Tree,
) -> None:
    user = await create_user(admin_client)
    roles = f"/api/v1/users/{user['id']}/roles"
    district = await admin_client.post(
        roles, json={"role": "district_officer", "unit_id": str(tree.d1)}
    )
    assert district.status_code == 201, district.text
    viewer = await admin_client.post(roles, json={"role": "viewer"})
    assert viewer.status_code == 201, viewer.text
    future = await admin_client.post(
        roles, json={"role": "viewer", "unit_id": str(tree.p1), "valid_from": "2999-01-01"}
    )
    assert future.status_code == 201, future.text
    headers = await login(client, user["username"], "Correct-horse-7")
    token = headers["Authorization"].removeprefix("Bearer ")

    with statements(database) as sent:
        principal = await resolve_token(session, settings, token)
    assert len(sent) == 1, sent
    assert str(principal.id) == user["id"]
    assert sorted((g.role, g.unit_id) for g in principal.grants) == sorted(
        [(Role.DISTRICT_OFFICER, tree.d1), (Role.VIEWER, None)]
    )

    # A revoked assignment is gone from the very next request.
    assert (await admin_client.delete(f"{roles}/{district.json()['id']}")).status_code == 204
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert {r["role"] for r in me["roles"]} == {"viewer"}

    # A user without any active grant is still themselves (one row of nulls).
    assert (await admin_client.delete(f"{roles}/{viewer.json()['id']}")).status_code == 204
    with statements(database) as sent:
        principal = await resolve_token(session, settings, token)
    assert len(sent) == 1
    assert principal.grants == ()

    # A revoked token, then a deactivated account: refused at once.
    other = await login(client, user["username"], "Correct-horse-7")
    revoked = await client.post("/api/v1/auth/revoke", data={"token": token}, headers=other)
    assert revoked.status_code == 200, revoked.text
    assert_problem(await client.get("/api/v1/me", headers=headers), 401, "invalid_token")
    assert (await client.get("/api/v1/me", headers=other)).status_code == 200
    deactivated = await admin_client.post(f"/api/v1/users/{user['id']}/deactivate")
    assert deactivated.status_code == 200, deactivated.text
    assert_problem(await client.get("/api/v1/me", headers=other), 401, "invalid_token")
