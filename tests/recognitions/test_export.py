"""The register as a flat file: `GET /recognitions?format=csv|xlsx` and
`GET /units/{id}/recognitions?format=…` (one row per recognition, its unit placed on the day)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from httpx import AsyncClient

from app.core.permissions import Role
from app.recognitions.exports import RECOGNITIONS_TABLE
from tests.conftest import PrincipalFactory
from tests.exports.helpers import csv_rows, xlsx_sheets
from tests.recognitions.helpers import API, grant, parent_of, revocation, unit_of

FORMULA = '=HYPERLINK("x")'


async def _code_name(client: AsyncClient, unit_id: uuid.UUID, as_of: str) -> tuple[str, str]:
    response = await client.get(f"{API}/units/{unit_id}", params={"as_of": as_of})
    assert response.status_code == 200, response.text
    return response.json()["code"], response.json()["name"]


async def _register(client: AsyncClient) -> dict[str, Any]:
    """Two communes of one district, one revoked, and the district itself."""
    first = await unit_of(client, "07450")
    district = await parent_of(client, first)
    listed = await client.get(
        f"{API}/units", params={"parent_id": str(district), "as_of": "2023-06-01", "limit": 5}
    )
    second = next(
        uuid.UUID(item["id"]) for item in listed.json()["items"] if item["code"] != "07450"
    )
    kept = await client.post(
        f"{API}/recognitions", json=grant(first, signer=FORMULA, issuing_body="UBND tỉnh")
    )
    assert kept.status_code == 201, kept.text
    revoked = await client.post(
        f"{API}/recognitions",
        json=grant(second, year_for=2020, decision_number="7/QĐ-UBND", decision_date="2021-02-01"),
    )
    assert revoked.status_code == 201, revoked.text
    done = await client.post(
        f"{API}/recognitions/{revoked.json()['id']}/revocation", json=revocation()
    )
    assert done.status_code == 200, done.text
    lucnam = await client.post(
        f"{API}/recognitions",
        json=grant(
            district,
            title="ntm_district",
            year_for=2023,
            decision_number="37/QĐ-TTg",
            decision_date="2024-01-11",
            signer="Thủ tướng Chính phủ",
        ),
    )
    assert lucnam.status_code == 201, lucnam.text
    return {
        "first": first,
        "second": second,
        "district": district,
        "kept": kept.json()["id"],
        "revoked": revoked.json()["id"],
        "lucnam": lucnam.json()["id"],
    }


async def test_csv_has_every_recognition_with_its_unit_and_neutralised_text(
    admin_client: AsyncClient,
) -> None:
    made = await _register(admin_client)
    response = await admin_client.get(f"{API}/recognitions", params={"format": "csv"})
    rows = csv_rows(response)
    assert 'filename="recognitions.csv"' in response.headers["content-disposition"]
    by_id = {row["recognition_id"]: row for row in rows}
    assert set(by_id) == {made["kept"], made["revoked"], made["lucnam"]}
    assert list(rows[0])[:3] == ["unit_id", "unit_code", "unit_name"]
    kept = by_id[made["kept"]]
    # placed on today: the commune and its district ended with the 2025 reform, so both are
    # shown as they last were
    code, name = await _code_name(admin_client, made["first"], "2025-06-30")
    district_code, district_name = await _code_name(admin_client, made["district"], "2025-06-30")
    assert kept["unit_id"] == str(made["first"])
    assert (kept["unit_code"], kept["unit_name"], kept["unit_level"]) == (code, name, "commune")
    assert kept["unit_type"] in {"xa", "phuong", "thi_tran"}
    assert kept["province_code"]
    assert kept["province_name"]
    assert (kept["district_code"], kept["district_name"]) == (district_code, district_name)
    assert kept["signer"] == "'" + FORMULA
    assert kept["issuing_body"] == "UBND tỉnh"
    assert (kept["title"], kept["year_for"], kept["decision_date"]) == (
        "ntm_commune",
        "2019",
        "2020-01-11",
    )
    assert (kept["held_from"], kept["held_until"], kept["revocation_decision_number"]) == (
        "2020-01-11",
        "",
        "",
    )
    assert kept["source"] == "historical"
    gone = by_id[made["revoked"]]
    assert (gone["held_until"], gone["revocation_decision_date"]) == ("2022-03-01", "2022-03-01")
    assert gone["revocation_decision_number"] == "99/QĐ-UBND"
    assert gone["revocation_reason"] == "Không còn đạt 10/19 tiêu chí"
    assert gone["updated_at"].endswith("Z")

    # as_of: held that day, units placed that day (the district still stood on 2021-06-01)
    held = csv_rows(
        await admin_client.get(
            f"{API}/recognitions", params={"format": "csv", "as_of": "2021-06-01"}
        )
    )
    assert {row["recognition_id"] for row in held} == {made["kept"], made["revoked"]}
    code_then, _ = await _code_name(admin_client, made["first"], "2021-06-01")
    district_then, name_then = await _code_name(admin_client, made["district"], "2021-06-01")
    first = next(row for row in held if row["recognition_id"] == made["kept"])
    assert (first["unit_code"], first["district_code"], first["district_name"]) == (
        code_then,
        district_then,
        name_then,
    )
    assert (district_code, district_name) == (district_then, name_then)

    # the other filters of the JSON list
    for params, expected in (
        ({"title": "ntm_district"}, {made["lucnam"]}),
        ({"year": 2020}, {made["revoked"]}),
        ({"unit_id": str(made["first"])}, {made["kept"]}),
        ({"within": str(made["district"]), "as_of": "2022-06-01"}, {made["kept"]}),
        ({"source": "dossier"}, set()),
    ):
        response = await admin_client.get(f"{API}/recognitions", params={**params, "format": "csv"})
        assert {row["recognition_id"] for row in csv_rows(response)} == expected, params
        listed = await admin_client.get(f"{API}/recognitions", params=params)
        assert {item["id"] for item in listed.json()["items"]} == expected, params

    # Accept chooses the file too; excel=true the Excel dialect
    by_accept = await admin_client.get(f"{API}/recognitions", headers={"Accept": "text/csv"})
    assert len(csv_rows(by_accept)) == 3
    excel = await admin_client.get(f"{API}/recognitions", params={"format": "csv", "excel": True})
    assert len(csv_rows(excel, excel=True)) == 3


async def test_xlsx_has_typed_cells_and_the_query(admin_client: AsyncClient) -> None:
    made = await _register(admin_client)
    response = await admin_client.get(
        f"{API}/recognitions", params={"format": "xlsx", "as_of": "2021-06-01"}
    )
    header, rows, described, sheet = xlsx_sheets(response)
    assert header[11:14] == ["recognition_id", "title", "year_for"]
    records = [dict(zip(header, row, strict=True)) for row in rows]
    by_id = {record["recognition_id"]: record for record in records}
    assert set(by_id) == {made["kept"], made["revoked"]}
    kept = by_id[made["kept"]]
    assert kept["year_for"] == 2019
    assert kept["decision_date"].date() == date(2020, 1, 11)
    assert kept["held_until"] is None
    assert kept["signer"] == "'" + FORMULA
    gone = by_id[made["revoked"]]
    assert gone["revocation_decision_date"].date() == date(2022, 3, 1)
    assert gone["held_until"].date() == date(2022, 3, 1)
    assert gone["held_from"].date() == date(2021, 2, 1)
    cell = sheet.cell(row=2, column=header.index("signer") + 1)
    assert cell.data_type == "s"
    assert sheet.cell(row=2, column=header.index("decision_date") + 1).is_date
    assert ["query", "as_of", "2021-06-01"] in described
    assert ["rows", "integer", 2] in described


async def test_one_units_titles_as_a_file(admin_client: AsyncClient) -> None:
    made = await _register(admin_client)
    url = f"{API}/units/{made['second']}/recognitions"
    held = csv_rows(await admin_client.get(url, params={"format": "csv", "as_of": "2021-06-01"}))
    assert [row["recognition_id"] for row in held] == [made["revoked"]]
    assert held[0]["unit_id"] == str(made["second"])
    after = csv_rows(await admin_client.get(url, params={"format": "csv", "as_of": "2022-03-01"}))
    assert after == []
    _, rows, _, _ = xlsx_sheets(
        await admin_client.get(url, params={"format": "xlsx", "as_of": "2021-06-01"})
    )
    assert len(rows) == 1
    missing = await admin_client.get(
        f"{API}/units/{uuid.uuid4()}/recognitions", params={"format": "csv"}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_unknown_format_is_refused(admin_client: AsyncClient) -> None:
    commune = await unit_of(admin_client, "07450")
    for url in (f"{API}/recognitions", f"{API}/units/{commune}/recognitions"):
        response = await admin_client.get(url, params={"format": "pdf"})
        assert response.status_code == 422, url
        body = response.json()
        assert any(error["loc"] == ["query", "format"] for error in body["errors"]), body


async def test_the_file_keeps_the_caller_scope(
    admin_client: AsyncClient, client: AsyncClient, make_principal: PrincipalFactory
) -> None:
    made = await _register(admin_client)
    officer = await make_principal(Role.COMMUNE_OFFICER, unit_id=made["first"])
    mine = await client.get(
        f"{API}/recognitions", params={"format": "csv"}, headers=officer.headers
    )
    rows = csv_rows(mine)
    assert list(rows[0]) == list(RECOGNITIONS_TABLE.names)
    assert [row["recognition_id"] for row in rows] == [made["kept"]]
    other = await client.get(
        f"{API}/units/{made['second']}/recognitions",
        params={"format": "csv", "as_of": "2021-06-01"},
        headers=officer.headers,
    )
    assert other.status_code == 404, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    anonymous = await client.get(f"{API}/recognitions", params={"format": "csv"})
    assert anonymous.status_code == 401
