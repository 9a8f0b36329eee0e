"""Instants a list cannot compare with stored times are a 422 naming the parameter."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.units.conftest import API, assert_problem


@pytest.mark.parametrize(
    "instant",
    [
        "0001-01-01T00:00:00+14:00",  # before year 1 once in UTC
        "9999-12-31T23:59:59-14:00",  # after year 9999 once in UTC
        "2024-01-01T00:00:00",  # no offset: which zone?
    ],
)
async def test_updated_since_out_of_range_or_naive_is_422(
    client: AsyncClient, instant: str
) -> None:
    response = await client.get(f"{API}/units", params={"updated_since": instant})
    assert_problem(response, 422, "validation_error", ["query", "updated_since"])


async def test_updated_since_with_an_offset_is_read_in_utc(client: AsyncClient) -> None:
    response = await client.get(
        f"{API}/units", params={"updated_since": "9999-12-31T23:59:59+07:00", "limit": 1}
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_nul_in_a_patch_is_422_and_the_unit_keeps_its_name(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    url = f"{API}/units/{sandbox['T101']}"
    before = (await admin_client.get(url)).json()
    response = await admin_client.patch(
        url, json={"effective_date": "2024-01-01", "name": "Xã\x00Mới"}
    )
    assert_problem(response, 422, "validation_error", ["body", "name"])
    assert (await admin_client.get(url)).json()["name"] == before["name"]
