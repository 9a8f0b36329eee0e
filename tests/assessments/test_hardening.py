"""Bad input found by fuzzing: each answers a 4xx problem naming the field, and writes nothing."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.assessments.helpers import counts, errors_by_code, post_csv

PROBLEM = "application/problem+json"


async def test_updated_since_leaving_the_calendar_in_utc_is_a_validation_error(
    admin_client: AsyncClient,
) -> None:
    response = await admin_client.get(
        "/api/v1/assessments", params={"updated_since": "0001-01-01T00:00:00+14:00"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["query", "updated_since"]


async def test_csv_years_int_cannot_read_are_row_problems(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    before = await counts(session)
    rows = [("9" * 5000, "1.1"), ("²⁰²³", "2.1"), ("2023", "3.1")]
    text = "unit_code,year,indicator_code,value\n" + "".join(
        f"07450,{year},{code},1\n" for year, code in rows
    )
    response = await post_csv(admin_client, criteria_set["id"], text)
    assert response.status_code == 422, response.text
    found = errors_by_code(response.json())
    assert [row["row"] for row in found["year_outside_period"]] == [2]
    assert "5000 digits" in found["year_outside_period"][0]["message"]
    assert [row["row"] for row in found["invalid_year"]] == [3]
    assert await counts(session) == before
