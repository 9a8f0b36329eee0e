"""Out of scope is always the same 404 (issue 10 item 10): deriving from another province's
draft answers what reading it answers, never a 409 that names it."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import ASGITransport, AsyncClient

from app.core.permissions import Role
from tests.criteria.helpers import BASE, create_published, document


async def test_deriving_another_provinces_draft_is_the_same_404_as_reading_it(
    app: Any, admin_client: AsyncClient, make_principal: Any, place: dict[str, uuid.UUID]
) -> None:
    parent = await create_published(admin_client, document())
    body = {
        "code": f"TEST-DELTA-{uuid.uuid4().hex[:8]}",
        "name": {"vi": "Bộ tiêu chí của tỉnh", "en": "Provincial set"},
        "legal_basis": {"number": "TEST-9/QĐ-UBND", "date": "2022-05-01"},
        "unit_id": str(place["delta"]),
    }
    created = await admin_client.post(f"{BASE}/{parent['id']}/derive", json=body)
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["status"] == "draft"
    north = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=place["north"])
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver", headers=north.headers
    ) as as_north:
        read = await as_north.get(f"{BASE}/{draft['id']}")
        derived = await as_north.post(
            f"{BASE}/{draft['id']}/derive",
            json={**body, "code": "TEST-NORTH-X", "unit_id": str(place["north"])},
        )
        absent = await as_north.post(
            f"{BASE}/{uuid.uuid4()}/derive",
            json={**body, "code": "TEST-NORTH-Y", "unit_id": str(place["north"])},
        )
    assert read.status_code == derived.status_code == absent.status_code == 404
    assert read.json()["code"] == derived.json()["code"] == absent.json()["code"]
    assert read.json()["detail"] == derived.json()["detail"]
    assert draft["code"] not in derived.text
    # Whoever may read the draft still learns why it cannot be derived from.
    own = await admin_client.post(
        f"{BASE}/{draft['id']}/derive", json={**body, "code": "TEST-ADMIN-Z"}
    )
    assert own.status_code == 409
    assert own.json()["code"] == "criteria_set_not_published"
