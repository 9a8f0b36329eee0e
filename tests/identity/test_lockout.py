"""The sign-in limits hold under concurrency, behind proxies and against client-id lockouts.

The concurrent tests commit for real (each request on its own connection, as under a server):
they use their own app over the shared engine, a user of their own, a source address of their
own, and remove what they wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncEngine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.cli import serve_options
from app.config import Settings
from app.db.engine import Database
from app.identity.service import auth
from app.identity.service.auth import ADDRESS_FACTOR, CLIENT_GLOBAL_FACTOR
from app.main import create_app
from app.models.identity import LoginFailure, User
from app.models.system import AuditRecord
from tests.identity.helpers import TOKEN_URL, assert_problem, create_user, password_token

WRONG = "Wrong-horse-7"
RIGHT = "Test-password-1"  # the password of tests.conftest's shared hash


def _transport(app: Any, address: str) -> ASGITransport:
    return ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification the service runs (a real one or the dummy)."""
    seen: list[str] = []
    verify, burn = auth.verify_password, auth.burn_verification

    def counted_verify(password_hash: str, password: str) -> bool:
        seen.append(password)
        return verify(password_hash, password)

    def counted_burn(password: str) -> None:
        seen.append(password)
        burn(password)

    monkeypatch.setattr(auth, "verify_password", counted_verify)
    monkeypatch.setattr(auth, "burn_verification", counted_burn)
    return seen


@pytest.fixture
async def committed_user(
    engine: AsyncEngine, settings: Settings, test_password_hash: str
) -> AsyncIterator[tuple[FastAPI, str, str]]:
    """An app on the real engine (no test transaction), a committed user and an address."""
    database = Database(engine)
    username = f"burst-{uuid.uuid4().hex[:10]}"
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    user_id = uuid.uuid4()
    async with database.session() as session:
        session.add(
            User(
                id=user_id,
                username=username,
                display_name=username,
                password_hash=test_password_hash,
            )
        )
        await session.commit()
    try:
        yield create_app(settings, database=database), username, address
    finally:
        async with database.session() as session:
            await session.execute(
                delete(LoginFailure).where(
                    or_(LoginFailure.key == username, LoginFailure.key == address)
                )
            )
            await session.execute(delete(AuditRecord).where(AuditRecord.entity_id == str(user_id)))
            await session.execute(delete(User).where(User.id == user_id))
            await session.commit()


async def _burst(app: FastAPI, address: str, bodies: list[dict[str, str]]) -> list[Response]:
    """Send every body at once, each on its own client (and so its own database session)."""

    async def one(body: dict[str, str]) -> Response:
        async with AsyncClient(transport=_transport(app, address), base_url="http://t") as http:
            return await http.post(TOKEN_URL, data=body)

    return list(await asyncio.gather(*(one(b) for b in bodies)))


def _form(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


async def test_concurrent_wrong_passwords_get_at_most_the_limit_of_checks(
    committed_user: tuple[FastAPI, str, str], settings: Settings, checks: list[str]
) -> None:
    app, username, address = committed_user
    responses = await _burst(app, address, [_form(username, WRONG)] * 40)
    statuses = sorted(r.status_code for r in responses)
    assert len(checks) <= settings.login_max_failures, statuses
    assert statuses.count(400) == len(checks)
    assert statuses.count(429) == 40 - len(checks), statuses
    for response in responses:
        if response.status_code == 429:
            assert_problem(response, 429, "too_many_attempts")
            assert int(response.headers["retry-after"]) >= 1


async def test_a_burst_with_the_right_password_last_gets_no_token(
    committed_user: tuple[FastAPI, str, str], settings: Settings, checks: list[str]
) -> None:
    app, username, address = committed_user
    limit = settings.login_max_failures
    # The limit is used up by wrong passwords that were really checked, one after the other...
    first = [(await _burst(app, address, [_form(username, WRONG)]))[0] for _ in range(limit)]
    assert [r.status_code for r in first] == [400] * limit
    assert checks == [WRONG] * limit
    # ...then a burst arrives with the right password among the wrong ones: none is checked.
    # (A burst alone, on an account with no failures, may be held back as a whole: each attempt
    # is counted before the count is read. Nothing is checked then, so nothing is locked, and a
    # right password afterwards rightly signs in; that is why the limit is reached first here.)
    burst = await _burst(app, address, [_form(username, WRONG)] * 14 + [_form(username, RIGHT)])
    assert [r.status_code for r in burst] == [429] * 15
    assert checks == [WRONG] * limit
    assert "access_token" not in burst[-1].text


# --- forwarded addresses ------------------------------------------------------------------------


def _served(app: FastAPI, settings: Settings) -> Any:
    """The app as ``ntm serve`` runs it: behind uvicorn's proxy-header handling, configured by
    the same function."""
    options = serve_options(
        settings, argparse.Namespace(host="127.0.0.1", port=0, workers=1, forwarded_allow_ips=None)
    )
    if not options["proxy_headers"]:
        return app
    return ProxyHeadersMiddleware(app, trusted_hosts=options["forwarded_allow_ips"])


@pytest.mark.usefixtures("client")  # binds the app to the test's transaction
async def test_rotating_forwarded_for_does_not_escape_the_address_limit(
    app: FastAPI, settings: Settings
) -> None:
    limit = settings.login_max_failures * ADDRESS_FACTOR
    async with AsyncClient(
        transport=_transport(_served(app, settings), "127.0.0.1"), base_url="http://t"
    ) as http:
        statuses = []
        for attempt in range(limit + 3):
            response = await http.post(
                TOKEN_URL,
                data=_form(f"spray-{uuid.uuid4().hex[:8]}", WRONG),
                headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
            )
            statuses.append(response.status_code)
    assert statuses[:limit] == [400] * limit
    assert statuses[limit:] == [429] * 3


@pytest.mark.usefixtures("client")
async def test_a_configured_proxy_is_believed(app: FastAPI, settings: Settings) -> None:
    behind_proxy = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    limit = settings.login_max_failures * ADDRESS_FACTOR
    async with AsyncClient(
        transport=_transport(_served(app, behind_proxy), "127.0.0.1"), base_url="http://t"
    ) as http:
        for attempt in range(limit + 3):
            response = await http.post(
                TOKEN_URL,
                data=_form(f"spray-{uuid.uuid4().hex[:8]}", WRONG),
                headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
            )
            # Each forwarded address has failed once: none is held back.
            assert_problem(response, 400, "invalid_grant")


def test_serve_trusts_no_proxy_unless_configured(settings: Settings) -> None:
    args = argparse.Namespace(host="0.0.0.0", port=8000, workers=2, forwarded_allow_ips=None)
    default = serve_options(settings, args)
    assert default["proxy_headers"] is False
    assert default["forwarded_allow_ips"] == ""
    configured = serve_options(
        settings.model_copy(update={"trusted_proxies": ["10.0.0.5", "10.1.0.0/16"]}), args
    )
    assert configured["proxy_headers"] is True
    assert configured["forwarded_allow_ips"] == "10.0.0.5,10.1.0.0/16"
    dockerfile = (Path(__file__).parents[2] / "Dockerfile").read_text()
    assert "forwarded-allow-ips" not in dockerfile


def test_trusted_proxies_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTM_TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/24")
    assert Settings().trusted_proxies == ["10.0.0.5", "192.168.0.0/24"]
    monkeypatch.setenv("NTM_TRUSTED_PROXIES", "*")
    with pytest.raises(ValueError, match="not an IP address"):
        Settings()


# --- client secrets -----------------------------------------------------------------------------


async def _new_client(admin_client: AsyncClient) -> dict[str, str]:
    body = {
        "name": "Cổng dữ liệu tỉnh",
        "roles": [{"role": "integration_client", "resources": {"units": "read"}}],
    }
    response = await admin_client.post("/api/v1/clients", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


def _client_form(created: dict[str, str], secret: str | None = None) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": secret or created["client_secret"],
    }


@pytest.fixture
def from_address(app: FastAPI, client: AsyncClient) -> Callable[[str], AsyncClient]:
    del client  # requested for its binding of the app to the test's transaction
    return lambda address: AsyncClient(transport=_transport(app, address), base_url="http://t")


async def test_wrong_secrets_from_elsewhere_do_not_lock_out_the_client(
    admin_client: AsyncClient, settings: Settings, from_address: Callable[[str], AsyncClient]
) -> None:
    created = await _new_client(admin_client)
    async with from_address("203.0.113.66") as attacker, from_address("192.0.2.10") as owner:
        for _ in range(settings.login_max_failures):
            response = await attacker.post(TOKEN_URL, data=_client_form(created, "ntm_cs_guess"))
            assert_problem(response, 401, "invalid_client")
        # The attacker's address is held back, even with the right secret…
        assert_problem(
            await attacker.post(TOKEN_URL, data=_client_form(created)), 429, "too_many_attempts"
        )
        # …and the integration, from its own address, is not.
        response = await owner.post(TOKEN_URL, data=_client_form(created))
        assert response.status_code == 200, response.text


async def test_a_client_id_is_held_back_after_many_failures_from_many_addresses(
    admin_client: AsyncClient, settings: Settings, from_address: Callable[[str], AsyncClient]
) -> None:
    created = await _new_client(admin_client)
    per_address = settings.login_max_failures
    for index in range(CLIENT_GLOBAL_FACTOR):
        async with from_address(f"203.0.113.{index + 1}") as attacker:
            for _ in range(per_address):
                response = await attacker.post(TOKEN_URL, data=_client_form(created, "x"))
                assert_problem(response, 401, "invalid_client")
    async with from_address("192.0.2.10") as owner:
        held = await owner.post(TOKEN_URL, data=_client_form(created))
    assert_problem(held, 429, "too_many_attempts")
    retry_after = int(held.headers["retry-after"])
    assert settings.login_lockout_seconds < retry_after
    assert retry_after <= settings.login_lockout_seconds * auth.CLIENT_GLOBAL_WINDOW_FACTOR


async def test_a_password_failure_locks_the_account_for_every_address(
    admin_client: AsyncClient, settings: Settings, from_address: Callable[[str], AsyncClient]
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    for index in range(settings.login_max_failures):
        async with from_address(f"203.0.113.{index + 1}") as http:
            assert_problem(
                await password_token(http, user["username"], WRONG), 400, "invalid_grant"
            )
    async with from_address("192.0.2.10") as http:
        held = await password_token(http, user["username"], "Correct-horse-7")
    assert_problem(held, 429, "too_many_attempts")
