"""The sync bundle of a field app: one commune, its villages, the criteria set that applies with
its thresholds, its open assessments with values, the feed position; ETag (304) and gzip."""

from __future__ import annotations

import json
import uuid
from typing import Any

from httpx import AsyncClient

from app.core.permissions import Role
from tests.assessments.conftest import TEST_SET
from tests.conftest import PrincipalFactory
from tests.units.conftest import API, assert_problem

# A test set in a period no bundled set covers, so that it is the one that applies (fixture
# values, not legal ones: see tests/assessments/conftest.py).
SET = {
    **json.loads(
        json.dumps(TEST_SET)
        .replace('"year": 2023', '"year": 2032')
        .replace('"year": 2024', '"year": 2033')
    ),
    "code": "TEST-SYNC-XA",
    "period": {"start_year": 2031, "end_year": 2035},
}
YEAR = 2032


async def _published(client: AsyncClient) -> dict[str, Any]:
    created = await client.post(f"{API}/criteria-sets", json=SET)
    assert created.status_code == 201, created.text
    published = await client.post(f"{API}/criteria-sets/{created.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return dict(published.json())


async def test_the_bundle_of_a_commune(
    admin_client: AsyncClient, sandbox: dict[str, str], make_principal: PrincipalFactory
) -> None:
    criteria_set = await _published(admin_client)
    commune = sandbox["T101"]
    created = await admin_client.post(
        f"{API}/assessments",
        json={
            "unit_id": commune,
            "criteria_set_id": criteria_set["id"],
            "year": YEAR,
            "kind": "self_assessment",
        },
    )
    assert created.status_code == 201, created.text
    assessment_id = created.json()["id"]
    written = await admin_client.put(
        f"{API}/assessments/{assessment_id}/values",
        json={"values": [{"indicator_code": "2.1", "value": 85}]},
    )
    assert written.status_code == 200, written.text
    # The feed names the version and ETag the values write left.
    events = await admin_client.get(
        f"{API}/events", params={"types": "assessment_values.updated", "limit": 500}
    )
    mine = [e for e in events.json()["items"] if e["entity_id"] == assessment_id]
    assert [e["etag"] for e in mine] == [written.headers["etag"]]
    assert mine[0]["link"] == f"/api/v1/assessments/{assessment_id}"

    response = await admin_client.get(
        f"{API}/sync/bundle",
        params={"unit_id": commune, "year": YEAR},
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-encoding"] == "gzip"
    body = response.json()
    assert body["unit"]["id"] == commune
    assert [v["code"] for v in body["villages"]] == ["T101-01"]
    assert [c["criteria_set"]["id"] for c in body["criteria_sets"]] == [criteria_set["id"]]
    thresholds = body["criteria_sets"][0]["thresholds"]
    assert thresholds["unit"]["id"] == commune
    by_code = {i["code"]: i for i in thresholds["indicators"]}
    assert by_code["2.1"]["value"] == 80
    (open_one,) = body["assessments"]
    assert open_one["assessment"]["id"] == assessment_id
    assert [(v["indicator_code"], v["value"]) for v in open_one["assessment"]["values"]] == [
        ("2.1", 85)
    ]
    assert open_one["etag"] == written.headers["etag"]
    head = (await admin_client.get(f"{API}/events", params={"limit": 1})).json()["head"]
    assert body["position"] == head

    etag = response.headers["etag"]
    again = await admin_client.get(
        f"{API}/sync/bundle",
        params={"unit_id": commune, "year": YEAR},
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304
    # A change of the commune's data changes the bundle.
    await admin_client.put(
        f"{API}/assessments/{assessment_id}/values",
        json={"values": [{"indicator_code": "2.1", "value": 90}]},
    )
    changed = await admin_client.get(
        f"{API}/sync/bundle",
        params={"unit_id": commune, "year": YEAR},
        headers={"If-None-Match": etag},
    )
    assert changed.status_code == 200
    assert changed.json()["position"] > body["position"]
    raw = await admin_client.get(
        f"{API}/sync/bundle",
        params={"unit_id": commune, "year": YEAR},
        headers={"Accept-Encoding": "identity"},
    )
    assert "content-encoding" not in raw.headers  # plain when gzip is not accepted
    assert raw.json()["unit"]["id"] == commune

    district = await admin_client.get(f"{API}/sync/bundle", params={"unit_id": sandbox["district"]})
    assert_problem(district, 422, "sync_unit_not_commune", ["query", "unit_id"])
    stranger = await make_principal(Role.COMMUNE_OFFICER, unit_id=uuid.UUID(sandbox["T102"]))
    hidden = await admin_client.get(
        f"{API}/sync/bundle", params={"unit_id": commune}, headers=stranger.headers
    )
    assert_problem(hidden, 404, "unit_not_found")
