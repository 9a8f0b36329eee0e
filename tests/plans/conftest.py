"""A made-up province (codes starting with P9, never official) with one district and five
communes, and two small criteria sets made for these tests (code TEST-PLANS-…): their
indicators are yes/no facts so that results are easy to compute by hand. Not legal values."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response

API = "/api/v1"
PROBLEM = "application/problem+json"
BASIS = {"number": "TEST/2024/NQ", "date": "2024-05-01", "issuer": "Kiểm thử"}

CRITERIA = [
    {
        "number": n,
        "name": {"vi": f"Tiêu chí {n}"},
        "rule": {"kind": "all"},
        "indicators": [
            {
                "code": f"{n}.1",
                "name": {"vi": f"Chỉ tiêu {n}.1"},
                "kind": "boolean",
                "comparator": "eq",
                "thresholds": [{"value": True}],
            }
        ],
    }
    for n in (1, 2, 3, 4)
]


def set_document(title: str) -> dict[str, Any]:
    return {
        "code": f"TEST-PLANS-{title}-{uuid.uuid4().hex[:6]}",
        "name": {"vi": "Bộ tiêu chí thử nghiệm (chỉ dùng cho kiểm thử)", "en": "Test set"},
        "title": title,
        "level": "commune",
        "period": {"start_year": 2021, "end_year": 2025},
        "legal_basis": {"number": "TEST/2024"},
        "criteria": copy.deepcopy(CRITERIA),
    }


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_problem(
    response: Response, status: int, code: str, loc: list[Any] | None = None
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code, body
    if loc is not None:
        assert loc in [error["loc"] for error in body["errors"]], body["errors"]


async def unit(client: AsyncClient, **body: Any) -> str:
    created = ok(await client.post(f"{API}/units", json=body), 201)
    return str(created["id"])


@pytest.fixture
async def sets(admin_client: AsyncClient) -> dict[str, str]:
    """Published sets granting ntm_commune and advanced_ntm_commune, 2021-2025."""
    found = {}
    for title in ("ntm_commune", "advanced_ntm_commune"):
        created = ok(await admin_client.post(f"{API}/criteria-sets", json=set_document(title)), 201)
        ok(await admin_client.post(f"{API}/criteria-sets/{created['id']}/publish"))
        found[title] = str(created["id"])
    return found


@pytest.fixture
async def province(admin_client: AsyncClient) -> dict[str, str]:
    """Province P9 ⊃ district P90 ⊃ communes P901-P905; another province P8 ⊃ commune P801.
    All from 2020-01-01."""
    since = "2020-01-01"
    ids = {
        "province": await unit(
            admin_client, type="tinh", code="P9", name="Tỉnh Kế Hoạch", valid_from=since
        )
    }
    ids["district"] = await unit(
        admin_client,
        type="huyen",
        code="P90",
        name="Huyện Lộ Trình",
        parent_id=ids["province"],
        valid_from=since,
    )
    for n in range(1, 6):
        ids[f"c{n}"] = await unit(
            admin_client,
            type="xa",
            code=f"P90{n}",
            name=f"Xã Số {n}",
            parent_id=ids["district"],
            valid_from=since,
        )
    ids["other_province"] = await unit(
        admin_client, type="tinh", code="P8", name="Tỉnh Khác", valid_from=since
    )
    ids["other_commune"] = await unit(
        admin_client,
        type="xa",
        code="P801",
        name="Xã Ngoài",
        parent_id=ids["other_province"],
        valid_from=since,
    )
    return ids


def plan_body(issuing_unit_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "number": "2831/KH-UBND",
        "title": "Kế hoạch xây dựng nông thôn mới giai đoạn 2021-2025",
        "kind": "period",
        "issuing_unit_id": issuing_unit_id,
        "issue_date": "2022-06-21",
        "start_year": 2021,
        "end_year": 2025,
        **extra,
    }


async def make_plan(client: AsyncClient, issuing_unit_id: str, **extra: Any) -> dict[str, Any]:
    return ok(await client.post(f"{API}/plans", json=plan_body(issuing_unit_id, **extra)), 201)
