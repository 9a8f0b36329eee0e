"""The services behind `ntm users list`, `ntm clients list` and `ntm clients revoke`, on the test
database (SQLite and PostgreSQL); tests/identity/test_cli.py runs the commands themselves."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from app.core.errors import ProblemError
from app.db.engine import Database
from app.identity.service import setup
from tests.identity.helpers import TOKEN_URL, assert_problem, audit_of, create_user


async def test_revoking_a_client_stops_its_tokens_and_is_audited(
    client: AsyncClient, admin_client: AsyncClient, database: Database
) -> None:
    body = {
        "name": "Superset Hà Tĩnh",
        "roles": [{"role": "integration_client", "resources": {"units": "read"}}],
    }
    created = (await admin_client.post("/api/v1/clients", json=body)).json()
    credentials = {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],
    }
    token = (await client.post(TOKEN_URL, data=credentials)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200

    async with database.session() as session:
        listed = {c.client_id: c for c in await setup.all_clients(session)}
        assert listed[created["client_id"]].active is True
        assert [r.role for r in listed[created["client_id"]].roles] == ["integration_client"]
        revoked = await setup.revoke_client(session, uuid.UUID(created["id"]))
        await session.commit()
    assert revoked.active is False

    assert_problem(await client.get("/api/v1/me", headers=headers), 401, "invalid_token")
    assert_problem(await client.post(TOKEN_URL, data=credentials), 401, "invalid_client")
    async with database.session(read_only=True) as session:
        [*_, last] = await audit_of(session, "client", created["id"])
        assert (last.actor_kind, last.actor_name, last.action) == ("system", "cli", "update")
        assert last.before == {"name": "Superset Hà Tĩnh", "active": True}
        assert last.after == {"name": "Superset Hà Tĩnh", "active": False}
        listed = {c.client_id: c for c in await setup.all_clients(session)}
        assert listed[created["client_id"]].active is False


async def test_revoking_an_unknown_client_is_a_404_and_changes_nothing(database: Database) -> None:
    missing = uuid.uuid4()
    async with database.session() as session:
        with pytest.raises(ProblemError) as raised:
            await setup.revoke_client(session, missing)
        await session.rollback()
    assert raised.value.status == 404
    assert raised.value.code == "client_not_found"
    async with database.session(read_only=True) as session:
        assert await audit_of(session, "client", missing) == []


async def test_users_list_shows_every_person_with_roles(
    admin_client: AsyncClient, database: Database
) -> None:
    user = await create_user(admin_client)
    async with database.session(read_only=True) as session:
        users = await setup.all_users(session)
    names = [u.username for u in users]
    assert names == sorted(names)
    [listed] = [u for u in users if u.username == user["username"]]
    assert str(listed.id) == user["id"]
    assert listed.active is True
    assert [r.role for r in listed.roles] == [r["role"] for r in user["roles"]]
