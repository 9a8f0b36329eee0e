from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import Body, FastAPI, Response
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.audit.service import AuditContext, record
from app.config import Settings
from app.core.permissions import Role
from app.core.security import CurrentPrincipal, PrincipalKind, issue_access_token
from app.db.engine import Database
from app.db.session import SessionDep
from app.main import create_app
from app.models.system import AuditRecord, IdempotencyRecord
from tests.conftest import PrincipalFactory


@pytest.fixture
async def echo_client(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    app: FastAPI = create_app(settings, database=database)

    @app.post("/api/v1/_echo", status_code=201)
    async def echo(session: SessionDep, payload: dict[str, Any] = Body()) -> dict[str, Any]:
        await record(
            session,
            AuditContext.system("test"),
            entity="echo",
            entity_id="1",
            action="create",
            after=payload,
        )
        await session.commit()
        count = await session.scalar(select(func.count()).select_from(AuditRecord))
        return {"payload": payload, "writes": count}

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def _audit_count(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


async def test_same_key_and_body_replays_the_first_response(
    echo_client: AsyncClient, database: Database
) -> None:
    before = await _audit_count(database)
    headers = {"Idempotency-Key": "k-1"}
    first = await echo_client.post("/api/v1/_echo", json={"a": 1}, headers=headers)
    second = await echo_client.post("/api/v1/_echo", json={"a": 1}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await _audit_count(database) == before + 1


async def test_same_key_with_another_body_is_422(
    echo_client: AsyncClient, database: Database
) -> None:
    headers = {"Idempotency-Key": "k-2"}
    assert (
        await echo_client.post("/api/v1/_echo", json={"a": 1}, headers=headers)
    ).status_code == 201
    before = await _audit_count(database)
    other = await echo_client.post("/api/v1/_echo", json={"a": 2}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert await _audit_count(database) == before


async def test_keys_are_scoped_to_the_principal_not_the_token(
    echo_client: AsyncClient,
    database: Database,
    settings: Settings,
    make_principal: PrincipalFactory,
) -> None:
    """A retry under a refreshed token of the same client replays; another principal with the
    same key runs its own request."""
    integration = await make_principal(Role.INTEGRATION_CLIENT, kind="client")
    refreshed = issue_access_token(
        settings,
        subject=integration.id,
        kind=PrincipalKind.CLIENT,
        client_id=str(integration.id),
    ).token
    other = await make_principal(Role.VIEWER)
    before = await _audit_count(database)
    key = {"Idempotency-Key": "k-3"}
    first = await echo_client.post(
        "/api/v1/_echo", json={"a": 1}, headers={**key, **integration.headers}
    )
    retry = await echo_client.post(
        "/api/v1/_echo",
        json={"a": 1},
        headers={**key, "Authorization": f"Bearer {refreshed}"},
    )
    assert first.status_code == retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    theirs = await echo_client.post(
        "/api/v1/_echo", json={"a": 1}, headers={**key, **other.headers}
    )
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert await _audit_count(database) == before + 2
    async with database.session(read_only=True) as session:
        scopes = set(
            (
                await session.scalars(
                    select(IdempotencyRecord.scope).where(IdempotencyRecord.key == "k-3")
                )
            ).all()
        )
    assert scopes == {f"principal:{integration.id}", f"principal:{other.id}"}


async def test_a_key_still_in_flight_is_409(
    echo_client: AsyncClient, database: Database, make_principal: PrincipalFactory
) -> None:
    caller = await make_principal(Role.VIEWER)
    body = b'{"a": 1}'
    async with database.session() as session:
        # The pending row the first request leaves while it runs.
        session.add(
            IdempotencyRecord(
                scope=f"principal:{caller.id}",
                key="k-flight",
                method="POST",
                path="/api/v1/_echo",
                body_hash=hashlib.sha256(body).hexdigest(),
            )
        )
        await session.commit()
    before = await _audit_count(database)
    response = await echo_client.post(
        "/api/v1/_echo",
        content=body,
        headers={
            "Idempotency-Key": "k-flight",
            "Content-Type": "application/json",
            **caller.headers,
        },
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert response.json()["code"] == "idempotency_key_in_flight"
    assert await _audit_count(database) == before


async def test_a_bad_token_with_a_key_is_401_and_nothing_is_kept(
    settings: Settings, database: Database
) -> None:
    app: FastAPI = create_app(settings, database=database)

    @app.post("/api/v1/_guarded", status_code=201)
    async def guarded(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"id": str(principal.id)}

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/api/v1/_guarded",
            json={},
            headers={"Idempotency-Key": "k-bad", "Authorization": "Bearer not-a-token"},
        )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    async with database.session(read_only=True) as session:
        kept = await session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.key == "k-bad")
        )
    assert kept is None


async def test_without_key_every_post_runs(echo_client: AsyncClient, database: Database) -> None:
    before = await _audit_count(database)
    await echo_client.post("/api/v1/_echo", json={"a": 1})
    await echo_client.post("/api/v1/_echo", json={"a": 1})
    assert await _audit_count(database) == before + 2


async def test_overlong_key_is_rejected(echo_client: AsyncClient) -> None:
    response = await echo_client.post(
        "/api/v1/_echo", json={}, headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"


async def test_responses_carrying_secrets_are_not_stored(
    settings: Settings, database: Database
) -> None:
    app: FastAPI = create_app(settings, database=database)
    calls = {"n": 0}

    @app.post("/api/v1/_secret", status_code=201)
    async def secret(response: Response) -> dict[str, Any]:
        calls["n"] += 1
        response.headers["Cache-Control"] = "no-store"
        return {"secret": f"s-{calls['n']}"}

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.post("/api/v1/_secret", json={}, headers={"Idempotency-Key": "sk"})
        second = await client.post("/api/v1/_secret", json={}, headers={"Idempotency-Key": "sk"})
    assert first.json() == {"secret": "s-1"}
    assert second.json() == {"secret": "s-2"}
    async with database.session() as session:
        stored = await session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.key == "sk")
        )
    assert stored is None
