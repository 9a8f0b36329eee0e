"""The revocation check applies the set's bands to titled units' latest assessments, and a
revocation keeps what it rests on; the register answers correctly before and after."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

from tests.assessments.conftest import COMMUNES
from tests.assessments.helpers import CSV_ROWS, assessment_of, csv_text, post_csv
from tests.recognitions.helpers import API, grant, revocation, unit_of


async def _check(client: AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/recognitions/revocation-check", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_check_lists_titled_units_under_a_band_then_revocation(
    admin_client: AsyncClient, criteria_set: dict[str, Any]
) -> None:
    imported = await post_csv(admin_client, criteria_set["id"], csv_text(CSV_ROWS))
    assert imported.status_code in (200, 201), imported.text
    units = {name: await unit_of(admin_client, code) for name, code in COMMUNES.items()}
    recognitions: dict[str, str] = {}
    for name in ("A", "B", "C", "D"):
        created = await admin_client.post(
            f"{API}/recognitions", json=grant(units[name], decision_number=f"{name}/QĐ")
        )
        assert created.status_code == 201, created.text
        recognitions[name] = created.json()["id"]

    falling = await _check(admin_client, as_of="2024-12-31")
    by_unit = {item["recognition"]["unit_id"]: item for item in falling}
    assert set(by_unit) == {str(units["B"]), str(units["C"])}
    b = by_unit[str(units["B"])]
    assert b["status"] == "falls_under_band"
    assert b["year"] == 2024
    assert [c["number"] for c in b["failing_criteria"]] == [1]
    assert b["failing_share"] == 0.25
    assert b["band"]["key_criteria_failing"] == [1]
    c = by_unit[str(units["C"])]
    assert [f["number"] for f in c["failing_criteria"]] == [1, 2, 4]
    assert c["band"]["min_failing_share"] == 0.5
    # in 2023, B's 2024 assessment does not exist yet: only C
    assert [
        i["recognition"]["unit_id"] for i in await _check(admin_client, as_of="2023-12-31")
    ] == [str(units["C"])]
    everything = await _check(admin_client, as_of="2024-12-31", status="within_bands")
    assert [i["recognition"]["unit_id"] for i in everything] == [str(units["A"])]
    missing = await _check(admin_client, as_of="2024-12-31", status="no_assessment")
    assert [i["recognition"]["unit_id"] for i in missing] == [str(units["D"])]

    # revoking C with the assessment the check found: the finding is kept with the decision
    assessment = await assessment_of(admin_client, criteria_set["id"], units["C"], 2023)
    other = await assessment_of(admin_client, criteria_set["id"], units["A"], 2023)
    wrong = await admin_client.post(
        f"{API}/recognitions/{recognitions['C']}/revocation",
        json=revocation(decision_date="2024-03-01", assessment_id=other["id"]),
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "revocation_assessment_mismatch"
    unknown = await admin_client.post(
        f"{API}/recognitions/{recognitions['C']}/revocation",
        json=revocation(decision_date="2024-03-01", assessment_id=str(uuid.uuid4())),
    )
    assert unknown.json()["code"] == "revocation_assessment_mismatch"
    revoked = await admin_client.post(
        f"{API}/recognitions/{recognitions['C']}/revocation",
        json=revocation(decision_date="2024-03-01", assessment_id=assessment["id"]),
    )
    assert revoked.status_code == 200, revoked.text
    basis = revoked.json()["revocation"]["basis"]
    assert basis["assessment_id"] == assessment["id"]
    assert basis["failing_criteria"] == [1, 2, 4]
    assert basis["status"] == "falls_under_band"

    def held(response: Any) -> set[str]:
        return {item["unit_id"] for item in response.json()["items"]}

    before = await admin_client.get(
        f"{API}/recognitions", params={"as_of": "2024-02-29", "title": "ntm_commune"}
    )
    after = await admin_client.get(
        f"{API}/recognitions", params={"as_of": "2024-03-01", "title": "ntm_commune"}
    )
    assert str(units["C"]) in held(before)
    assert str(units["C"]) not in held(after)
    assert held(before) - held(after) == {str(units["C"])}
    # the revoked title is no longer a candidate
    later = await _check(admin_client, as_of="2024-12-31")
    assert [i["recognition"]["unit_id"] for i in later] == [str(units["B"])]
