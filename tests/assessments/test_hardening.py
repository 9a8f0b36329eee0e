"""Bad input found by fuzzing: each answers a 4xx problem naming the field, and writes nothing."""

from __future__ import annotations


from httpx import AsyncClient


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
