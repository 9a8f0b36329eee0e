"""Bad filters of the audit trail are a 422 naming the parameter, never a 500."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.identity.helpers import assert_problem


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("since", "2024-01-01T00:00:00"),  # naive: which zone?
        ("until", "2024-01-01T00:00:00"),
        ("since", "0001-01-01T00:00:00+14:00"),  # before year 1 in UTC
        ("until", "9999-12-31T23:59:59-14:00"),  # after year 9999 in UTC
        ("entity_id", "x\x00"),
    ],
)
async def test_bad_filters_are_422(admin_client: AsyncClient, field: str, value: str) -> None:
    response = await admin_client.get("/api/v1/audit", params={field: value})
    assert_problem(response, 422, "validation_error")
    assert ["query", field] in [e["loc"] for e in response.json()["errors"]]


async def test_an_aware_since_is_accepted(admin_client: AsyncClient) -> None:
    response = await admin_client.get(
        "/api/v1/audit", params={"since": "2024-01-01T07:00:00+07:00"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("seq", ["99999999999999999999", "9223372036854775808", "0", "-1"])
async def test_a_seq_no_record_can_have_is_422(admin_client: AsyncClient, seq: str) -> None:
    response = await admin_client.get(f"/api/v1/audit/{seq}")
    assert_problem(response, 422, "validation_error")
    assert ["path", "seq"] in [e["loc"] for e in response.json()["errors"]]


async def test_the_largest_seq_is_404(admin_client: AsyncClient) -> None:
    response = await admin_client.get("/api/v1/audit/9223372036854775807")
    assert_problem(response, 404, "audit_record_not_found")
