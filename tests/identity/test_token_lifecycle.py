"""A changed or reset password ends earlier sessions; revoking needs an equal or stronger grant;
one id names one principal, person or client."""

from __future__ import annotations

import uuid

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.identity import Client, User
from tests.identity.helpers import assert_problem, create_user, login

PASSWORD = "Correct-horse-7"
NEW_PASSWORD = "Battery-staple-9"


async def test_changing_my_password_revokes_earlier_tokens(
    client: AsyncClient, admin_client: AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password=PASSWORD)
    caller = await login(client, user["username"], PASSWORD)
    other_session = await login(client, user["username"], PASSWORD)
    pat = await client.post(
        "/api/v1/me/tokens", json={"name": "report", "read_only": True}, headers=caller
    )
    assert pat.status_code == 201, pat.text

    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=caller,
    )
    assert changed.status_code == 204, changed.text

    for headers in (caller, other_session):
        response = await client.get("/api/v1/me", headers=headers)
        assert_problem(response, 401, "invalid_token")
        assert "thu hồi" in response.json()["detail"]  # revoked
    fresh = await login(client, user["username"], NEW_PASSWORD)
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200
    # Personal access tokens are credentials of their own, listed and revoked one by one.
    pat_headers = {"Authorization": f"Bearer {pat.json()['token']}"}
    assert (await client.get("/api/v1/me", headers=pat_headers)).status_code == 200
    stored = await session.scalar(select(User).where(User.id == uuid.UUID(user["id"])))
    assert stored is not None
    assert stored.token_generation == 1


async def test_an_administrators_password_reset_revokes_earlier_tokens(
    client: AsyncClient, admin_client: AsyncClient
) -> None:
    user = await create_user(admin_client, password=PASSWORD)
    headers = await login(client, user["username"], PASSWORD)
    renamed = await admin_client.patch(
        f"/api/v1/users/{user['id']}", json={"display_name": "Trần Thị B"}
    )
    assert renamed.status_code == 200, renamed.text
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200

    reset = await admin_client.patch(f"/api/v1/users/{user['id']}", json={"password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text
    assert_problem(await client.get("/api/v1/me", headers=headers), 401, "invalid_token")
    assert (
        await client.get("/api/v1/me", headers=await login(client, user["username"], NEW_PASSWORD))
    ).status_code == 200


async def test_a_read_only_token_cannot_revoke_a_stronger_one(
    client: AsyncClient, admin_client: AsyncClient
) -> None:
    user = await create_user(admin_client, password=PASSWORD)
    session_headers = await login(client, user["username"], PASSWORD)
    session_token = session_headers["Authorization"].removeprefix("Bearer ")
    reader = await client.post(
        "/api/v1/me/tokens", json={"name": "reader"}, headers=session_headers
    )
    writer = await client.post(
        "/api/v1/me/tokens", json={"name": "writer", "read_only": False}, headers=session_headers
    )
    other_reader = await client.post(
        "/api/v1/me/tokens", json={"name": "reader 2"}, headers=session_headers
    )
    reader_headers = {"Authorization": f"Bearer {reader.json()['token']}"}
    writer_headers = {"Authorization": f"Bearer {writer.json()['token']}"}
    # First uses (a token's last use is recorded, which is not a change to audit).
    for headers in (reader_headers, writer_headers):
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200

    for token in (session_token, writer.json()["token"]):
        answer = await client.post(
            "/api/v1/auth/revoke", data={"token": token}, headers=reader_headers
        )
        assert answer.status_code == 200  # RFC 7009 §2.2, whatever was done
    assert (await client.get("/api/v1/me", headers=session_headers)).status_code == 200
    assert (await client.get("/api/v1/me", headers=writer_headers)).status_code == 200

    # The same grant suffices: a read-only token revokes a read-only one.
    other = other_reader.json()["token"]
    revoked = await client.post(
        "/api/v1/auth/revoke", data={"token": other}, headers=reader_headers
    )
    assert revoked.status_code == 200
    other_headers = {"Authorization": f"Bearer {other}"}
    assert_problem(await client.get("/api/v1/me", headers=other_headers), 401, "invalid_token")
    # A token that may write revokes the session.
    by_writer = await client.post(
        "/api/v1/auth/revoke", data={"token": session_token}, headers=writer_headers
    )
    assert by_writer.status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=session_headers), 401, "invalid_token")


async def test_a_client_cannot_take_a_users_id_nor_a_user_a_clients(
    admin_client: AsyncClient, admin: object, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password=PASSWORD)
    taken = await admin_client.post(
        "/api/v1/clients",
        json={
            "id": user["id"],
            "name": "Mạo danh",
            "roles": [{"role": "integration_client", "resources": {"units": "read"}}],
        },
    )
    body = assert_problem(taken, 409, "client_id_taken")
    assert user["id"] in body["detail"]
    assert await session.get(Client, uuid.UUID(user["id"])) is None

    created = await admin_client.post(
        "/api/v1/clients",
        json={
            "name": "Cổng dữ liệu",
            "roles": [{"role": "integration_client", "resources": {"units": "read"}}],
        },
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["id"]
    clash = await admin_client.post(
        "/api/v1/users",
        json={
            "id": client_id,
            "username": f"u{uuid.uuid4().hex[:8]}",
            "display_name": "Mạo danh",
            "password": PASSWORD,
        },
    )
    assert_problem(clash, 409, "user_id_taken")
    assert await session.get(User, uuid.UUID(client_id)) is None
