"""Every bad input yields its code with row numbers and the offending value, and writes nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.assessments.helpers import CSV_ROWS, IMPORT, counts, csv_text, errors_by_code, post_csv

PROBLEM = "application/problem+json"


async def test_row_problems_are_grouped_by_code_with_rows_and_values(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    rows = [
        ("07450", 2023, "1.1", "42", ""),  # row 2: fine
        ("99999", 2023, "1.1", "42", ""),  # 3: no such commune
        ("218", 2023, "1.1", "42", ""),  # 4: a district code, not a commune
        ("07450", 2023, "9.9", "1", ""),  # 5: not an indicator of the set
        ("07450", 2023, "2.2", "maybe", ""),  # 6: not yes/no
        ("07450", 2023, "1.1", "abc", ""),  # 7: not a number
        ("07450", 2023, "2.1", "-5", ""),  # 8: negative share
        ("07450", 2023, "3.1", "120", ""),  # 9: share over 100 %
        ("07450", 2019, "1.1", "42", ""),  # 10: before the set's period
        ("07450", 2023, "1.1", "44", ""),  # 11: same unit, year and indicator as row 2
        ("07450", 2023, "4.1", "basically_met", ""),  # 12: cơ bản đạt without reasons
        ("07450", "20x3", "1.1", "42", ""),  # 13: not a year
        ("07450", 2023, "1.1", "", ""),  # 14: no value
    ]
    response = await post_csv(admin_client, criteria_set["id"], csv_text(rows))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "import_rejected"
    assert body["written"] is False
    assert body["rejected"] == 12
    assert body["rows"] == 13
    found = errors_by_code(body)
    by_rows = {code: [(r["row"], r["value"]) for r in listed] for code, listed in found.items()}
    assert by_rows == {
        "unit_not_found": [(3, "99999")],
        "unit_level_mismatch": [(4, "218")],
        "indicator_not_in_set": [(5, "9.9")],
        "value_kind_mismatch": [(6, "maybe"), (7, "abc")],
        "value_out_of_range": [(8, "-5"), (9, "120")],
        "year_outside_period": [(10, "2019")],
        "duplicate_row": [(11, "44")],
        "judgement_reason_required": [(12, "basically_met")],
        "invalid_year": [(13, "20x3")],
        "missing_value": [(14, "")],
    }
    assert "row 2" in found["duplicate_row"][0]["message"]
    assert "negative" in found["value_out_of_range"][0]["message"]
    assert "100" in found["value_out_of_range"][1]["message"]
    assert await counts(session) == (0, 0, 0)


async def test_a_dry_run_with_refused_rows_answers_422_like_the_real_run(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    rows = [*CSV_ROWS[:3], ("99999", 2023, "1.1", "42", "")]
    bodies = {}
    for dry_run in (True, False):
        response = await post_csv(admin_client, criteria_set["id"], csv_text(rows), dry_run=dry_run)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "import_rejected"
        assert (body["rejected"], body["written"], body["dry_run"]) == (1, False, dry_run)
        assert body["errors"] == [
            {
                "loc": ["body", 5, "unit_code"],
                "msg": "No commune had code 99999 in 2023.",
                "type": "unit_not_found",
            }
        ]
        bodies[dry_run] = {k: v for k, v in body.items() if k not in ("import_id", "duration_ms")}
    assert bodies[True]["rejections"] == bodies[False]["rejections"]
    assert bodies[True]["created"] == 3  # what the real run would have written
    assert await counts(session) == (0, 0, 0)
    # With `partial`, the valid rows would be written: the dry run answers 200, the real run 201.
    dry = await post_csv(
        admin_client, criteria_set["id"], csv_text(rows), dry_run=True, partial=True
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["rejected"]) == (3, 1)
    assert await counts(session) == (0, 0, 0)


def _xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["unit_code", "year", "indicator_code", "value"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


FILE_CASES = [
    pytest.param(b"", "text/csv", "values.csv", "empty_file", None, id="empty"),
    pytest.param(
        b"unit_code,year,indicator_code,value\n",
        "text/csv",
        "v.csv",
        "empty_file",
        2,
        id="header-only",
    ),
    pytest.param(
        b"unit_code,year,indicator_code,value\n07450,2023,1.1,42\n07450,2023,2.",
        "text/csv",
        "v.csv",
        "truncated_file",
        3,
        id="truncated-csv",
    ),
    pytest.param(
        b'unit_code,year,indicator_code,value,note\n07450,2023,1.1,42,"unfinished',
        "text/csv",
        "v.csv",
        "truncated_file",
        2,
        id="truncated-quote",
    ),
    pytest.param(
        b'[{"unit_code": "07450", "year": 2023, "indicator_code": "1.1", "value": 42}, {"unit_',
        "application/json",
        "v.json",
        "truncated_file",
        None,
        id="truncated-json",
    ),
    pytest.param(_xlsx_bytes()[:300], None, "v.xlsx", "truncated_file", None, id="truncated-xlsx"),
    pytest.param(_xlsx_bytes(), "text/csv", "v.csv", "file_type_mismatch", None, id="xlsx-as-csv"),
    pytest.param(
        b"unit_code,year,indicator_code,value\n07450,2023,1.1,42\n",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "v.xlsx",
        "file_type_mismatch",
        None,
        id="csv-as-xlsx",
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00", "text/csv", "v.csv", "file_type_mismatch", None, id="png"
    ),
    pytest.param(
        b"unit_code,indicator_code,value\n07450,1.1,42\n",
        "text/csv",
        "v.csv",
        "missing_columns",
        1,
        id="no-year",
    ),
    pytest.param(
        "unit_code,year,indicator_code,value\n07450,2023,1.1,Đạt\n".encode("utf-16"),
        "text/csv",
        "v.csv",
        "file_type_mismatch",
        None,
        id="utf16",
    ),
    pytest.param(
        "unit_code,year,indicator_code,value,note\n07450,2023,1.1,42,Hà\n".encode("cp1258"),
        "text/csv",
        "v.csv",
        "invalid_encoding",
        None,
        id="not-utf8",
    ),
]


@pytest.mark.parametrize(("content", "media_type", "name", "code", "row"), FILE_CASES)
async def test_file_problems(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    content: bytes,
    media_type: str | None,
    name: str,
    code: str,
    row: int | None,
) -> None:
    file: tuple[str, bytes] | tuple[str, bytes, str] = (
        (name, content, media_type) if media_type else (name, content)
    )
    response = await admin_client.post(
        IMPORT, params={"criteria_set_id": criteria_set["id"]}, files={"file": file}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "import_rejected"
    assert [group["code"] for group in body["rejections"]] == [code]
    assert body["rejections"][0]["rows"][0]["row"] == row
    assert await counts(session) == (0, 0, 0)
    # partial=true does not write part of a file that cannot be read as a whole.
    again = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": criteria_set["id"], "partial": "true"},
        files={"file": file},
    )
    assert again.status_code == 422
    assert await counts(session) == (0, 0, 0)


async def test_raw_body_json_that_is_not_an_array(
    admin_client: AsyncClient, criteria_set: dict[str, Any]
) -> None:
    response = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": criteria_set["id"]},
        content=json.dumps([1, {"unit_code": "07450"}]).encode(),
        headers={"Content-Type": "application/json"},
    )
    body = response.json()
    assert {g["code"] for g in body["rejections"]} == {"malformed_row", "missing_value"}


async def test_bad_options_are_422_naming_the_field(
    admin_client: AsyncClient, criteria_set: dict[str, Any]
) -> None:
    for params, field in (
        ({"criteria_set_id": "nope"}, "criteria_set_id"),
        ({"criteria_set_id": criteria_set["id"], "mode": "merge"}, "mode"),
        ({"criteria_set_id": criteria_set["id"], "kind": "audit"}, "kind"),
        ({}, "criteria_set_id"),
    ):
        response = await admin_client.post(
            IMPORT, params=params, files={"file": ("v.csv", b"a,b\n", "text/csv")}
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert any(field in error["loc"] for error in response.json()["errors"]), response.json()
    unknown = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": "00000000-0000-0000-0000-000000000000"},
        files={"file": ("v.csv", csv_text(CSV_ROWS).encode(), "text/csv")},
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "criteria_set_not_found"


@pytest.mark.parametrize("field", ["unit_code", "unit_id", "year", "indicator_code", "note"])
@pytest.mark.parametrize("bad", [["07450"], {"code": "07450"}])
async def test_json_structures_where_a_scalar_belongs_are_rejected_rows(
    admin_client: AsyncClient,
    criteria_set: dict[str, Any],
    session: AsyncSession,
    field: str,
    bad: Any,
) -> None:
    row: dict[str, Any] = {"unit_code": "07450", "year": 2023, "indicator_code": "1.1", "value": 50}
    row[field] = bad
    response = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": criteria_set["id"]},
        content=json.dumps([row]).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "import_rejected"
    assert body["rejections"], body
    [group] = body["rejections"]
    assert group["code"] == "malformed_row"
    assert [(r["row"], r["field"]) for r in group["rows"]] == [(1, field)]
    assert await counts(session) == (0, 0, 0)


async def test_partial_import_with_every_row_refused_writes_nothing(
    admin_client: AsyncClient, criteria_set: dict[str, Any], session: AsyncSession
) -> None:
    text = "unit_code,year,indicator_code,value\n99999,2023,1.1,50\n07450,2023,9.9,1\n"
    response = await post_csv(admin_client, criteria_set["id"], text, partial=True)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "import_rejected"
    assert body["written"] is False
    assert body["rejected"] == 2
    # Vietnamese by default (issue 11 item 4); the English sentence says "every row was refused"
    assert body["detail"].startswith("Không có gì được nhập")
    assert await counts(session) == (0, 0, 0)


async def test_an_overlong_note_is_refused_as_through_the_values_api(
    admin_client: AsyncClient, criteria_set: dict[str, Any], session: AsyncSession
) -> None:
    text = "unit_code,year,indicator_code,value,note\n07450,2023,1.1,50," + "x" * 5001 + "\n"
    response = await post_csv(admin_client, criteria_set["id"], text)
    assert response.status_code == 422, response.text
    [group] = response.json()["rejections"]
    assert group["code"] == "value_out_of_range"
    assert [(r["row"], r["field"]) for r in group["rows"]] == [(2, "note")]
    assert await counts(session) == (0, 0, 0)
