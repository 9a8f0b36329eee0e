"""Reports against hand-computed figures for the small province of ``conftest.py``: across a
merger and a commune that became a ward, before and after a recognition's decision date."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

from app.core.permissions import Role
from app.reports.router import SERIES_TABLE, SUMMARY_TABLE
from tests.conftest import PrincipalFactory
from tests.exports.helpers import csv_rows, xlsx_sheets

SUMMARY = "/api/v1/reports/summary"


def _titles(section: dict[str, Any]) -> dict[str, tuple[int, float | None]]:
    return {t["title"]: (t["count"], t["share"]) for t in section["titles"]}


async def test_summary_before_the_reform_of_the_province(
    admin_client: AsyncClient, province: dict[str, Any]
) -> None:
    response = await admin_client.get(
        SUMMARY, params={"unit_id": province["TP"], "year": 2023, "as_of": "2023-06-01"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # A, B, C, E, F, W are all rural communes; A, B, W hold NTM, E advanced (so NTM too).
    assert body["communes"]["denominator"] == 6
    assert body["communes"]["excluded"] == {}
    titles = _titles(body["communes"])
    assert titles["ntm_commune"] == (4, round(4 / 6, 4))
    assert titles["advanced_ntm_commune"] == (1, round(1 / 6, 4))
    assert titles["model_ntm_commune"] == (0, 0.0)
    # D1's NTM decision is of 2023-09-01: not yet held.
    assert body["districts"]["count"] == 2
    assert _titles(body["districts"])["ntm_district"] == (0, 0.0)
    assert body["computed_attainment"]["assessed"] == 0
    assert body["computed_attainment"]["average_criteria_met"] is None


async def test_summary_after_the_merger_before_and_after_the_decision(
    admin_client: AsyncClient, province: dict[str, Any]
) -> None:
    before = (
        await admin_client.get(
            SUMMARY, params={"unit_id": province["TP"], "year": 2024, "as_of": "2024-03-01"}
        )
    ).json()
    # AB, C, E, F rural; W is a ward since 2024-01-01 and leaves the denominator (its title
    # stays in the register but is not counted); AB's decision comes on 2024-03-15.
    assert before["communes"]["denominator"] == 4
    assert before["communes"]["excluded"] == {"phuong": 1}
    assert _titles(before["communes"])["ntm_commune"] == (1, 0.25)
    assert _titles(before["districts"])["ntm_district"] == (1, 0.5)
    after = (
        await admin_client.get(
            SUMMARY, params={"unit_id": province["TP"], "year": 2024, "as_of": "2024-04-01"}
        )
    ).json()
    assert after["communes"]["denominator"] == 4
    assert _titles(after["communes"])["ntm_commune"] == (2, 0.5)
    assert after["freshness"]["recognitions"] is not None
    assert after["freshness"]["newest_change"] == after["freshness"]["recognitions"]


async def test_computed_attainment_beside_the_titles(
    admin_client: AsyncClient, province: dict[str, Any], criteria_set: dict[str, Any]
) -> None:
    set_id = criteria_set["id"]

    async def assess(unit: str, values: list[dict[str, Any]]) -> None:
        body = {"unit_id": unit, "criteria_set_id": set_id, "year": 2024, "kind": "appraisal"}
        created = await admin_client.post("/api/v1/assessments", json=body)
        assert created.status_code == 201, created.text
        put = await admin_client.put(
            f"/api/v1/assessments/{created.json()['id']}/values", json={"values": values}
        )
        assert put.status_code == 200, put.text

    # AB meets criteria 2 (2.1 ≥ 80 and 2.2), 3 (3.2 ≥ 2 suffices) and 4 (judged met); C meets
    # only 4 (2.1 is 50 < 80). Criterion 1's income threshold depends on a region this test
    # province has none of: neither meets it.
    await assess(
        province["AB"],
        [
            {"indicator_code": "2.1", "value": 90},
            {"indicator_code": "2.2", "value": True},
            {"indicator_code": "3.2", "value": 3},
            {"indicator_code": "4.1", "value": "met"},
        ],
    )
    await assess(
        province["C"],
        [
            {"indicator_code": "2.1", "value": 50},
            {"indicator_code": "2.2", "value": True},
            {"indicator_code": "4.1", "value": "met"},
        ],
    )
    params = {"unit_id": province["TP"], "year": 2024, "as_of": "2024-04-01",
              "criteria_set_id": set_id}  # fmt: skip
    body = (await admin_client.get(SUMMARY, params=params)).json()
    done = body["computed_attainment"]
    assert done["assessed"] == 2
    assert done["not_assessed"] == 2
    assert done["average_criteria_met"] == 2.0  # (3 + 1) / 2
    assert done["criteria_total"] == 4
    assert [(b["min_met"], b["max_met"], b["count"]) for b in done["bands"]] == [
        (4, 4, 0), (3, 3, 1), (2, 2, 0), (1, 1, 1), (0, 0, 0),
    ]  # fmt: skip
    by_number = {c["number"]: c for c in done["criteria"]}
    assert (by_number[2]["met"], by_number[2]["not_met"]) == (1, 1)
    assert by_number[4]["met"] == 2
    assert by_number[1]["met"] == 0
    # Titles stay the register's: computed attainment changes nothing there.
    assert _titles(body["communes"])["ntm_commune"] == (2, 0.5)
    assert [s["code"] for s in body["criteria_sets"]] == [criteria_set["code"]]
    assert body["criteria_sets"][0]["legal_basis_number"] == "TEST/2024"
    assert body["freshness"]["assessments"] is not None

    rows = (await admin_client.get("/api/v1/reports/criteria-attainment", params=params)).json()[
        "items"
    ]
    assert len(rows) == 8  # two communes × four criteria
    ab = {r["criterion_number"]: r["status"] for r in rows if r["unit_id"] == province["AB"]}
    assert (ab[2], ab[3], ab[4]) == ("met", "met", "met")
    assert {r["district_code"] for r in rows} == {"TP9D1"}

    as_file = await admin_client.get(SUMMARY, params={**params, "format": "csv"})
    figures = {(r["section"], r["key"]): r for r in csv_rows(as_file)}
    assert list(next(iter(csv_rows(as_file)))) == list(SUMMARY_TABLE.names)
    assert figures[("communes", "ntm_commune")]["value"] == "2"
    assert figures[("communes", "ntm_commune")]["denominator"] == "4"
    assert figures[("computed_attainment", "average_criteria_met")]["value"] == "2.0"
    header, data, _, _ = xlsx_sheets(
        await admin_client.get(
            "/api/v1/reports/criteria-attainment", params={**params, "format": "xlsx"}
        )
    )
    assert len(data) == 8
    assert isinstance(dict(zip(header, data[0], strict=True))["criterion_number"], int)


async def test_series_each_year_on_its_own_map(
    admin_client: AsyncClient, province: dict[str, Any]
) -> None:
    response = await admin_client.get(
        "/api/v1/reports/series",
        params={"unit_id": province["TP"], "from": 2023, "to": 2024, "group_by": "district"},
    )
    assert response.status_code == 200, response.text
    years = {y["year"]: y for y in response.json()["items"]}
    first, second = years[2023], years[2024]
    assert first["as_of"] == "2023-12-31"
    assert first["total"]["communes"]["denominator"] == 6
    groups = {g["unit"]["code"]: g["communes"] for g in first["groups"]}
    assert (groups["TP9D1"]["denominator"], _titles(groups["TP9D1"])["ntm_commune"][0]) == (3, 2)
    assert (groups["TP9D2"]["denominator"], _titles(groups["TP9D2"])["ntm_commune"][0]) == (3, 2)
    groups = {g["unit"]["code"]: g["communes"] for g in second["groups"]}
    assert (groups["TP9D1"]["denominator"], _titles(groups["TP9D1"])["ntm_commune"][0]) == (2, 1)
    assert (groups["TP9D2"]["denominator"], _titles(groups["TP9D2"])["ntm_commune"][0]) == (2, 1)
    assert groups["TP9D2"]["excluded"] == {"phuong": 1}
    as_csv = csv_rows(
        await admin_client.get(
            "/api/v1/reports/series",
            params={
                "unit_id": province["TP"],
                "from": 2023,
                "to": 2024,
                "group_by": "district",
                "format": "csv",
            },
        )
    )
    assert list(as_csv[0]) == list(SERIES_TABLE.names)
    found = [(r["year"], r["group_code"], r["rural_communes"], r["ntm_commune"]) for r in as_csv]
    assert found == [
        ("2023", "", "6", "4"), ("2023", "TP9D1", "3", "2"), ("2023", "TP9D2", "3", "2"),
        ("2024", "", "4", "2"), ("2024", "TP9D1", "2", "1"), ("2024", "TP9D2", "2", "1"),
    ]  # fmt: skip


async def test_bad_input_names_the_field(
    admin_client: AsyncClient, client: AsyncClient, province: dict[str, Any]
) -> None:
    outside = await admin_client.get(SUMMARY, params={"unit_id": province["TP"], "year": 1999})
    assert outside.status_code == 422
    no_set = await admin_client.get(SUMMARY, params={"unit_id": province["TP"], "year": 2015})
    assert no_set.status_code == 422
    assert no_set.json()["code"] == "year_outside_criteria_sets"
    assert no_set.json()["errors"][0]["loc"] == ["query", "year"]
    gone = await admin_client.get(
        SUMMARY, params={"unit_id": province["A"], "year": 2024, "as_of": "2024-06-01"}
    )
    assert gone.status_code == 422
    assert gone.json()["code"] == "unit_not_on_map"
    assert gone.json()["errors"][0]["loc"] == ["query", "unit_id"]
    missing = await admin_client.get(SUMMARY, params={"unit_id": str(uuid.uuid4()), "year": 2024})
    assert missing.status_code == 404
    bad_format = await admin_client.get(
        SUMMARY, params={"unit_id": province["TP"], "year": 2024, "format": "pdf"}
    )
    assert bad_format.status_code == 422
    assert ["query", "format"] in [e["loc"] for e in bad_format.json()["errors"]]
    no_district = await admin_client.get(
        "/api/v1/reports/series",
        params={"unit_id": province["TP"], "from": 2025, "to": 2025, "group_by": "village"},
    )
    assert no_district.status_code == 422
    assert no_district.json()["errors"][0]["loc"] == ["query", "group_by"]
    anonymous = await client.get(SUMMARY, params={"unit_id": province["TP"], "year": 2024})
    assert anonymous.status_code == 401


async def test_national_summary_needs_a_national_grant(
    admin_client: AsyncClient,
    client: AsyncClient,
    province: dict[str, Any],
    make_principal: PrincipalFactory,
) -> None:
    params = {"year": 2023, "as_of": "2023-06-01"}
    national = await admin_client.get(SUMMARY, params=params)
    assert national.status_code == 200, national.text
    body = national.json()
    assert body["unit"] is None
    # The seeded national map plus the six rural communes of the test province.
    in_province = (
        await admin_client.get(SUMMARY, params={**params, "unit_id": province["TP"]})
    ).json()
    assert body["communes"]["denominator"] > in_province["communes"]["denominator"] == 6
    assert _titles(body["communes"])["ntm_commune"][0] == 4  # only the test decisions
    coordinator = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=uuid.UUID(province["TP"]))
    refused = await client.get(SUMMARY, params=params, headers=coordinator.headers)
    assert refused.status_code in (403, 404)
    mine = await client.get(
        SUMMARY, params={**params, "unit_id": province["TP"]}, headers=coordinator.headers
    )
    assert mine.status_code == 200, mine.text
    other = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=uuid.UUID(province["D2"]))
    hidden = await client.get(
        SUMMARY, params={**params, "unit_id": province["D1"]}, headers=other.headers
    )
    assert hidden.status_code == 404
