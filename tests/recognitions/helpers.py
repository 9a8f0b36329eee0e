from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

API = "/api/v1"


async def unit_of(
    client: AsyncClient, code: str, level: str = "commune", as_of: str = "2023-06-01"
) -> uuid.UUID:
    response = await client.get(
        f"{API}/units", params={"code": code, "level": level, "as_of": as_of}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 1, items
    return uuid.UUID(items[0]["id"])


async def parent_of(
    client: AsyncClient, unit_id: uuid.UUID, as_of: str = "2023-06-01"
) -> uuid.UUID:
    response = await client.get(f"{API}/units/{unit_id}", params={"as_of": as_of})
    assert response.status_code == 200, response.text
    return uuid.UUID(response.json()["parent_id"])


def grant(unit_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "unit_id": str(unit_id),
        "title": "ntm_commune",
        "year_for": 2019,
        "decision_number": "12/QĐ-UBND",
        "decision_date": "2020-01-11",
        "signer": "Chủ tịch UBND tỉnh Bắc Giang",
        **extra,
    }


def revocation(**extra: Any) -> dict[str, Any]:
    return {
        "decision_number": "99/QĐ-UBND",
        "decision_date": "2022-03-01",
        "signer": "Chủ tịch UBND tỉnh Bắc Giang",
        "reason": "Không còn đạt 10/19 tiêu chí",
        **extra,
    }
