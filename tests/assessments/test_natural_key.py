"""Issue 10, item 15: one assessment per unit, criteria set, year and kind (API.md, natural
keys), and retries keyed on the principal rather than on its token."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.repository import assessments as repo
from app.config import Settings
from app.core.errors import Conflict
from app.core.permissions import Role
from app.core.security import PrincipalKind, issue_access_token
from app.db.types import utcnow
from tests.conftest import PrincipalFactory, TestPrincipal

PROBLEM = "application/problem+json"


def _body(set_id: str, unit: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "unit_id": str(unit),
        "criteria_set_id": set_id,
        "year": 2023,
        "kind": "self_assessment",
        **extra,
    }


async def _count(session: AsyncSession, unit: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(repo.ASSESSMENTS)
            .where(repo.ASSESSMENTS.c.unit_id == unit)
        )
        or 0
    )


async def test_a_duplicate_create_is_409_naming_the_existing_assessment(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    first = await admin_client.post(
        "/api/v1/assessments", json=_body(criteria_set["id"], communes["A"])
    )
    assert first.status_code == 201, first.text
    existing = first.json()["id"]
    again = await admin_client.post(
        "/api/v1/assessments", json=_body(criteria_set["id"], communes["A"], note="again")
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["code"] == "assessment_exists"
    assert again.json()["existing_id"] == existing
    assert again.headers["location"] == f"/api/v1/assessments/{existing}"
    # A client-chosen id does not get round the natural key either.
    chosen = await admin_client.post(
        "/api/v1/assessments",
        json=_body(criteria_set["id"], communes["A"], id=str(uuid.uuid4())),
    )
    assert chosen.status_code == 409
    assert chosen.json()["existing_id"] == existing
    assert await _count(session, communes["A"]) == 1
    # Another kind, year or unit is another natural key.
    other = await admin_client.post(
        "/api/v1/assessments", json=_body(criteria_set["id"], communes["A"], kind="appraisal")
    )
    assert other.status_code == 201, other.text
    assert await _count(session, communes["A"]) == 2


async def test_a_concurrent_duplicate_insert_is_409_not_500(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    """The race every creation path (API, bulk import) goes through: a writer that checked
    before another committed hits the unique constraint, reported as ``assessment_exists``;
    the transaction stays usable."""
    first = await admin_client.post(
        "/api/v1/assessments", json=_body(criteria_set["id"], communes["B"])
    )
    existing = uuid.UUID(first.json()["id"])
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "unit_id": unit,
            "criteria_set_id": uuid.UUID(criteria_set["id"]),
            "year": 2023,
            "kind": "self_assessment",
            "status": "draft",
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
        for unit in (communes["C"], communes["B"])
    ]
    with pytest.raises(Conflict) as raised:
        await repo.insert_many(session, rows)
    assert raised.value.code == "assessment_exists"
    assert raised.value.status == 409
    assert raised.value.extra["existing_id"] == str(existing)
    # Nothing of the batch was written, and the session still answers.
    assert await _count(session, communes["C"]) == 0
    assert await _count(session, communes["B"]) == 1


async def test_a_retry_under_a_refreshed_token_replays_the_first_response(
    admin_client: AsyncClient,
    settings: Settings,
    session: AsyncSession,
    admin: TestPrincipal,
    make_principal: PrincipalFactory,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    body = _body(criteria_set["id"], communes["D"])
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = await admin_client.post("/api/v1/assessments", json=body, headers=key)
    assert first.status_code == 201, first.text
    refreshed = issue_access_token(settings, subject=admin.id, kind=PrincipalKind.USER).token
    assert f"Bearer {refreshed}" != admin.headers["Authorization"]
    retry = await admin_client.post(
        "/api/v1/assessments",
        json=body,
        headers={**key, "Authorization": f"Bearer {refreshed}"},
    )
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await _count(session, communes["D"]) == 1
    # Another principal with the same key is not served the first one's response.
    other = await make_principal(Role.SYSTEM_ADMIN)
    theirs = await admin_client.post(
        "/api/v1/assessments", json=body, headers={**key, **other.headers}
    )
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.status_code == 409
    assert theirs.json()["code"] == "assessment_exists"
    assert await _count(session, communes["D"]) == 1
