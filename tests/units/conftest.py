"""Helpers of the units tests: the national dataset is loaded once per run by the root conftest;
``sandbox`` adds a small made-up hierarchy (codes starting with T, never official) per test."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response

API = "/api/v1"
PROBLEM = "application/problem+json"
BASIS = {
    "number": "99/2024/NQ-UBTVQH15",
    "date": "2024-11-01",
    "issuer": "Ủy ban Thường vụ Quốc hội",
}


async def find(client: AsyncClient, as_of: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/units", params={"as_of": as_of, "limit": 500, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def one(client: AsyncClient, as_of: str, **params: Any) -> dict[str, Any]:
    items = await find(client, as_of, **params)
    assert len(items) == 1, items
    return items[0]


async def create(client: AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/units", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def event(client: AsyncClient, kind: str, effective_date: str, **body: Any) -> Response:
    payload = {"kind": kind, "effective_date": effective_date, "legal_basis": BASIS, **body}
    return await client.post(f"{API}/unit-events", json=payload)


def assert_problem(
    response: Response, status: int, code: str, loc: list[Any] | None = None
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code, body
    if loc is not None:
        assert loc in [error["loc"] for error in body["errors"]], body["errors"]


@pytest.fixture
async def sandbox(admin_client: AsyncClient) -> dict[str, str]:
    """Province T1 ⊃ district T10 ⊃ communes T101, T102, T103; village T101-01 in T101.
    All valid from 2020-01-01, open-ended."""
    since = "2020-01-01"
    province = await create(
        admin_client, type="tinh", code="T1", name="Tỉnh Thử Nghiệm", valid_from=since
    )
    district = await create(
        admin_client,
        type="huyen",
        code="T10",
        name="Huyện Đông Thử",
        parent_id=province["id"],
        valid_from=since,
    )
    ids = {"province": province["id"], "district": district["id"]}
    for code, name in (("T101", "Xã An Thử"), ("T102", "Xã Bình Thử"), ("T103", "Xã Cát Thử")):
        commune = await create(
            admin_client,
            type="xa",
            code=code,
            name=name,
            parent_id=district["id"],
            valid_from=since,
        )
        ids[code] = commune["id"]
    village = await create(
        admin_client, type="thon", code="T101-01", name="Thôn Một", parent_id=ids["T101"]
    )
    ids["village"] = village["id"]
    return ids
