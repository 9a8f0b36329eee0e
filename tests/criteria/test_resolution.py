"""Threshold resolution by region, year, commune group and classification, and its reasons."""

from __future__ import annotations

import uuid
from datetime import date

from httpx import AsyncClient

from tests.criteria.helpers import BASE, Units, create_published, document, group_document, resolved


async def _thresholds(
    client: AsyncClient, set_id: str, unit_id: uuid.UUID, year: int, **params: str
) -> dict:
    response = await client.get(
        f"{BASE}/{set_id}/thresholds", params={"unit_id": str(unit_id), "year": year, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_region_year_beats_region_beats_year_beats_default(
    admin_client: AsyncClient, client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    criteria_set = await create_published(admin_client, document())
    set_id = criteria_set["id"]

    north_2024 = await _thresholds(client, set_id, place["north_commune"], 2024)
    assert north_2024["region"] == "TDMNPB"
    assert north_2024["province"]["code"] == "T91"
    assert north_2024["region_reason"]["basis"] == "province"
    income = resolved(north_2024, "10.1")
    assert (income["value"], income["reason"]["basis"]) == (41, "region_year")
    assert income["reason"]["matched"] == {"region": "TDMNPB", "year": 2024}
    assert income["reason"]["legal_basis"]["number"] == "TEST-1/QĐ-TTg"
    assert income["reason"]["source"]["title"] == "Test source"

    income = resolved(await _thresholds(client, set_id, place["north_commune"], 2023), "10.1")
    assert (income["value"], income["reason"]["basis"]) == (40, "region")

    income = resolved(await _thresholds(client, set_id, place["delta_commune"], 2024), "10.1")
    assert (income["value"], income["reason"]["basis"]) == (50, "region")

    income = resolved(await _thresholds(client, set_id, place["coast_commune"], 2024), "10.1")
    assert (income["value"], income["reason"]["basis"]) == (45, "year")

    income = resolved(await _thresholds(client, set_id, place["coast_commune"], 2023), "10.1")
    assert (income["value"], income["reason"]["basis"]) == (30, "default")

    url = f"{BASE}/{set_id}/thresholds"
    params = {"unit_id": str(place["coast_commune"]), "year": 2023}
    first = await client.get(url, params=params, headers={"Accept-Language": "en"})
    assert resolved(first.json(), "10.1")["name"] == "Average income"
    again = await client.get(
        url,
        params=params,
        headers={"If-None-Match": first.headers["etag"], "Accept-Language": "en"},
    )
    assert again.status_code == 304


async def test_classification_picks_the_northern_column_and_its_own_values(
    admin_client: AsyncClient, client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    body = await _thresholds(client, set_id, place["difficult_commune"], 2023)
    assert body["classifications"] == ["especially_difficult"]
    assert body["region"] == "TDMNPB"
    assert body["region_reason"]["basis"] == "applicability_rule"
    income = resolved(body, "10.1")
    assert (income["value"], income["reason"]["basis"]) == (40, "region")
    stunting = resolved(body, "15.1")
    assert (stunting["value"], stunting["reason"]["basis"]) == (20, "classification")

    ordinary = await _thresholds(client, set_id, place["delta_commune"], 2023)
    assert resolved(ordinary, "15.1")["value"] == 16.5
    assert ordinary["region"] == "DBSH"


async def test_missing_judgement_and_boolean(
    admin_client: AsyncClient, client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    body = await _thresholds(client, set_id, place["coast_commune"], 2023)
    left = resolved(body, "15.3")
    assert left["status"] == "missing"
    assert left["missing"].startswith("left to the province")
    assert left["missing_code"] == "left_to_province"
    assert resolved(body, "15.2")["status"] == "judgement"
    assert resolved(body, "15.4")["value"] is True
    not_found = resolved(body, "15.1")  # no value for DBSCL
    assert not_found["status"] == "missing"
    assert not_found["missing_code"] == "not_found"
    assert body["conditions"][0]["status"] == "missing"


async def test_commune_group(
    admin_client: AsyncClient, client: AsyncClient, units: Units, place: dict[str, uuid.UUID]
) -> None:
    set_id = (await create_published(admin_client, group_document()))["id"]
    await units.classify(place["north_commune"], "commune_group", "2", valid_from=date(2026, 1, 1))
    await units.commit()
    body = await _thresholds(client, set_id, place["north_commune"], 2026)
    assert body["commune_group"] == 2
    income = resolved(body, "10.1")
    assert (income["value"], income["reason"]["basis"]) == (55, "commune_group")
    unknown = resolved(await _thresholds(client, set_id, place["delta_commune"], 2026), "10.1")
    assert unknown["missing_code"] == "commune_group_unknown"


async def test_errors(
    admin_client: AsyncClient, client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    outside = await client.get(
        f"{BASE}/{set_id}/thresholds", params={"unit_id": str(place["north_commune"]), "year": 2026}
    )
    assert outside.status_code == 422
    assert outside.json()["code"] == "year_outside_period"
    level = await client.get(
        f"{BASE}/{set_id}/thresholds", params={"unit_id": str(place["district"]), "year": 2024}
    )
    assert level.json()["code"] == "unit_level_mismatch"
    missing = await client.get(
        f"{BASE}/{set_id}/thresholds", params={"unit_id": str(uuid.uuid4()), "year": 2024}
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "unit_not_found"
    no_unit = await client.get(f"{BASE}/{set_id}/thresholds", params={"year": 2024})
    assert no_unit.status_code == 422
