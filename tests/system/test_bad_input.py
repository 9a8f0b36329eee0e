"""Bad input is a 422 problem naming the field, never a 500 and never a write, on both databases.

PostgreSQL refuses NUL characters in text and numbers beyond 64 bits where SQLite stores them;
the refusals below happen before any handler, so they read the same on both.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response

from app.core.input import json_errors

PROBLEM = "application/problem+json"
UNITS = "/api/v1/units"


def assert_invalid(response: Response, *locs: list[Any]) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error", body
    errors: list[dict[str, Any]] = body["errors"]
    for loc in locs:
        assert loc in [error["loc"] for error in errors], errors
    return errors


async def test_malformed_json_body_is_a_422_naming_the_body(admin_client: AsyncClient) -> None:
    response = await admin_client.post(
        UNITS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    errors = assert_invalid(response)
    assert errors[0]["loc"][0] == "body"
    assert errors[0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "xa", "name": "\xff\xfe"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # nested beyond the parser's recursion limit
        b'{"type": "xa", "code": ' + b"1" * 5000 + b"}",  # more digits than Python converts
    ],
    ids=["not-utf8", "deeply-nested", "5000-digits"],
)
async def test_an_unparseable_body_is_a_422_naming_the_body(
    admin_client: AsyncClient, body: bytes
) -> None:
    response = await admin_client.post(
        UNITS, content=body, headers={"Content-Type": "application/json"}
    )
    errors = assert_invalid(response)
    assert errors[0]["loc"][0] == "body"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "99999999999999999999"}, "limit"),
        ({"as_of": "2024-13-40"}, "as_of"),
        ({"as_of": "0000-01-01"}, "as_of"),
        ({"as_of": "10000-01-01"}, "as_of"),
        ({"level": "planet"}, "level"),
        ({"parent_id": "not-a-uuid"}, "parent_id"),
        ({"updated_since": "yesterday"}, "updated_since"),
    ],
)
async def test_wrong_typed_query_parameters_are_422_naming_the_field(
    client: AsyncClient, params: dict[str, str], field: str
) -> None:
    assert_invalid(await client.get(UNITS, params=params), ["query", field])


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (UNITS, {"q": "ha\x00noi"}, "q"),
        (UNITS, {"code": "0\x001"}, "code"),
        ("/api/v1/criteria-sets", {"code": "\x00"}, "code"),
        ("/api/v1/audit", {"entity_id": "\x00"}, "entity_id"),
        ("/api/v1/users", {"q": "\x00"}, "q"),
    ],
)
async def test_nul_in_a_query_parameter_is_a_422_naming_it(
    admin_client: AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    assert_invalid(await admin_client.get(path, params=params), ["query", field])


async def test_nul_in_the_path_is_a_422(client: AsyncClient) -> None:
    assert_invalid(await client.get(f"{UNITS}/abc%00def"), ["path"])


async def test_nul_in_a_json_body_is_a_422_and_nothing_is_written(
    admin_client: AsyncClient,
) -> None:
    unit_id = str(uuid.uuid4())
    body = {"id": unit_id, "type": "tinh", "code": "TNUL", "name": "Tỉnh\x00Thử"}
    assert_invalid(await admin_client.post(UNITS, json=body), ["body", "name"])
    assert (await admin_client.get(f"{UNITS}/{unit_id}")).status_code == 404


async def test_nul_in_a_json_key_or_nested_value_names_its_place(
    admin_client: AsyncClient,
) -> None:
    body = {"items": [{"unit_id": str(uuid.uuid4()), "note": "a\x00"}], "x\x00": 1}
    response = await admin_client.post("/api/v1/unit-classifications/bulk", json=body)
    assert_invalid(response, ["body", "items", 0, "note"], ["body", "x\x00"])


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(admin_client: AsyncClient) -> None:
    # The JSON text "\\u0000" is a backslash and five characters: an ordinary name.
    response = await admin_client.post(
        UNITS,
        content=b'{"type": "tinh", "code": "TBS", "name": "T\\\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "T\\u0000"


@pytest.mark.parametrize(
    "literal",
    ["NaN", "Infinity", "-Infinity", "1e400", "9223372036854775808", "-9223372036854775809"],
)
async def test_numbers_json_cannot_carry_are_a_422_naming_the_field(
    admin_client: AsyncClient, literal: str
) -> None:
    content = '{"type": "tinh", "code": "TNUM", "name": "x", "note": ' + literal + "}"
    response = await admin_client.post(
        UNITS, content=content.encode(), headers={"Content-Type": "application/json"}
    )
    errors = assert_invalid(response, ["body", "note"])
    assert {e["type"] for e in errors} <= {"finite_number", "int_out_of_range"}


def test_int64_bounds_are_accepted() -> None:
    assert json_errors(b'{"a": 9223372036854775807, "b": -9223372036854775808, "c": 1e300}') == []


async def test_nul_in_a_form_field_is_a_422_naming_it(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "a\x00", "password": "x"},
    )
    assert_invalid(response, ["body", "username"])
