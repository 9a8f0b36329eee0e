"""Labels follow ``Accept-Language`` (the rule of app.core.http, q-values honoured), and every
language-dependent read says so with ``Vary: Accept-Language``, on its 304 as well."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from httpx import AsyncClient

from tests.assessments.conftest import TEST_SET

ENGLISH = {1: "Income", 2: "Infrastructure", 3: "Poverty", 4: "Health"}


async def _english_set(admin_client: AsyncClient) -> dict[str, Any]:
    document = copy.deepcopy(TEST_SET)
    document["code"] = "TEST-ASSESSMENTS-XA-EN"
    for criterion in document["criteria"]:
        criterion["name"]["en"] = ENGLISH[criterion["number"]]
    created = await admin_client.post("/api/v1/criteria-sets", json=document)
    assert created.status_code == 201, created.text
    published = await admin_client.post(f"/api/v1/criteria-sets/{created.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return dict(published.json())


async def _assessment(admin_client: AsyncClient, set_id: str, unit: uuid.UUID, year: int) -> str:
    body = {
        "unit_id": str(unit),
        "criteria_set_id": set_id,
        "year": year,
        "kind": "self_assessment",
    }
    response = await admin_client.post("/api/v1/assessments", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_preference_for_english_after_another_language_gives_english_labels(
    admin_client: AsyncClient, communes: dict[str, uuid.UUID]
) -> None:
    criteria_set = await _english_set(admin_client)
    aid = await _assessment(admin_client, criteria_set["id"], communes["A"], 2023)
    url = f"/api/v1/assessments/{aid}/evaluation"
    english = await admin_client.get(url, headers={"Accept-Language": "fr, en;q=0.8"})
    assert english.status_code == 200, english.text
    assert [c["name"] for c in english.json()["criteria"]] == list(ENGLISH.values())
    vietnamese = await admin_client.get(url, headers={"Accept-Language": "vi;q=0.9, en;q=0.8"})
    assert vietnamese.json()["criteria"][0]["name"] == "Thu nhập"
    default = await admin_client.get(url)
    assert default.json() == vietnamese.json()


async def test_language_dependent_reads_vary_on_200_and_304(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    first_year = await _assessment(admin_client, criteria_set["id"], communes["A"], 2023)
    second_year = await _assessment(admin_client, criteria_set["id"], communes["A"], 2024)
    for path in ("", "/evaluation", "/gaps"):
        url = f"/api/v1/assessments/{first_year}{path}"
        first = await admin_client.get(url, headers={"Accept-Language": "en"})
        assert first.status_code == 200, first.text
        assert "Accept-Language" in first.headers["vary"], url
        cached = await admin_client.get(
            url, headers={"Accept-Language": "en", "If-None-Match": first.headers["etag"]}
        )
        assert cached.status_code == 304, url
        assert "Accept-Language" in cached.headers["vary"], url
        assert cached.headers["etag"] == first.headers["etag"]
    compared = await admin_client.get(
        "/api/v1/assessments/compare", params={"a": first_year, "b": second_year}
    )
    assert compared.status_code == 200, compared.text
    assert "Accept-Language" in compared.headers["vary"]
    listed = await admin_client.get("/api/v1/assessments", params={"include": "evaluation"})
    assert "Accept-Language" in listed.headers["vary"]
