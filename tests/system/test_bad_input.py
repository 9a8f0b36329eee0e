"""Bad input is a 422 problem naming the field, never a 500 and never a write, on both databases.

PostgreSQL refuses NUL characters in text and numbers beyond 64 bits where SQLite stores them;
the refusals below happen before any handler, so they read the same on both.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.input import json_errors
from tests.identity.helpers import audit_of

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


# --- forms and headers the input guard does not read -------------------------------------------


@pytest.mark.parametrize("field", ["username", "grant_type"])
@pytest.mark.parametrize("bad", ["a\x00b", "a\x01b", "a\x1bb", "a\x7fb", "a\nb"])
async def test_control_characters_in_a_multipart_token_request_are_a_422(
    client: AsyncClient, field: str, bad: str
) -> None:
    fields = {"grant_type": "password", "username": "someone", "password": "x", field: bad}
    response = await client.post(
        "/api/v1/auth/token", files={name: (None, value) for name, value in fields.items()}
    )
    assert_invalid(response, ["body", field])


@pytest.mark.parametrize("encoding", ["multipart", "form"])
async def test_control_characters_in_a_client_id_are_a_422(
    client: AsyncClient, encoding: str
) -> None:
    fields = {"grant_type": "client_credentials", "client_id": "c\x00id", "client_secret": "s"}
    if encoding == "multipart":
        response = await client.post(
            "/api/v1/auth/token", files={name: (None, value) for name, value in fields.items()}
        )
    else:
        response = await client.post("/api/v1/auth/token", data=fields)
    assert_invalid(response, ["body", "client_id"])


@pytest.mark.parametrize("note", ["bad%00note", "bell%07", "esc%1B[31m", "del%7F"])
async def test_control_characters_in_an_audit_note_are_a_422_and_nothing_is_written(
    admin_client: AsyncClient, note: str
) -> None:
    code = f"X{uuid.uuid4().hex[:6]}"
    response = await admin_client.post(
        UNITS,
        json={"level": "village", "name": "Thôn Mới", "code": code},
        headers={"Audit-Note": note},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert ["header", "Audit-Note"] in [error["loc"] for error in response.json()["errors"]]
    listed = await admin_client.get(UNITS, params={"code": code})
    assert listed.json()["items"] == []


async def test_an_audit_note_may_span_lines(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    note = "Công văn 12/UBND\ndòng hai\tcột"
    response = await admin_client.post(
        "/api/v1/users",
        json={
            "username": f"u{uuid.uuid4().hex[:8]}",
            "display_name": "A",
            "password": "Correct-horse-7",
        },
        headers={"Audit-Note": quote(note)},
    )
    assert response.status_code == 201, response.text
    records = await audit_of(session, "user", response.json()["id"])
    assert records[0].reason == note


# --- loose dates and booleans -------------------------------------------------------------------


def _operations_with_query(app: FastAPI, name: str) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            params = operation.get("parameters", [])
            if not any(p["name"] == name and p["in"] == "query" for p in params):
                continue
            required = {}
            for param in params:
                if param["in"] == "query" and param.get("required"):
                    schema = param.get("schema", {})
                    required[param["name"]] = (
                        str(uuid.uuid4()) if schema.get("format") == "uuid" else "2025"
                    )
            url = path
            for param in params:
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", str(uuid.uuid4()))
            found.append((method.upper(), url, required))
    return found


@pytest.mark.parametrize("as_of", ["0", "1700000000", "86400", "2025-01-01T00:00:00", "20250101"])
async def test_as_of_is_only_an_iso_date_everywhere(
    app: FastAPI, admin_client: AsyncClient, as_of: str
) -> None:
    operations = _operations_with_query(app, "as_of")
    assert len(operations) >= 8, operations
    for method, url, required in operations:
        response = await admin_client.request(method, url, params={**required, "as_of": as_of})
        assert response.status_code == 422, (method, url, response.text)
        locs = [error["loc"] for error in response.json()["errors"]]
        assert ["query", "as_of"] in locs, (method, url, locs)


async def test_an_iso_as_of_is_still_accepted(client: AsyncClient) -> None:
    response = await client.get(UNITS, params={"as_of": "2025-01-01", "limit": 1})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("loose", [0, 1, "true", "yes", "on", "1", 1.0])
async def test_booleans_in_bodies_are_json_booleans(
    admin_client: AsyncClient, loose: object
) -> None:
    username = f"u{uuid.uuid4().hex[:8]}"
    created = await admin_client.post(
        "/api/v1/users",
        json={
            "username": username,
            "display_name": "A",
            "password": "Correct-horse-7",
            "active": loose,
        },
    )
    assert_invalid(created, ["body", "active"])
    client_body = {"name": "Cổng", "active": loose}
    assert_invalid(await admin_client.post("/api/v1/clients", json=client_body), ["body", "active"])
    user = await admin_client.post(
        "/api/v1/users",
        json={"username": username, "display_name": "A", "password": "Correct-horse-7"},
    )
    assert user.status_code == 201, user.text
    patched = await admin_client.patch(f"/api/v1/users/{user.json()['id']}", json={"active": loose})
    assert_invalid(patched, ["body", "active"])
    assert (await admin_client.get(f"/api/v1/users/{user.json()['id']}")).json()["active"] is True
    token = await admin_client.post("/api/v1/me/tokens", json={"name": "t", "read_only": loose})
    assert_invalid(token, ["body", "read_only"])
