"""Bad input found by fuzzing: each answers a 4xx problem naming the field, and writes nothing."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.assessments.helpers import IMPORT, counts, errors_by_code, post_csv

PROBLEM = "application/problem+json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_updated_since_leaving_the_calendar_in_utc_is_a_validation_error(
    admin_client: AsyncClient,
) -> None:
    response = await admin_client.get(
        "/api/v1/assessments", params={"updated_since": "0001-01-01T00:00:00+14:00"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["query", "updated_since"]


def _json_row(value: bytes, *, year: bytes = b"2023", code: bytes = b'"07450"') -> bytes:
    return (
        b'[{"unit_code":'
        + code
        + b',"year":'
        + year
        + b',"indicator_code":"1.1","value":'
        + value
        + b"}]"
    )


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("deep", b"[" * 100_000 + b"]" * 100_000, "malformed_file"),
        ("deep rows", b'{"rows":' + b"[" * 5000 + b"]" * 5000 + b"}", "malformed_file"),
        ("surrogate value", _json_row(b'"\\ud800"'), "invalid_encoding"),
        ("surrogate code", _json_row(b"1", code=b'"\\udfff"'), "invalid_encoding"),
    ],
)
async def test_json_files_that_cannot_be_read_are_file_problems(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    name: str,
    content: bytes,
    code: str,
) -> None:
    before = await counts(session)
    for partial in ("false", "true"):
        response = await admin_client.post(
            IMPORT,
            params={"criteria_set_id": criteria_set["id"], "partial": partial},
            files={"file": ("values.json", content, "application/json")},
        )
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["code"] == "import_rejected"
        assert [group["code"] for group in body["rejections"]] == [code]
    assert await counts(session) == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (_json_row(b"9" * 5000), "value_kind_mismatch"),  # beyond int(): infinite as a float
        (_json_row(b"1", year=b"9" * 5000), "year_outside_period"),
        (_json_row(b"1", year=b"9" * 30), "year_outside_period"),  # beyond 64 bits
        (_json_row(b"1", year=b"-" + b"9" * 30), "invalid_year"),
    ],
)
async def test_json_integers_of_any_size_are_row_problems(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    content: bytes,
    code: str,
) -> None:
    before = await counts(session)
    response = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": criteria_set["id"]},
        files={"file": ("values.json", content, "application/json")},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "import_rejected"
    assert [group["code"] for group in body["rejections"]] == [code]
    assert isinstance(body["rejections"][0]["rows"][0]["value"], str)
    assert await counts(session) == before


async def test_csv_years_int_cannot_read_are_row_problems(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    before = await counts(session)
    rows = [("9" * 5000, "1.1"), ("²⁰²³", "2.1"), ("2023", "3.1")]
    text = "unit_code,year,indicator_code,value\n" + "".join(
        f"07450,{year},{code},1\n" for year, code in rows
    )
    response = await post_csv(admin_client, criteria_set["id"], text)
    assert response.status_code == 422, response.text
    found = errors_by_code(response.json())
    assert [row["row"] for row in found["year_outside_period"]] == [2]
    assert "5000 digits" in found["year_outside_period"][0]["message"]
    assert [row["row"] for row in found["invalid_year"]] == [3]
    assert await counts(session) == before


def _damaged_xlsx(damage: Callable[[bytes], bytes]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["unit_code", "year", "indicator_code", "value", "note"])
    sheet.append(["07450", 2023, "1.1", 42, "NOTE"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = damage(data)
            target.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        lambda xml: xml.replace(b"NOTE", b"a&#0;b"),  # a character XML cannot hold
        lambda xml: xml.replace(b"NOTE", b"a&#xD800;b"),
        lambda xml: xml[: len(xml) // 2],  # the XML breaks off inside a complete ZIP
        # a cell pointing at a shared string that does not exist
        lambda xml: xml.replace(
            b"<sheetData>", b'<sheetData><row r="1"><c t="s"><v>99</v></c></row>'
        ),
    ],
    ids=["nul", "surrogate", "cut", "shared string"],
)
async def test_xlsx_with_a_damaged_sheet_is_a_file_problem(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    damage: Callable[[bytes], bytes],
) -> None:
    before = await counts(session)
    response = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": criteria_set["id"], "partial": "true"},
        files={"file": ("values.xlsx", _damaged_xlsx(damage), XLSX)},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "import_rejected"
    assert [group["code"] for group in body["rejections"]] == ["malformed_file"]
    assert await counts(session) == before


@pytest.mark.parametrize("field", ["note", "unit_code", "value"])
async def test_json_text_with_a_nul_character_is_a_row_problem_on_both_databases(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any], field: str
) -> None:
    row = {"unit_code": "07450", "year": 2023, "indicator_code": "1.1", "value": "42"}
    row[field] = "4\x002"
    before = await counts(session)
    response = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": criteria_set["id"]},
        files={"file": ("values.json", json.dumps([row]).encode(), "application/json")},
    )
    assert response.status_code == 422, response.text
    found = errors_by_code(response.json())
    assert [(r["row"], r["field"], r["value"]) for r in found["malformed_row"]] == [
        (1, field, "4\\u00002")
    ]
    assert await counts(session) == before


async def test_csv_with_a_nul_byte_after_its_head_is_refused_as_a_file(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    text = "unit_code,year,indicator_code,value,note\n" + "07450,2023,1.1,42,ok\n" * 2000
    text += "07450,2023,3.2,1,a\x00b\n"
    before = await counts(session)
    response = await post_csv(admin_client, criteria_set["id"], text, partial=True)
    assert response.status_code == 422, response.text
    body = response.json()
    assert [group["code"] for group in body["rejections"]] == ["file_type_mismatch"]
    assert body["rejections"][0]["rows"][0]["row"] == 2002
    assert await counts(session) == before


async def test_a_job_for_a_criteria_set_that_does_not_exist_is_404(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    before = await counts(session)
    response = await post_csv(
        admin_client,
        str(uuid.uuid4()),
        "unit_code,year,indicator_code,value\n07450,2023,1.1,42\n",
        **{"async": True},
    )
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "criteria_set_not_found"
    assert await counts(session) == before


async def test_every_reference_of_the_assessment_operations_resolves(client: AsyncClient) -> None:
    """Schema-driven clients and fuzzers skipped the problem responses: FieldError was a $def of
    Problem but referred to as a component."""
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    text = json.dumps(
        {
            path: item
            for path, item in document["paths"].items()
            if path.startswith(
                ("/api/v1/assessments", "/api/v1/indicator-values", "/api/v1/import")
            )
        }
        | {"components": schemas}
    )
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert "FieldError" in refs
    assert refs <= set(schemas), refs - set(schemas)
