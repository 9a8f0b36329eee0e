"""Units and the 2025 crosswalk as files: they open as tables, typed, with parents on the date."""

from __future__ import annotations

import datetime as dt

from httpx import AsyncClient

from app.exports import UNIT_COLUMNS
from app.units import query
from app.units.exports import LINEAGE_2025_TABLE, UNITS_TABLE
from tests.exports.helpers import XLSX, csv_rows, xlsx_sheets


def test_unit_columns_match_the_placement_select() -> None:
    assert tuple(c.name for c in UNIT_COLUMNS) == query.PLACEMENT_NAMES


async def _luc_nam_2024(client: AsyncClient) -> dict[str, object]:
    found = await client.get(
        "/api/v1/units", params={"q": "luc nam", "as_of": "2024-06-01", "level": "district"}
    )
    return found.json()["items"][0]


async def test_units_csv_has_parents_on_the_date(client: AsyncClient) -> None:
    district = await _luc_nam_2024(client)
    response = await client.get(
        "/api/v1/units",
        params={"parent_id": district["id"], "as_of": "2024-06-01", "format": "csv"},
    )
    rows = csv_rows(response)
    assert list(rows[0]) == list(UNITS_TABLE.names)
    json_page = await client.get(
        "/api/v1/units", params={"parent_id": district["id"], "as_of": "2024-06-01", "limit": 500}
    )
    assert [r["unit_id"] for r in rows] == [i["id"] for i in json_page.json()["items"]]
    first = rows[0]
    assert first["unit_level"] == "commune"
    assert first["district_code"] == district["code"] == "218"
    assert first["district_name"] == "Huyện Lục Nam"
    assert first["province_code"] == "24"
    assert first["province_name"] == "Tỉnh Bắc Giang"
    assert first["commune_code"] == first["unit_code"]
    assert first["valid_to"] == "2025-07-01"
    assert first["updated_at"].endswith("Z")


async def test_accept_header_chooses_the_format(client: AsyncClient) -> None:
    district = await _luc_nam_2024(client)
    params = {"parent_id": district["id"], "as_of": "2024-06-01"}
    as_csv = await client.get("/api/v1/units", params=params, headers={"Accept": "text/csv"})
    assert len(csv_rows(as_csv)) > 10
    as_xlsx = await client.get("/api/v1/units", params=params, headers={"Accept": XLSX})
    header, rows, described, sheet = xlsx_sheets(as_xlsx)
    assert header == list(UNITS_TABLE.names)
    assert len(rows) == len(csv_rows(as_csv))
    assert sheet.freeze_panes == "A2"
    by_name = dict(zip(header, rows[0], strict=True))
    assert isinstance(by_name["valid_from"], dt.datetime)  # a date cell
    assert isinstance(by_name["updated_at"], dt.datetime)
    assert by_name["district_name"] == "Huyện Lục Nam"
    assert described[0] == ["column", "type", "description"]
    assert [r[0] for r in described[1 : 1 + len(header)]] == header
    assert ["query", "parent_id", district["id"]] in described


async def test_excel_csv_has_bom_and_semicolons(client: AsyncClient) -> None:
    district = await _luc_nam_2024(client)
    response = await client.get(
        "/api/v1/units",
        params={
            "parent_id": district["id"],
            "as_of": "2024-06-01",
            "format": "csv",
            "excel": "true",
        },
    )
    rows = csv_rows(response, excel=True)
    assert rows[0]["district_code"] == "218"


async def test_unknown_format_names_the_field(client: AsyncClient) -> None:
    response = await client.get("/api/v1/units", params={"format": "pdf"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert ["query", "format"] in [e["loc"] for e in response.json()["errors"]]
    refused = await client.get("/api/v1/exports/lineage-2025", params={"format": "json"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "export_format_unavailable"
    assert refused.json()["errors"][0]["loc"] == ["query", "format"]


async def test_lineage_2025_crosswalk(client: AsyncClient) -> None:
    rows = csv_rows(await client.get("/api/v1/exports/lineage-2025"))
    assert list(rows[0]) == list(LINEAGE_2025_TABLE.names)
    # Every commune of 30/06/2025 appears, the split ones once per part.
    assert len({r["old_unit_id"] for r in rows}) == 10047  # the official count (dvhcvn eaddcea)
    doi_ngo = [r for r in rows if r["old_unit_code"] == "07444"]
    assert len(doi_ngo) == 1
    row = doi_ngo[0]
    assert row["old_unit_name"] == "Thị trấn Đồi Ngô"
    assert row["old_district_name"] == "Huyện Lục Nam"
    assert row["old_province_code"] == "24"
    assert row["new_unit_name"] == "Xã Lục Nam"
    assert row["new_district_code"] == ""
    assert row["new_province_code"] == "24"  # the code reused by the new Bắc Ninh
    assert "Bắc Ninh" in row["new_province_name"]
    assert row["effective_date"] == "2025-07-01"
    assert any(r["partly"] == "true" for r in rows)
