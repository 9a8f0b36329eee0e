"""Assessments as files: values (unit × indicator), criteria (unit × criterion), evaluations and
the assessment list; they open as tables, typed, and a formula typed by a user stays text."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

from app.assessments.exports import (
    ASSESSMENTS_TABLE,
    CRITERION_RESULTS_TABLE,
    EVALUATION_RESULTS_TABLE,
    INDICATOR_VALUES_TABLE,
)
from app.core.permissions import Role
from tests.conftest import PrincipalFactory
from tests.exports.helpers import csv_rows, xlsx_sheets

FORMULA = '=HYPERLINK("http://evil.example","x")'


async def _assessment(
    client: AsyncClient, set_id: str, unit: uuid.UUID, values: list[dict[str, Any]]
) -> str:
    body = {"unit_id": str(unit), "criteria_set_id": set_id, "year": 2023, "kind": "appraisal"}
    created = await client.post("/api/v1/assessments", json=body)
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    put = await client.put(f"/api/v1/assessments/{aid}/values", json={"values": values})
    assert put.status_code == 200, put.text
    return str(aid)


async def _two(
    client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> tuple[str, str]:
    set_id = criteria_set["id"]
    a = await _assessment(
        client,
        set_id,
        communes["A"],
        [
            {"indicator_code": "1.1", "value": 50, "note": FORMULA},
            {"indicator_code": "2.1", "value": 90.5},
            {"indicator_code": "2.2", "value": True},
            {"indicator_code": "3.1", "value": 20},
            {"indicator_code": "3.2", "value": 3},
            {"indicator_code": "4.1", "value": "met"},
        ],
    )
    # Hà Nội (DBSH): 50 is below its 2023 income threshold of 55.
    c = await _assessment(client, set_id, communes["C"], [{"indicator_code": "1.1", "value": 50}])
    return a, c


async def test_indicator_values_csv_and_xlsx(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    a, c = await _two(admin_client, criteria_set, communes)
    params = {"criteria_set_id": criteria_set["id"], "year": "2023"}
    rows = csv_rows(await admin_client.get("/api/v1/exports/indicator-values", params=params))
    assert list(rows[0]) == list(INDICATOR_VALUES_TABLE.names)
    assert len(rows) == 7
    income = next(r for r in rows if r["assessment_id"] == a and r["indicator_code"] == "1.1")
    assert income["note"] == "'" + FORMULA  # neutralised
    assert float(income["value_number"]) == 50
    assert income["criterion_number"] == "1"
    assert income["indicator_name"] == "Thu nhập bình quân đầu người"
    assert income["unit_code"] == "07450"
    assert income["district_code"] == "218"
    assert income["province_code"] == "24"
    assert income["criteria_set_code"] == criteria_set["code"]
    assert income["assessment_status"] == "draft"
    hall = next(r for r in rows if r["assessment_id"] == a and r["indicator_code"] == "2.2")
    assert hall["value_bool"] == "true"
    assert hall["value_number"] == ""
    assert {r["province_code"] for r in rows if r["assessment_id"] == c} == {"01"}

    excel = await admin_client.get(
        "/api/v1/exports/indicator-values", params={**params, "excel": "true"}
    )
    roads = next(r for r in csv_rows(excel, excel=True) if r["indicator_code"] == "2.1")
    assert roads["value_number"] == "90,5"

    header, data, described, _ = xlsx_sheets(
        await admin_client.get(
            "/api/v1/exports/indicator-values", params={**params, "format": "xlsx"}
        )
    )
    assert header == list(INDICATOR_VALUES_TABLE.names)
    records = [dict(zip(header, row, strict=True)) for row in data]
    assert len(records) == 7
    income_cell = next(
        r for r in records if r["assessment_id"] == a and r["indicator_code"] == "1.1"
    )
    assert income_cell["note"] == "'" + FORMULA
    assert income_cell["value_number"] == 50
    assert income_cell["year"] == 2023
    hall_cell = next(r for r in records if r["indicator_code"] == "2.2")
    assert hall_cell["value_bool"] is True
    types = {row[0]: row[1] for row in described[1 : 1 + len(header)]}
    assert types["value_number"] == "number"
    assert types["entered_at"] == "datetime"


async def test_criterion_and_evaluation_results(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    a, c = await _two(admin_client, criteria_set, communes)
    params = {"criteria_set_id": criteria_set["id"], "year": "2023"}
    criteria = csv_rows(await admin_client.get("/api/v1/exports/criterion-results", params=params))
    assert list(criteria[0]) == list(CRITERION_RESULTS_TABLE.names)
    of_a = {int(r["criterion_number"]): r for r in criteria if r["assessment_id"] == a}
    assert sorted(of_a) == [1, 2, 3, 4]
    assert {r["criterion_status"] for r in of_a.values()} == {"met"}
    assert of_a[3]["indicators_met"] == "1"  # 3.2 met, 3.1 not: at least one suffices
    of_c = {int(r["criterion_number"]): r for r in criteria if r["assessment_id"] == c}
    assert of_c[1]["criterion_status"] == "not_met"
    assert of_c[2]["indicators_missing"] == "2"

    evaluated = csv_rows(
        await admin_client.get("/api/v1/exports/evaluation-results", params=params)
    )
    assert list(evaluated[0]) == list(EVALUATION_RESULTS_TABLE.names)
    by_id = {r["assessment_id"]: r for r in evaluated}
    assert by_id[a]["criteria_met"] == "4"
    assert by_id[a]["criteria_total"] == "4"
    assert by_id[c]["criteria_met"] == "0"
    assert by_id[c]["criteria_not_met"] == "4"  # a missing value does not meet its criterion
    assert by_id[a]["error"] == ""

    header, data, _, _ = xlsx_sheets(
        await admin_client.get(
            "/api/v1/exports/evaluation-results", params={**params, "format": "xlsx"}
        )
    )
    row = dict(zip(header, next(r for r in data if r[0] == a), strict=True))
    assert row["criteria_met"] == 4


async def test_assessment_list_as_csv_keeps_the_caller_scope(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
    make_principal: PrincipalFactory,
) -> None:
    a, c = await _two(admin_client, criteria_set, communes)
    params = {"criteria_set_id": criteria_set["id"], "format": "csv"}
    rows = csv_rows(await admin_client.get("/api/v1/assessments", params=params))
    assert list(rows[0]) == list(ASSESSMENTS_TABLE.names)
    assert {r["assessment_id"] for r in rows} == {a, c}
    officer = await make_principal(Role.COMMUNE_OFFICER, unit_id=communes["A"])
    mine = csv_rows(await client.get("/api/v1/assessments", params=params, headers=officer.headers))
    assert [r["assessment_id"] for r in mine] == [a]
    values = csv_rows(
        await client.get(
            "/api/v1/exports/indicator-values",
            params={"criteria_set_id": criteria_set["id"]},
            headers=officer.headers,
        )
    )
    assert {r["assessment_id"] for r in values} == {a}
    anonymous = await client.get("/api/v1/exports/indicator-values")
    assert anonymous.status_code == 401
