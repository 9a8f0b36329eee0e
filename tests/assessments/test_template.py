"""The XLSX template of a set for a district: pre-filled, and it imports back unchanged."""

from __future__ import annotations

import io
import uuid
from typing import Any

from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.assessments.conftest import LUC_NAM_DISTRICT
from tests.assessments.helpers import IMPORT, assessment_of, counts, unit_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _template(admin_client: AsyncClient, set_id: str, district: uuid.UUID) -> bytes:
    response = await admin_client.get(
        "/api/v1/indicator-values/template",
        params={"criteria_set_id": set_id, "unit_id": str(district), "year": 2023},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    return response.content


async def _import(admin_client: AsyncClient, content: bytes, **params: str) -> dict[str, Any]:
    response = await admin_client.post(
        IMPORT, params=params, files={"file": ("template.xlsx", content, XLSX)}
    )
    body = dict(response.json())
    created = body["created"] or body["assessments_created"]
    assert response.status_code == (201 if created else 200), response.text
    return body


async def test_template_round_trip(
    admin_client: AsyncClient,
    client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    district = await unit_of(client, LUC_NAM_DISTRICT, "district")
    content = await _template(admin_client, set_id, district)
    sheet = load_workbook(io.BytesIO(content), read_only=True)["values"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["unit_code", "unit_name", "year", "1.1", "2.1", "2.2", "3.1", "3.2", "4.1"]
    codes = [row[0] for row in rows[1:]]
    assert "07450" in codes
    assert "07453" in codes
    assert len(codes) > 10
    assert all(isinstance(code, str) and len(code) == 5 for code in codes)
    assert all(value is None for row in rows[1:] for value in row[3:])

    # Untouched, the empty template imports without error and writes nothing.
    untouched = await _import(admin_client, content)
    assert untouched["layout"] == "wide"
    assert untouched["rows"] == 0
    assert await counts(session) == (0, 0, 0)

    # Fill two communes as a province office would, and import (set and kind come from `meta`).
    workbook = load_workbook(io.BytesIO(content))
    values = workbook["values"]
    for row in values.iter_rows(min_row=2):
        if row[0].value == "07450":
            for cell, value in zip(row[3:], [42, 85, "có", 14, 1, "đạt"], strict=True):
                cell.value = value
        if row[0].value == "07453":
            row[3].value = 39.5
    buffer = io.BytesIO()
    workbook.save(buffer)
    filled = await _import(admin_client, buffer.getvalue())
    assert (filled["created"], filled["rejected"], filled["assessments_created"]) == (7, 0, 2)
    a = await assessment_of(admin_client, set_id, communes["A"], 2023)
    evaluation = (await admin_client.get(f"/api/v1/assessments/{a['id']}/evaluation")).json()
    assert evaluation["summary"]["criteria_met"] == 4

    # A new download carries the stored values; importing it unchanged changes nothing.
    again = await _template(admin_client, set_id, district)
    sheet = load_workbook(io.BytesIO(again), read_only=True)["values"]
    by_code = {row[0]: list(row) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_code["07450"][3:] == [42, 85, True, 14, 1, "met"]
    assert by_code["07453"][3] == 39.5
    before = await counts(session)
    result = await _import(admin_client, again, criteria_set_id=set_id)
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 7)
    assert await counts(session) == before


async def test_template_refuses_bad_queries(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    base = {"criteria_set_id": criteria_set["id"], "unit_id": str(communes["A"])}
    outside = await admin_client.get(
        "/api/v1/indicator-values/template", params={**base, "year": 2019}
    )
    assert outside.status_code == 422
    assert outside.json()["code"] == "year_outside_period"
    missing = await admin_client.get("/api/v1/indicator-values/template", params=base)
    assert missing.status_code == 422
    assert "year" in missing.json()["errors"][0]["loc"]
    nowhere = await admin_client.get(
        "/api/v1/indicator-values/template",
        params={**base, "unit_id": str(uuid.uuid4()), "year": 2023},
    )
    assert nowhere.status_code == 422
    assert nowhere.json()["code"] == "unit_not_found"
