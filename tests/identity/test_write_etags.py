"""Identity writes answer the ETag a following GET returns (issue #11 item 1).

People and clients count their writes in ``revision`` (migration 0014); their role assignments
are part of them (a grant or a revocation raises the holder's revision). A role assignment and a
personal access token have their own GET, and their creation answers their ETag.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.service import AuditContext
from app.config import Settings
from app.core.errors import PreconditionFailed
from app.db.engine import Database
from app.identity.schemas import UserUpdate
from app.identity.service import accounts
from app.models.identity import Client, User
from app.models.system import AuditRecord, OutboxEvent
from tests.conftest import TestPrincipal
from tests.identity.conftest import Tree
from tests.identity.helpers import assert_problem, create_user, login

USERS = "/api/v1/users"
CLIENTS = "/api/v1/clients"
PASSWORD = "Correct-horse-7"
CONTEXT = AuditContext.system("concurrency-test")


async def _user_revision(session: AsyncSession, user_id: str) -> int:
    return int(await session.scalar(select(User.revision).where(User.id == uuid.UUID(user_id))))


async def _client_revision(session: AsyncSession, client_id: str) -> int:
    statement = select(Client.revision).where(Client.id == uuid.UUID(client_id))
    return int(await session.scalar(statement))


async def _etag(client: AsyncClient, url: str) -> str:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    etag: str = response.headers["etag"]
    assert not etag.startswith("W/")
    return etag


async def test_user_writes_answer_the_etag_a_get_returns(
    admin_client: AsyncClient, session: AsyncSession, tree: Tree
) -> None:
    created = await admin_client.post(
        USERS, json={"username": "etag.user", "display_name": "Lê Văn E", "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    url = f"{USERS}/{user_id}"
    assert created.headers["etag"] == await _etag(admin_client, url)
    assert await _user_revision(session, user_id) == 1

    patched = await admin_client.patch(
        url, json={"display_name": "Lê Văn Em"}, headers={"If-Match": created.headers["etag"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] != created.headers["etag"]
    assert patched.headers["etag"] == await _etag(admin_client, url)
    assert await _user_revision(session, user_id) == 2

    # A role granted: the assignment answers its own tag (and Location), the person's changes.
    granted = await admin_client.post(
        f"{url}/roles", json={"role": "commune_officer", "unit_id": str(tree.c1)}
    )
    assert granted.status_code == 201, granted.text
    role_url = f"{url}/roles/{granted.json()['id']}"
    assert granted.headers["location"] == role_url
    assert granted.headers["etag"] == await _etag(admin_client, role_url)
    assert (await admin_client.get(role_url)).json() == granted.json()
    cached = await admin_client.get(role_url, headers={"If-None-Match": granted.headers["etag"]})
    assert cached.status_code == 304
    assert await _user_revision(session, user_id) == 3
    with_role = await _etag(admin_client, url)
    assert with_role != patched.headers["etag"]

    # The tag read before the grant is stale now: nothing is written.
    stale = await admin_client.patch(
        url, json={"display_name": "X"}, headers={"If-Match": patched.headers["etag"]}
    )
    assert_problem(stale, 412, "precondition_failed")
    assert stale.json()["current_etag"] == with_role
    assert await _user_revision(session, user_id) == 3

    # Revoking changes the assignment and the person.
    revoked = await admin_client.delete(role_url)
    assert revoked.status_code == 204, revoked.text
    after_revoke = await admin_client.get(role_url)
    assert after_revoke.json()["active"] is False
    assert after_revoke.headers["etag"] != granted.headers["etag"]
    assert await _etag(admin_client, url) != with_role
    assert await _user_revision(session, user_id) == 4

    current = await _etag(admin_client, url)
    deactivated = await admin_client.post(f"{url}/deactivate", headers={"If-Match": current})
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False
    assert deactivated.headers["etag"] == await _etag(admin_client, url)
    reactivated = await admin_client.patch(
        url, json={"active": True}, headers={"If-Match": deactivated.headers["etag"]}
    )
    assert reactivated.status_code == 200, reactivated.text
    assert reactivated.headers["etag"] == await _etag(admin_client, url)


async def test_an_unchanged_user_keeps_its_etag(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(admin_client, display_name="Phạm Thị F")
    url = f"{USERS}/{user['id']}"
    etag = await _etag(admin_client, url)
    same = await admin_client.patch(
        url, json={"display_name": "Phạm Thị F"}, headers={"If-Match": etag}
    )
    assert same.status_code == 200, same.text
    assert same.headers["etag"] == etag
    assert await _user_revision(session, user["id"]) == 1


async def test_sign_in_and_password_change_change_the_users_etag(
    admin_client: AsyncClient, client: AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password=PASSWORD)
    url = f"{USERS}/{user['id']}"
    created = await _etag(admin_client, url)

    # `last_login_at` is shown, so a sign-in changes the representation and its tag.
    headers = await login(client, user["username"], PASSWORD)
    signed_in = await _etag(admin_client, url)
    assert signed_in != created
    assert await _user_revision(session, user["id"]) == 1

    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "Another-horse-8"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    assert await _user_revision(session, user["id"]) == 2
    after = await _etag(admin_client, url)
    assert after != signed_in
    stale = await admin_client.patch(
        url, json={"display_name": "X"}, headers={"If-Match": signed_in}
    )
    assert_problem(stale, 412, "precondition_failed")
    fresh = await admin_client.patch(url, json={"display_name": "X"}, headers={"If-Match": after})
    assert fresh.status_code == 200, fresh.text


async def test_client_writes_answer_the_etag_a_get_returns(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    created = await admin_client.post(CLIENTS, json={"name": "Cổng dữ liệu tỉnh"})
    assert created.status_code == 201, created.text
    client_id = created.json()["id"]
    url = f"{CLIENTS}/{client_id}"
    assert created.headers["location"] == url
    assert created.headers["etag"] == await _etag(admin_client, url)

    rotated = await admin_client.post(f"{url}/secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["etag"] != created.headers["etag"]
    assert rotated.headers["etag"] == await _etag(admin_client, url)
    assert await _client_revision(session, client_id) == 2

    stale = await admin_client.patch(
        url, json={"name": "X"}, headers={"If-Match": created.headers["etag"]}
    )
    assert_problem(stale, 412, "precondition_failed")
    renamed = await admin_client.patch(
        url, json={"name": "Cổng dữ liệu"}, headers={"If-Match": rotated.headers["etag"]}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] == await _etag(admin_client, url)

    granted = await admin_client.post(
        f"{url}/roles",
        json={"role": "integration_client", "resources": {"units": "read"}},
    )
    assert granted.status_code == 201, granted.text
    role_url = f"{url}/roles/{granted.json()['id']}"
    assert granted.headers["location"] == role_url
    assert granted.headers["etag"] == await _etag(admin_client, role_url)
    assert await _etag(admin_client, url) != renamed.headers["etag"]
    assert await _client_revision(session, client_id) == 4


async def test_a_personal_access_token_answers_its_etag(
    client: AsyncClient, admin_client: AsyncClient
) -> None:
    user = await create_user(admin_client, password=PASSWORD)
    headers = await login(client, user["username"], PASSWORD)
    created = await client.post(
        "/api/v1/me/tokens", json={"name": "Power BI", "expires_in_days": 30}, headers=headers
    )
    assert created.status_code == 201, created.text
    token_url = f"/api/v1/me/tokens/{created.json()['id']}"
    assert created.headers["location"] == token_url
    got = await client.get(token_url, headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["etag"] == created.headers["etag"]
    assert "token" not in got.json()
    assert got.json()["prefix"] == created.json()["prefix"]
    cached = await client.get(
        token_url, headers={**headers, "If-None-Match": created.headers["etag"]}
    )
    assert cached.status_code == 304

    revoked = await client.delete(token_url, headers=headers)
    assert revoked.status_code == 204
    after = await client.get(token_url, headers=headers)
    assert after.json()["revoked_at"] is not None
    assert after.headers["etag"] != created.headers["etag"]


async def test_another_persons_token_and_role_are_absent(
    client: AsyncClient, admin_client: AsyncClient, admin: TestPrincipal, tree: Tree
) -> None:
    owner = await create_user(admin_client, password=PASSWORD)
    other = await create_user(admin_client, password=PASSWORD)
    owner_headers = await login(client, owner["username"], PASSWORD)
    other_headers = await login(client, other["username"], PASSWORD)
    token = await client.post("/api/v1/me/tokens", json={"name": "x"}, headers=owner_headers)
    assert token.status_code == 201, token.text
    foreign = await client.get(f"/api/v1/me/tokens/{token.json()['id']}", headers=other_headers)
    assert_problem(foreign, 404, "access_token_not_found")

    granted = await admin_client.post(
        f"{USERS}/{owner['id']}/roles", json={"role": "viewer", "unit_id": str(tree.c1)}
    )
    assert granted.status_code == 201, granted.text
    elsewhere = await admin_client.get(f"{USERS}/{other['id']}/roles/{granted.json()['id']}")
    assert_problem(elsewhere, 404, "role_assignment_not_found")
    # Managing accounts needs users:manage: the owner may not read their own assignment here.
    refused = await client.get(
        f"{USERS}/{owner['id']}/roles/{granted.json()['id']}", headers=owner_headers
    )
    assert refused.status_code == 403


async def test_one_of_two_concurrent_if_match_user_updates_wins(
    engine: AsyncEngine, settings: Settings, test_password_hash: str
) -> None:
    """Two administrators read the same ETag and write: the second waits on the row lock
    (PostgreSQL; SQLite serialises writers) and then fails If-Match against the first's write."""
    database = Database(engine)
    user_id = uuid.uuid4()
    async with database.session() as session:
        session.add(
            User(
                id=user_id,
                username=f"race-{user_id.hex[:8]}",
                display_name="Race",
                password_hash=test_password_hash,
            )
        )
        await session.commit()
    async with database.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        etag = accounts.user_etag(user)

    def rename(name: str) -> Callable[[AsyncSession], Awaitable[object]]:
        def run(session: AsyncSession) -> Awaitable[object]:
            body = UserUpdate(display_name=name)
            return accounts.update_user(session, settings, None, CONTEXT, user_id, body, etag)

        return run

    try:
        async with database.sessionmaker() as first, database.sessionmaker() as second:
            await rename("first")(first)
            if database.dialect == "postgresql":
                racing = asyncio.create_task(rename("second")(second))
                await asyncio.sleep(0.5)
                assert not racing.done(), "the second writer must wait on the row lock"
                await first.commit()
                with pytest.raises(PreconditionFailed):
                    await racing
            else:
                await first.commit()
                with pytest.raises(PreconditionFailed):
                    await rename("second")(second)
            await second.rollback()
        async with database.session() as session:
            stored = await session.get(User, user_id)
            assert stored is not None
            assert (stored.display_name, stored.revision) == ("first", 2)
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.entity_id == str(user_id))
            )
            assert audited == 1
    finally:
        async with database.session() as session:
            await session.execute(delete(AuditRecord).where(AuditRecord.entity_id == str(user_id)))
            await session.execute(delete(OutboxEvent).where(OutboxEvent.entity_id == str(user_id)))
            await session.execute(delete(User).where(User.id == user_id))
            await session.commit()
