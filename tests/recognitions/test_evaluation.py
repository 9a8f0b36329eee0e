"""Evaluations answer title prerequisites and unit_holds_title from the register of titles."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests.recognitions.helpers import API, grant, revocation, unit_of


async def _bundled_set(client: AsyncClient, title: str) -> str:
    response = await client.get(
        f"{API}/criteria-sets", params={"title": title, "year": 2023, "status": "published"}
    )
    assert response.status_code == 200, response.text
    items = [i for i in response.json()["items"] if i.get("scope_unit_id") is None]
    assert items, response.text
    return str(items[0]["id"])


async def _evaluation(client: AsyncClient, assessment_id: str) -> dict[str, Any]:
    response = await client.get(
        f"{API}/assessments/{assessment_id}/evaluation", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_advanced_needs_ntm_held_on_the_assessments_date(admin_client: AsyncClient) -> None:
    commune = await unit_of(admin_client, "07450")
    set_id = await _bundled_set(admin_client, "advanced_ntm_commune")
    created = await admin_client.post(
        f"{API}/assessments",
        json={
            "unit_id": str(commune),
            "criteria_set_id": set_id,
            "year": 2023,
            "kind": "self_assessment",
        },
    )
    assert created.status_code == 201, created.text
    assessment = created.json()["id"]

    def title_prerequisite(evaluation: dict[str, Any]) -> dict[str, Any]:
        (found,) = [p for p in evaluation["prerequisites"] if p["kind"] == "title"]
        return found

    before = await _evaluation(admin_client, assessment)
    assert title_prerequisite(before)["status"] == "not_met"
    assert "not holding ntm_commune on 2023-12-31" in title_prerequisite(before)["reason"]
    assert "title" not in before["title"]["unverified"]
    assert before["title"]["attainable"] is False
    assert before["revocation"]["unit_holds_title"] is False

    # NTM granted in 2024 (after the assessment's date) does not count for 2023
    late = await admin_client.post(
        f"{API}/recognitions",
        json=grant(commune, year_for=2023, decision_number="5/QĐ", decision_date="2024-02-01"),
    )
    assert late.status_code == 201, late.text
    assert title_prerequisite(await _evaluation(admin_client, assessment))["status"] == "not_met"

    early = await admin_client.post(f"{API}/recognitions", json=grant(commune))
    assert early.status_code == 201, early.text
    after = await _evaluation(admin_client, assessment)
    assert title_prerequisite(after)["status"] == "met"
    assert "holding ntm_commune on 2023-12-31" in title_prerequisite(after)["reason"]

    # advanced itself, granted 2023-06-01: the unit holds the set's title at the date
    advanced = await admin_client.post(
        f"{API}/recognitions",
        json=grant(
            commune,
            title="advanced_ntm_commune",
            year_for=2022,
            decision_number="7/QĐ",
            decision_date="2023-06-01",
        ),
    )
    assert advanced.status_code == 201, advanced.text
    assert (await _evaluation(admin_client, assessment))["revocation"]["unit_holds_title"] is True
    # the NTM title revoked in 2022: neither that decision nor the later one... the 2024 one
    # does not reach back, but advanced implies NTM was met
    revoked = await admin_client.post(
        f"{API}/recognitions/{early.json()['id']}/revocation", json=revocation()
    )
    assert revoked.status_code == 200, revoked.text
    implied = await _evaluation(admin_client, assessment)
    assert title_prerequisite(implied)["status"] == "met"
