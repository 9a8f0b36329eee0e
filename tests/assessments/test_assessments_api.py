"""The assessment resource: creation, values and their history, judgements, status, caching."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.permissions import Role
from app.models.system import AuditRecord
from tests.conftest import PrincipalFactory

PROBLEM = "application/problem+json"


async def _create(
    admin_client: AsyncClient, set_id: str, unit: uuid.UUID, year: int = 2023, **extra: Any
) -> dict[str, Any]:
    body = {
        "unit_id": str(unit),
        "criteria_set_id": set_id,
        "year": year,
        "kind": "self_assessment",
        **extra,
    }
    response = await admin_client.post("/api/v1/assessments", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_is_idempotent_with_a_client_id(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    chosen = str(uuid.uuid4())
    body = {
        "id": chosen,
        "unit_id": str(communes["A"]),
        "criteria_set_id": criteria_set["id"],
        "year": 2023,
        "kind": "appraisal",
    }
    first = await admin_client.post("/api/v1/assessments", json=body)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"/api/v1/assessments/{chosen}"
    assert first.json()["status"] == "draft"
    assert first.json()["revision"] == 1
    again = await admin_client.post("/api/v1/assessments", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == chosen
    other = await admin_client.post("/api/v1/assessments", json={**body, "year": 2024})
    assert other.status_code == 409
    assert other.json()["code"] == "assessment_id_conflict"


async def test_create_refuses_bad_subjects_naming_the_field(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    district = (
        await admin_client.get("/api/v1/units", params={"code": "218", "as_of": "2023-06-01"})
    ).json()["items"][0]["id"]
    base = {
        "unit_id": str(communes["A"]),
        "criteria_set_id": criteria_set["id"],
        "year": 2023,
        "kind": "self_assessment",
    }
    cases = [
        ({"year": 2019}, "year_outside_period", "year"),
        ({"unit_id": district}, "unit_level_mismatch", "unit_id"),
        ({"unit_id": str(uuid.uuid4())}, "unit_not_found", "unit_id"),
        ({"criteria_set_id": str(uuid.uuid4())}, "criteria_set_not_found", "criteria_set_id"),
        ({"kind": "audit"}, "validation_error", "kind"),
        ({"year": "twenty"}, "validation_error", "year"),
    ]
    for change, code, field in cases:
        response = await admin_client.post("/api/v1/assessments", json={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["code"] == code, body
        assert any(field in e["loc"] for e in body["errors"]), body


async def test_values_upsert_history_and_audit(
    admin_client: AsyncClient,
    client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    created = await _create(admin_client, criteria_set["id"], communes["A"])
    aid = created["id"]
    audit_before = await session.scalar(select(func.count()).select_from(AuditRecord))
    put = await admin_client.put(
        f"/api/v1/assessments/{aid}/values",
        json={
            "values": [
                {"indicator_code": "1.1", "value": 38, "note": "Báo cáo 2023"},
                {"indicator_code": "2.1", "value": "85%"},
                {"indicator_code": "2.2", "value": True, "evidence": [{"title": "Biên bản"}]},
            ]
        },
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"created": 3, "updated": 0, "unchanged": 0, "deleted": 0, "revision": 2}
    # One audit record for the whole request, not one per value.
    audit_after = await session.scalar(select(func.count()).select_from(AuditRecord))
    assert audit_after == (audit_before or 0) + 1

    again = await admin_client.put(
        f"/api/v1/assessments/{aid}/values",
        json={
            "values": [
                {"indicator_code": "1.1", "value": 41, "note": "Báo cáo 2023"},
                {"indicator_code": "2.1", "value": 85},
                {"indicator_code": "2.2", "value": None},
            ]
        },
    )
    assert again.json() == {"created": 0, "updated": 1, "unchanged": 1, "deleted": 1, "revision": 3}

    history = (await admin_client.get(f"/api/v1/assessments/{aid}/values/history")).json()["items"]
    income = [item for item in history if item["indicator_code"] == "1.1"]
    assert [(i["value"], i["change"]) for i in income] == [(38, "update"), (41, None)]
    assert income[0]["superseded_at"] is not None
    assert income[1]["superseded_at"] is None
    removed = [item for item in history if item["indicator_code"] == "2.2"]
    assert [(i["value"], i["change"]) for i in removed] == [(True, "delete")]
    only = await admin_client.get(
        f"/api/v1/assessments/{aid}/values/history", params={"indicator_code": "1.1"}
    )
    assert len(only.json()["items"]) == 2

    detail = (await admin_client.get(f"/api/v1/assessments/{aid}")).json()
    assert [(v["indicator_code"], v["value"]) for v in detail["values"]] == [
        ("1.1", 41),
        ("2.1", 85),
    ]
    assert detail["unit"]["code"] == "07450"
    assert detail["evaluation"]["summary"]["headline"] == "đạt 1/4 tiêu chí"


async def test_values_are_checked_against_their_indicator(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    aid = (await _create(admin_client, criteria_set["id"], communes["A"]))["id"]
    response = await admin_client.put(
        f"/api/v1/assessments/{aid}/values",
        json={
            "values": [
                {"indicator_code": "2.2", "value": 12},
                {"indicator_code": "2.1", "value": 101},
                {"indicator_code": "9.9", "value": 1},
                {"indicator_code": "4.1", "value": "basically_met"},
                {"indicator_code": "1.1", "value": True},
            ]
        },
    )
    assert response.status_code == 422
    errors = [(e["loc"], e["type"]) for e in response.json()["errors"]]
    assert errors == [
        (["body", "values", 0, "value"], "value_kind_mismatch"),
        (["body", "values", 1, "value"], "value_out_of_range"),
        (["body", "values", 2, "indicator_code"], "indicator_not_in_set"),
        (["body", "values", 3, "judgement_reason"], "judgement_reason_required"),
        (["body", "values", 4, "value"], "value_kind_mismatch"),
    ]
    missing = await admin_client.put(
        f"/api/v1/assessments/{uuid.uuid4()}/values", json={"values": []}
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "assessment_not_found"


async def test_status_transitions_and_locking(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    aid = (await _create(admin_client, criteria_set["id"], communes["A"]))["id"]
    skip = await admin_client.patch(f"/api/v1/assessments/{aid}", json={"status": "locked"})
    assert skip.status_code == 409
    assert skip.json()["code"] == "assessment_transition_not_allowed"
    assert skip.json()["allowed"] == ["submitted"]
    submitted = await admin_client.patch(f"/api/v1/assessments/{aid}", json={"status": "submitted"})
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"]
    locked = await admin_client.patch(f"/api/v1/assessments/{aid}", json={"status": "locked"})
    assert locked.json()["status"] == "locked"
    assert locked.json()["locked_at"]
    refused = await admin_client.put(
        f"/api/v1/assessments/{aid}/values",
        json={"values": [{"indicator_code": "1.1", "value": 50}]},
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "assessment_locked"
    for path, body in (
        ("judgements", {"judgements": []}),
        ("conditions", {"conditions": []}),
    ):
        response = await admin_client.put(f"/api/v1/assessments/{aid}/{path}", json=body)
        assert response.status_code == 409
        assert response.json()["code"] == "assessment_locked"
    reopen = await admin_client.patch(f"/api/v1/assessments/{aid}", json={"status": "draft"})
    assert reopen.status_code == 409
    assert reopen.json()["code"] == "assessment_locked"


async def test_etag_and_preconditions(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    aid = (await _create(admin_client, criteria_set["id"], communes["A"]))["id"]
    first = await admin_client.get(f"/api/v1/assessments/{aid}")
    etag = first.headers["etag"]
    cached = await admin_client.get(f"/api/v1/assessments/{aid}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    await admin_client.put(
        f"/api/v1/assessments/{aid}/values",
        json={"values": [{"indicator_code": "1.1", "value": 50}]},
    )
    changed = await admin_client.get(f"/api/v1/assessments/{aid}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    stale = await admin_client.patch(
        f"/api/v1/assessments/{aid}", json={"note": "x"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    fresh = await admin_client.patch(
        f"/api/v1/assessments/{aid}",
        json={"note": "x"},
        headers={"If-Match": changed.headers["etag"]},
    )
    assert fresh.status_code == 200
    assert fresh.json()["note"] == "x"
    evaluation = await admin_client.get(f"/api/v1/assessments/{aid}/evaluation")
    again = await admin_client.get(
        f"/api/v1/assessments/{aid}/evaluation",
        headers={"If-None-Match": evaluation.headers["etag"]},
    )
    assert again.status_code == 304


async def test_judgements_make_basically_met_only_with_reasons(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    aid = (await _create(admin_client, criteria_set["id"], communes["A"], kind="review"))["id"]
    no_reason = await admin_client.put(
        f"/api/v1/assessments/{aid}/judgements",
        json={"judgements": [{"criterion_number": 2, "status": "basically_met"}]},
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["type"] == "reason_required"
    unknown = await admin_client.put(
        f"/api/v1/assessments/{aid}/judgements",
        json={"judgements": [{"criterion_number": 42, "status": "met", "reason": "x"}]},
    )
    assert unknown.json()["errors"][0]["type"] == "criterion_not_in_set"
    judged = await admin_client.put(
        f"/api/v1/assessments/{aid}/judgements",
        json={
            "judgements": [
                {
                    "criterion_number": 2,
                    "status": "basically_met",
                    "reason": "Còn 2 km đường chưa cứng hóa, đã có kế hoạch vốn",
                }
            ]
        },
    )
    assert judged.status_code == 200, judged.text
    evaluation = (await admin_client.get(f"/api/v1/assessments/{aid}/evaluation")).json()
    criterion = evaluation["criteria"][1]
    assert (criterion["computed_status"], criterion["status"]) == ("not_met", "basically_met")
    assert criterion["judgement"]["reason"].startswith("Còn 2 km")
    assert evaluation["summary"]["criteria_basically_met"] == 1
    withdrawn = await admin_client.put(
        f"/api/v1/assessments/{aid}/judgements",
        json={"judgements": [{"criterion_number": 2, "status": None}]},
    )
    assert withdrawn.json()["deleted"] == 1
    evaluation = (await admin_client.get(f"/api/v1/assessments/{aid}/evaluation")).json()
    assert evaluation["criteria"][1]["status"] == "not_met"


async def test_compare_two_years_and_two_kinds(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    y2023 = (await _create(admin_client, set_id, communes["A"], 2023))["id"]
    y2024 = (await _create(admin_client, set_id, communes["A"], 2024))["id"]
    for aid in (y2023, y2024):
        await admin_client.put(
            f"/api/v1/assessments/{aid}/values",
            json={"values": [{"indicator_code": "1.1", "value": 42}]},
        )
    # 42 meets 2023's 40 but not 2024's 45: criterion 1 worsened.
    response = await admin_client.get(
        "/api/v1/assessments/compare", params={"a": y2023, "b": y2024}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["same_criteria_set"] is True
    assert body["changed"] == 1
    first = body["criteria"][0]
    assert (first["number"], first["a"], first["b"], first["direction"]) == (
        1,
        "met",
        "not_met",
        "worsened",
    )
    assert first["indicators"][0]["code"] == "1.1"
    assert body["a"]["summary"]["criteria_met"] == 1
    assert body["b"]["summary"]["criteria_met"] == 0

    council = (await _create(admin_client, set_id, communes["A"], 2023, kind="appraisal"))["id"]
    await admin_client.put(
        f"/api/v1/assessments/{council}/values",
        json={"values": [{"indicator_code": "1.1", "value": 39}]},
    )
    versus = (
        await admin_client.get("/api/v1/assessments/compare", params={"a": y2023, "b": council})
    ).json()
    assert [(c["number"], c["direction"]) for c in versus["criteria"] if c["changed"]] == [
        (1, "worsened")
    ]
    other_unit = (await _create(admin_client, set_id, communes["B"], 2023))["id"]
    refused = await admin_client.get(
        "/api/v1/assessments/compare", params={"a": y2023, "b": other_unit}
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "assessments_not_comparable"
    missing = await admin_client.get(
        "/api/v1/assessments/compare", params={"a": y2023, "b": str(uuid.uuid4())}
    )
    assert missing.status_code == 404


async def test_list_filters_and_cursor(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    made = [
        (await _create(admin_client, set_id, unit, year))["id"]
        for unit in communes.values()
        for year in (2023, 2024)
    ]
    page = await admin_client.get(
        "/api/v1/assessments", params={"criteria_set_id": set_id, "limit": 4}
    )
    body = page.json()
    assert len(body["items"]) == 4
    assert body["next_cursor"]
    assert 'rel="next"' in page.headers["link"]
    rest = await admin_client.get(
        "/api/v1/assessments",
        params={"criteria_set_id": set_id, "limit": 4, "cursor": body["next_cursor"]},
    )
    seen = [i["id"] for i in body["items"]] + [i["id"] for i in rest.json()["items"]]
    assert sorted(seen) == sorted(made)
    assert rest.json()["next_cursor"] is None
    only = await admin_client.get(
        "/api/v1/assessments",
        params={"criteria_set_id": set_id, "year": 2024, "unit_id": str(communes["B"])},
    )
    assert len(only.json()["items"]) == 1
    bad = await admin_client.get("/api/v1/assessments", params={"cursor": "garbage"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
    bad_since = await admin_client.get("/api/v1/assessments", params={"updated_since": "yesterday"})
    assert bad_since.status_code == 422
    assert "updated_since" in bad_since.json()["errors"][0]["loc"]


async def test_reads_follow_the_callers_scope(
    admin_client: AsyncClient,
    client: AsyncClient,
    app: Any,
    make_principal: Any,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    from httpx import ASGITransport

    from app.core.permissions import Role

    mine = (await _create(admin_client, criteria_set["id"], communes["A"]))["id"]
    other = (await _create(admin_client, criteria_set["id"], communes["C"]))["id"]
    anonymous = await client.get(f"/api/v1/assessments/{mine}")
    assert anonymous.status_code == 401
    officer = await make_principal(Role.COMMUNE_OFFICER, unit_id=communes["A"])
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver", headers=officer.headers
    ) as as_officer:
        assert (await as_officer.get(f"/api/v1/assessments/{mine}")).status_code == 200
        hidden = await as_officer.get(f"/api/v1/assessments/{other}/evaluation")
        assert hidden.status_code == 404
        assert hidden.json()["code"] == "assessment_not_found"
        listed = await as_officer.get(
            "/api/v1/assessments", params={"criteria_set_id": criteria_set["id"]}
        )
        assert [item["id"] for item in listed.json()["items"]] == [mine]
        judged = await as_officer.put(
            f"/api/v1/assessments/{mine}/judgements",
            json={"judgements": [{"criterion_number": 1, "status": "met", "reason": "x"}]},
        )
        assert judged.status_code == 403
        compared = await as_officer.get(
            "/api/v1/assessments/compare", params={"a": mine, "b": other}
        )
        assert compared.status_code == 404


async def test_only_a_reviewer_locks(
    client: AsyncClient,
    admin_client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
    make_principal: PrincipalFactory,
) -> None:
    aid = (await _create(admin_client, criteria_set["id"], communes["A"]))["id"]
    officer = await make_principal(Role.COMMUNE_OFFICER, unit_id=communes["A"])
    submitted = await client.patch(
        f"/api/v1/assessments/{aid}", json={"status": "submitted"}, headers=officer.headers
    )
    assert submitted.status_code == 200, submitted.text
    refused = await client.patch(
        f"/api/v1/assessments/{aid}", json={"status": "locked"}, headers=officer.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert (await admin_client.get(f"/api/v1/assessments/{aid}")).json()["status"] == "submitted"

    reviewer = await make_principal(Role.DISTRICT_OFFICER, unit_id=communes["A"])
    locked = await client.patch(
        f"/api/v1/assessments/{aid}", json={"status": "locked"}, headers=reviewer.headers
    )
    assert locked.status_code == 200, locked.text
    assert locked.json()["status"] == "locked"


async def test_every_write_returns_the_new_strong_etag(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    """The ETag is the assessment's (id, revision): each write answers the next one, so a field
    app can chain If-Match writes without reading again; a weak tag never matches If-Match."""
    created = await admin_client.post(
        "/api/v1/assessments",
        json={
            "unit_id": str(communes["B"]),
            "criteria_set_id": criteria_set["id"],
            "year": 2024,
            "kind": "self_assessment",
        },
    )
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    assert created.headers["etag"] == f'"{aid}.1"'
    assert (await admin_client.get(f"/api/v1/assessments/{aid}")).headers["etag"] == f'"{aid}.1"'
    url = f"/api/v1/assessments/{aid}/values"
    values = {"values": [{"indicator_code": "1.1", "value": 50}]}
    weak = await admin_client.put(url, json=values, headers={"If-Match": f'W/"{aid}.1"'})
    assert weak.status_code == 412, weak.text
    assert weak.json()["code"] == "precondition_failed"
    assert weak.json()["current_etag"] == f'"{aid}.1"'
    written = await admin_client.put(
        url, json=values, headers={"If-Match": created.headers["etag"]}
    )
    assert written.status_code == 200, written.text
    assert written.json()["revision"] == 2
    assert written.headers["etag"] == f'"{aid}.2"'
    submitted = await admin_client.patch(
        f"/api/v1/assessments/{aid}",
        json={"status": "submitted"},
        headers={"If-Match": written.headers["etag"]},
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.headers["etag"] == f'"{aid}.3"'
    again = await admin_client.put(url, json=values, headers={"If-Match": written.headers["etag"]})
    assert again.status_code == 412
    assert again.json()["current_etag"] == f'"{aid}.3"'


async def test_list_within_a_province_or_district(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    """``within=`` keeps the assessments of units under a unit at any date (issue #12)."""
    from app.units.seed import unit_id_for

    bac_giang = await _create(admin_client, criteria_set["id"], communes["A"])
    ha_noi = await _create(admin_client, criteria_set["id"], communes["C"])

    async def listed(within: uuid.UUID) -> set[str]:
        response = await admin_client.get(
            "/api/v1/assessments",
            params={"within": str(within), "criteria_set_id": criteria_set["id"]},
        )
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await listed(unit_id_for("province:24:pre2025")) == {bac_giang["id"]}
    assert await listed(unit_id_for("district:218:pre2025")) == {bac_giang["id"]}
    assert await listed(unit_id_for("province:01:pre2025")) == {ha_noi["id"]}
    # the old commune's successor lies in the new Bắc Ninh; the old commune itself does not
    assert await listed(unit_id_for("province:24:2025")) == set()
