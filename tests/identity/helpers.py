"""Small helpers shared by the identity and audit tests."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import AuditRecord

PROBLEM = "application/problem+json"
TOKEN_URL = "/api/v1/auth/token"


async def password_token(client: AsyncClient, username: str, password: str) -> Response:
    return await client.post(
        TOKEN_URL, data={"grant_type": "password", "username": username, "password": password}
    )


async def login(client: AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await password_token(client, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_user(
    admin_client: AsyncClient, password: str = "Correct-horse-7", **fields: Any
) -> dict[str, Any]:
    body = {
        "username": f"u{uuid.uuid4().hex[:10]}",
        "display_name": "Nguyễn Văn A",
        "password": password,
        **fields,
    }
    response = await admin_client.post("/api/v1/users", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def audit_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


async def audit_of(session: AsyncSession, entity: str, entity_id: object) -> list[AuditRecord]:
    rows = await session.scalars(
        select(AuditRecord)
        .where(AuditRecord.entity == entity, AuditRecord.entity_id == str(entity_id))
        .order_by(AuditRecord.seq)
    )
    return list(rows)


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body
