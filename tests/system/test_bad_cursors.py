"""A cursor comes back from the client: a forged or damaged one is a 422 ``invalid_cursor`` on
every paginated list, in every ordering, with or without a token — never a 500."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.pagination import decode_cursor, encode_cursor

UNIT_ID = str(uuid.uuid4())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(values: Any) -> str:
    # json, not orjson: it writes integers beyond 64 bits too.
    return _b64(json.dumps(values).encode())


# Values of every shape a list's cursor may hold ((updated_at, id), (seq,), (rank, code, id),
# (exact, rank, code, id)), each damaged in a way the database would otherwise trip over.
FORGED_VALUES: list[Any] = [
    [1, "04", -1],
    [1, 4, UNIT_ID],
    ["1", "04", UNIT_ID],
    [2**63, "04", UNIT_ID],
    [-(2**63) - 1, "04", UNIT_ID],
    [1.5, "04", UNIT_ID],
    [True, "04", UNIT_ID],
    [None, "04", UNIT_ID],
    [[1], "04", UNIT_ID],
    [{"a": 1}, "04", UNIT_ID],
    [1, "0\x004", UNIT_ID],
    [1, "x" * 600, UNIT_ID],
    [1, "04", "not-a-uuid"],
    [1, "04", 12345],
    [1, None, UNIT_ID],
    [0, 1, "04", -1],
    [0, "1", "04", UNIT_ID],
    [2**63, 1, "04", UNIT_ID],
    [0, 1, 4, UNIT_ID],
    ["2020-01-01T00:00:00", UNIT_ID],  # no offset: which instant?
    ["2020-01-01T00:00:00Z", 1],
    ["2020-01-01T00:00:00Z", "not-a-uuid"],
    ["not a time", UNIT_ID],
    [1577836800, UNIT_ID],
    ["0001-01-01T00:00:00+14:00", UNIT_ID],  # leaves the calendar in UTC
    ["2020-01-01T00:00:00Z\x00", UNIT_ID],
    [None, UNIT_ID],
    ["x"],
    [1.5],
    [True],
    [2**63],
    [-(2**63) - 1],
    [None],
    [],
    [UNIT_ID, UNIT_ID, UNIT_ID, UNIT_ID, UNIT_ID],
    {"updated_at": "2020-01-01T00:00:00Z", "id": UNIT_ID},
    "2020-01-01",
    42,
    None,
]
FORGED = (
    [_cursor(values) for values in FORGED_VALUES]
    + [
        "",
        "!!!",
        "%%%",
        "a",
        _b64(b"\xff\xfe\xfd"),  # not UTF-8
        _b64(b"[NaN]"),
        _b64(b"[1e400]"),
        _b64(b"[1, 2"),
        _b64(b"[" * 600 + b"]" * 600),  # nested deeper than any parser likes
        _cursor([1, "04", UNIT_ID])[:-7],  # cut short
    ]
)

# Every ordering of the unit list has its own cursor.
EXTRA_QUERIES: dict[str, list[dict[str, str]]] = {
    "/api/v1/units": [{"q": "ha"}, {"updated_since": "2000-01-01T00:00:00Z"}],
}


def _paginated_lists(app: FastAPI) -> list[str]:
    paths = []
    for path, item in app.openapi()["paths"].items():
        operation = item.get("get")
        if operation and any(p["name"] == "cursor" for p in operation.get("parameters", [])):
            paths.append(path)
    return paths


async def _unit_id(client: AsyncClient) -> str:
    response = await client.get("/api/v1/units", params={"level": "province", "limit": 1})
    assert response.status_code == 200, response.text
    unit_id: str = response.json()["items"][0]["id"]
    return unit_id


async def _plan_id(client: AsyncClient, unit_id: str) -> str:
    """A plan of the unit, for the lists of what a plan holds (targets, roadmap, tasks)."""
    body = {
        "number": "1/KH-UBND",
        "title": "Kế hoạch kiểm thử",
        "issuing_unit_id": unit_id,
        "issue_date": "2024-01-11",
        "start_year": 2024,
        "end_year": 2024,
    }
    response = await client.post("/api/v1/plans", json=body)
    assert response.status_code == 201, response.text
    plan_id: str = response.json()["id"]
    return plan_id


async def test_forged_cursors_are_422_on_every_paginated_list(
    app: FastAPI, admin_client: AsyncClient, client: AsyncClient
) -> None:
    lists = _paginated_lists(app)
    # The lists this test was written against: a new one is covered as soon as it exists.
    assert {"/api/v1/units", "/api/v1/users", "/api/v1/audit"} <= set(lists)
    unit_id = await _unit_id(client)
    webhook = await admin_client.post(
        "/api/v1/webhooks", json={"url": "https://93.184.215.14/hook"}
    )
    assert webhook.status_code == 201, webhook.text
    plan_id = await _plan_id(admin_client, unit_id)
    failures = []
    checked = 0
    for path in lists:
        url = (
            path.replace("{unit_id}", unit_id)
            .replace("{webhook_id}", webhook.json()["id"])
            .replace("{plan_id}", plan_id)
        )
        operation = app.openapi()["paths"][path]["get"]
        callers = [admin_client] + ([client] if operation.get("x-public") else [])
        for extra in [{}, *EXTRA_QUERIES.get(path, [])]:
            for caller in callers:
                for cursor in FORGED:
                    response = await caller.get(url, params={**extra, "cursor": cursor})
                    checked += 1
                    body = response.json()
                    if response.status_code != 422 or body.get("code") != "invalid_cursor":
                        failures.append((url, extra, cursor, response.status_code, body))
                    elif body["errors"][0]["loc"] != ["query", "cursor"]:
                        failures.append((url, extra, cursor, "loc", body))
    assert not failures, [(f[0], f[1], f[2][:40], f[3]) for f in failures]
    assert checked >= len(FORGED) * 7


async def test_genuine_cursors_still_page_through_every_ordering(client: AsyncClient) -> None:
    for extra in [{}, *EXTRA_QUERIES["/api/v1/units"]]:
        seen: list[str] = []
        params: dict[str, Any] = {**extra, "limit": 2}
        for _ in range(3):
            response = await client.get("/api/v1/units", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            seen += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params = {**extra, "limit": 2, "cursor": page["next_cursor"]}
        assert len(seen) == len(set(seen)) >= 2, (extra, seen)


@pytest.mark.parametrize(
    ("values", "parts"),
    [
        ([3, "04", UNIT_ID], (int, str, uuid.UUID)),
        (["2024-05-01T03:00:00+07:00", UNIT_ID], (datetime, uuid.UUID)),
        ([-(2**63)], (int,)),
    ],
)
def test_decode_converts_each_value(values: list[Any], parts: tuple[Any, ...]) -> None:
    decoded = decode_cursor(encode_cursor(values), *parts)
    assert [type(value) for value in decoded] == list(parts)
    if parts[0] is datetime:
        assert decoded[0].utcoffset().total_seconds() == 0
        assert decoded[0].hour == 20
