"""Issue 10, item 17 (schema-driven fuzzing): inputs the document forbids are refused, and a
static path is never taken for an id."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from pydantic import TypeAdapter, ValidationError

from app.core.types import Instant, IsoDate

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("value", ["0.5", "0", "1700000000", "2025-01-01", "yesterday"])
def test_an_instant_is_only_its_rfc3339_text(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Instant).validate_python(value)


def test_an_instant_with_an_offset_is_normalised_to_utc() -> None:
    parsed = TypeAdapter(Instant).validate_python("2025-07-01T07:00:00+07:00")
    assert parsed.isoformat() == "2025-07-01T00:00:00+00:00"


@pytest.mark.parametrize("value", [0, 1.5, "0", "20250701", "2025-07-01T00:00:00Z"])
def test_a_date_is_only_its_calendar_text(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(IsoDate).validate_python(value)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/units?updated_since=0.5", "updated_since"),
        ("/api/v1/users?updated_since=0.5", "updated_since"),
        ("/api/v1/criteria-sets?updated_since=1700000000", "updated_since"),
        ("/api/v1/audit?until=0.5", "until"),
    ],
)
async def test_numbers_are_not_instants_in_queries(
    admin_client: AsyncClient, path: str, name: str
) -> None:
    response = await admin_client.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert any(name in error["loc"] for error in response.json()["errors"])


async def test_numbers_are_not_dates_in_bodies(admin_client: AsyncClient) -> None:
    body = {"type": "tinh", "code": "98", "name": "Tỉnh thử", "valid_from": 0}
    response = await admin_client.post("/api/v1/units", json=body)
    assert response.status_code == 422, response.text
    assert any("valid_from" in error["loc"] for error in response.json()["errors"])
    listed = await admin_client.get("/api/v1/units", params={"code": "98"})
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/units/tree", "GET"),
        ("/api/v1/units/import", "POST"),
        ("/api/v1/assessments/compare", "GET"),
        ("/api/v1/criteria-sets/import", "POST"),
    ],
)
async def test_a_static_path_beside_an_id_answers_405_for_other_methods(
    admin_client: AsyncClient, path: str, allowed: str
) -> None:
    response = await admin_client.patch(path, json={})
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert allowed in response.headers["allow"]


async def test_a_malformed_id_is_a_404_problem(admin_client: AsyncClient) -> None:
    for path in ("/api/v1/units/not-a-uuid", "/api/v1/assessments/not-a-uuid"):
        response = await admin_client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "not_found"
