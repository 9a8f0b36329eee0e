"""Failed logins are limited per account and per address; passwords follow the policy."""

from __future__ import annotations

import logging
import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.identity.passwords import password_problems
from app.identity.service.auth import ADDRESS_FACTOR
from app.models.identity import LoginFailure
from tests.identity.helpers import TOKEN_URL, assert_problem, create_user, login, password_token


async def test_account_is_held_back_after_repeated_failures(
    client: AsyncClient, admin_client: AsyncClient, settings: Settings, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    for _ in range(settings.login_max_failures):
        assert_problem(
            await password_token(client, user["username"], "Wrong-horse-7"), 400, "invalid_grant"
        )
    # Kept in the database (committed although the request failed), so every worker counts them.
    stored = await session.scalar(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.key == user["username"])
    )
    assert stored == settings.login_max_failures
    held = await password_token(client, user["username"], "Correct-horse-7")
    body = assert_problem(held, 429, "too_many_attempts")
    assert body["error"] == "invalid_grant"
    assert 1 <= int(held.headers["retry-after"]) <= settings.login_lockout_seconds


async def test_unknown_accounts_are_held_back_the_same_way(
    client: AsyncClient, settings: Settings
) -> None:
    username = "ghost-" + uuid.uuid4().hex[:6]
    for _ in range(settings.login_max_failures):
        assert_problem(
            await password_token(client, username, "Wrong-horse-7"), 400, "invalid_grant"
        )
    assert_problem(
        await password_token(client, username, "Wrong-horse-7"), 429, "too_many_attempts"
    )


async def test_success_resets_the_account_count(
    client: AsyncClient, admin_client: AsyncClient, settings: Settings
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    for _ in range(settings.login_max_failures - 1):
        await password_token(client, user["username"], "Wrong-horse-7")
    await login(client, user["username"], "Correct-horse-7")
    for _ in range(settings.login_max_failures - 1):
        await password_token(client, user["username"], "Wrong-horse-7")
    await login(client, user["username"], "Correct-horse-7")


async def test_an_address_is_held_back_across_accounts(
    client: AsyncClient, admin_client: AsyncClient, settings: Settings
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    for _ in range(settings.login_max_failures * ADDRESS_FACTOR):
        username = "spray-" + uuid.uuid4().hex[:8]
        assert_problem(
            await password_token(client, username, "Wrong-horse-7"), 400, "invalid_grant"
        )
    # The address is held back, even for a right password of another account.
    assert_problem(
        await password_token(client, user["username"], "Correct-horse-7"), 429, "too_many_attempts"
    )
    clients = await client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": str(uuid.uuid4()),
            "client_secret": "x",
        },
    )
    assert_problem(clients, 429, "too_many_attempts")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short-1", "at least"),
        ("alllowercaseletters", "two kinds"),
        ("1234567890123", "two kinds"),
        ("xXxXxXxXxXxX", "repeat"),
        ("Nguyenvana-2024", "username"),
    ],
)
def test_password_policy(password: str, rule: str) -> None:
    problems = password_problems(password, username="nguyenvana", min_length=10)
    assert any(rule in problem for problem in problems), problems


def test_good_passwords_pass() -> None:
    assert password_problems("Correct-horse-7", username="someone", min_length=10) == []
    assert password_problems("mật khẩu dài 2024", username="someone", min_length=10) == []


async def test_weak_passwords_are_refused_with_422(
    admin_client: AsyncClient, client: AsyncClient
) -> None:
    response = await admin_client.post(
        "/api/v1/users",
        json={"username": "weakling", "display_name": "W", "password": "weakling123"},
    )
    body = assert_problem(response, 422, "weak_password")
    assert body["errors"][0]["loc"] == ["body", "password"]
    assert body["errors"][0]["type"] == "weak_password"
    assert "weakling123" not in response.text

    user = await create_user(admin_client, password="Correct-horse-7")
    headers = await login(client, user["username"], "Correct-horse-7")
    weak = await client.post(
        "/api/v1/me/password",
        json={"current_password": "Correct-horse-7", "new_password": "aaaaaaaaaaaa"},
        headers=headers,
    )
    assert_problem(weak, 422, "weak_password")


async def test_changing_my_password(
    client: AsyncClient, admin_client: AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    headers = await login(client, user["username"], "Correct-horse-7")
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "Wrong-horse-7", "new_password": "Battery-staple-8"},
        headers=headers,
    )
    assert_problem(wrong, 422, "wrong_password")
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": "Correct-horse-7", "new_password": "Battery-staple-8"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    assert_problem(
        await password_token(client, user["username"], "Correct-horse-7"), 400, "invalid_grant"
    )
    await login(client, user["username"], "Battery-staple-8")


async def test_no_secret_reaches_the_logs_or_later_responses(
    client: AsyncClient, admin_client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Our loggers at every level; libraries at INFO (at DEBUG, drivers print SQL parameters).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="app")
    user = await create_user(admin_client, password="Correct-horse-7")
    headers = await login(client, user["username"], "Correct-horse-7")
    await password_token(client, user["username"], "Wrong-horse-7")
    created = (await admin_client.post("/api/v1/clients", json={"name": "BI"})).json()
    secret = created["client_secret"]
    await client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": created["id"],
            "client_secret": secret,
        },
    )
    pat = (await client.post("/api/v1/me/tokens", json={"name": "t"}, headers=headers)).json()
    token = headers["Authorization"].removeprefix("Bearer ")
    later = [
        await admin_client.get(f"/api/v1/users/{user['id']}"),
        await admin_client.get("/api/v1/users"),
        await admin_client.get(f"/api/v1/clients/{created['id']}"),
        await admin_client.get("/api/v1/clients"),
        await client.get("/api/v1/me/tokens", headers=headers),
        await admin_client.get("/api/v1/audit", params={"limit": 500}),
    ]
    secrets = ["Correct-horse-7", "Wrong-horse-7", secret, pat["token"], token, "argon2"]
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    for value in secrets:
        assert value not in logged
        for response in later:
            assert response.status_code == 200, response.text
            assert value not in response.text
