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


async def test_not_met_and_undetermined_are_counted_apart_in_the_callers_language(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    # C is in Hà Nội (DBSH); the test set has no 2022 value of 1.1 there, so 1.1 is undetermined.
    aid = await _assessment(admin_client, criteria_set["id"], communes["C"], 2022)
    values = [
        {"indicator_code": "1.1", "value": 50},  # no threshold for 2022: undetermined
        {"indicator_code": "2.1", "value": 10},  # < 80: criterion 2 not met
        {"indicator_code": "2.2", "value": True},
        {"indicator_code": "3.1", "value": 4},  # ≤ 5: criterion 3 met
    ]  # 4.1 (a judgement) is missing: criterion 4 not met
    put = await admin_client.put(f"/api/v1/assessments/{aid}/values", json={"values": values})
    assert put.status_code == 200, put.text
    url = f"/api/v1/assessments/{aid}/evaluation"
    vi = (await admin_client.get(url)).json()
    en = (await admin_client.get(url, headers={"Accept-Language": "en"})).json()
    for body in (vi, en):
        summary = body["summary"]
        assert (
            summary["criteria_met"],
            summary["criteria_not_met"],
            summary["criteria_undetermined"],
        ) == (1, 2, 1)
        assert body["title"]["attainable"] is False
    assert vi["summary"]["headline"] == "đạt 1/4 tiêu chí"
    assert en["summary"]["headline"] == "1/4 criteria met"
    assert vi["title"]["blocking"] == [
        "2/4 tiêu chí chưa đạt.",
        "1/4 tiêu chí chưa xác định được (thiếu ngưỡng hoặc chờ kết luận).",
        "Điều kiện resident_satisfaction: chưa có giá trị.",
        "Điều kiện no_outstanding_construction_debt: chưa có giá trị.",
    ]
    assert en["title"]["blocking"] == [
        "2 of 4 criteria not met.",
        "1 of 4 criteria cannot be decided yet (a threshold or a judgement is missing).",
        "Condition resident_satisfaction: no value.",
        "Condition no_outstanding_construction_debt: no value.",
    ]
    income_vi, income_en = vi["criteria"][0], en["criteria"][0]
    assert income_vi["status"] == income_en["status"] == "undetermined"
    assert income_en["indicators"][0]["reason"] == (
        "No threshold applies: no value was found for this unit's region, year or group."
    )
    assert income_vi["indicators"][0]["reason"] == (
        "Không có ngưỡng áp dụng: không tìm thấy giá trị cho vùng, năm hoặc nhóm của đơn vị."
    )
    assert income_en["reason"] == (
        "0/1 met; 1 cannot be decided without a threshold (all 1 indicators required)."
    )
    assert income_vi["reason"] == (
        "Đạt 0/1 chỉ tiêu; 1 chỉ tiêu chưa xác định được vì thiếu ngưỡng (yêu cầu cả 1 chỉ tiêu)."
    )
    poverty = en["criteria"][2]["indicators"][0]
    assert poverty["threshold_reason"] == "The set's value for region DBSH."
    assert vi["criteria"][2]["indicators"][0]["threshold_reason"] == (
        "Giá trị của bộ tiêu chí cho vùng DBSH."
    )
    assert en["criteria"][3]["indicators"][0]["reason"] == "No judgement recorded."
    assert vi["criteria"][3]["indicators"][0]["reason"] == "Chưa có kết luận đánh giá."
    # No recognition is recorded for the commune: the register answers "not held".
    assert en["revocation"]["reason"] == (
        "The unit does not hold the title on 2022-12-31: there is nothing to revoke."
    )
    assert vi["revocation"]["reason"].startswith("Đơn vị không giữ danh hiệu vào ngày 2022-12-31")
    assert en["revocation"]["unit_holds_title"] is False

    # The same figures and sentences wherever the evaluation shows: gaps, the row, comparisons.
    gaps = (await admin_client.get(f"/api/v1/assessments/{aid}/gaps")).json()
    assert gaps["summary"] == vi["summary"]
    assert [g["number"] for g in gaps["criteria"]] == [1, 2, 4]
    detail = await admin_client.get(f"/api/v1/assessments/{aid}", headers={"Accept-Language": "en"})
    assert detail.json()["evaluation"]["title"]["blocking"] == en["title"]["blocking"]
    listed = await admin_client.get(
        "/api/v1/assessments",
        params={"include": "evaluation", "unit_id": str(communes["C"])},
        headers={"Accept-Language": "en"},
    )
    assert listed.json()["items"][0]["evaluation"]["summary"] == en["summary"]
