from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import Body, FastAPI, Response
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.audit.service import AuditContext, record
from app.config import Settings
from app.db.engine import Database
from app.db.session import SessionDep
from app.main import create_app
from app.models.system import AuditRecord, IdempotencyRecord


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


async def test_keys_are_scoped_to_the_caller(echo_client: AsyncClient, database: Database) -> None:
    before = await _audit_count(database)
    await echo_client.post(
        "/api/v1/_echo",
        json={"a": 1},
        headers={"Idempotency-Key": "k-3", "Authorization": "Bearer one"},
    )
    other = await echo_client.post(
        "/api/v1/_echo",
        json={"a": 1},
        headers={"Idempotency-Key": "k-3", "Authorization": "Bearer two"},
    )
    assert other.status_code == 201
    assert "idempotent-replayed" not in other.headers
    assert await _audit_count(database) == before + 2


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
