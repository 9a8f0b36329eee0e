"""Rules every import keeps (issues 10 and 11): out of scope looks exactly like absent, errors
name what the caller sent, text written to a spreadsheet never runs as a formula, and one status
rule for the indicator, villages and criteria-set imports."""

from __future__ import annotations

import io
import uuid
from typing import Any

from httpx import ASGITransport, AsyncClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import spreadsheet
from app.core.permissions import Role
from app.models.assessments import IndicatorValue
from tests.assessments.conftest import LUC_NAM_DISTRICT
from tests.assessments.helpers import CSV_ROWS, IMPORT, counts, csv_text, post_csv, unit_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = '=HYPERLINK("http://example.invalid","x")'


async def _as(app: Any, headers: dict[str, str]) -> AsyncClient:
    return AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver", headers=headers
    )


async def _lock(admin_client: AsyncClient, set_id: str, unit: uuid.UUID) -> str:
    created = await admin_client.post(
        "/api/v1/assessments",
        json={
            "unit_id": str(unit),
            "criteria_set_id": set_id,
            "year": 2023,
            "kind": "self_assessment",
        },
    )
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    for status in ("submitted", "locked"):
        moved = await admin_client.patch(f"/api/v1/assessments/{aid}", json={"status": status})
        assert moved.status_code == 200, moved.text
    return str(aid)


async def test_a_unit_outside_the_callers_scope_is_refused_as_one_that_does_not_exist(
    admin_client: AsyncClient,
    app: Any,
    make_principal: Any,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    locked = await _lock(admin_client, set_id, communes["C"])  # a Hà Nội commune
    officer = await make_principal(Role.COMMUNE_OFFICER, unit_id=communes["A"])
    before = await counts(session)
    async with await _as(app, officer.headers) as as_officer:
        for dry_run in ("true", "false"):
            bodies = {}
            for code in ("00379", "99999"):  # out of scope (with a locked assessment), absent
                response = await as_officer.post(
                    IMPORT,
                    params={"criteria_set_id": set_id, "dry_run": dry_run},
                    files={
                        "file": ("v.csv", csv_text([(code, 2023, "1.1", "42", "")]), "text/csv")
                    },
                )
                assert response.status_code == 422, response.text
                body = response.json()
                assert body["code"] == "import_rejected"
                [group] = body["rejections"]
                bodies[code] = group
                assert group["code"] == "unit_not_found"
                assert group["rows"][0]["value"] == code
                assert group["rows"][0]["message"] == f"No commune had code {code} in 2023."
                assert locked not in response.text
                assert "locked" not in response.text
            assert bodies["00379"]["rows"][0]["field"] == bodies["99999"]["rows"][0]["field"]
        # In scope, the officer still imports.
        mine = await as_officer.post(
            IMPORT,
            params={"criteria_set_id": set_id},
            files={"file": ("v.csv", csv_text([("07450", 2023, "1.1", "42", "")]), "text/csv")},
        )
        assert mine.status_code == 201, mine.text
    assert (await counts(session))[1] == before[1] + 1


async def test_the_status_rule_of_the_indicator_import(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    set_id = criteria_set["id"]
    text = csv_text(CSV_ROWS)
    dry = await post_csv(admin_client, set_id, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["written"]) == (17, False)
    assert await counts(session) == (0, 0, 0)
    real = await post_csv(admin_client, set_id, text)
    assert real.status_code == 201, real.text
    again = await post_csv(admin_client, set_id, text)
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 17)


def test_the_neutraliser_and_its_inverse() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", FORMULA):
        shown = spreadsheet.neutralise(text)
        assert shown == "'" + text
        assert spreadsheet.restore(shown) == text
        assert spreadsheet.csv_cell(text) == shown
    for text in ("Xã Lục Sơn", "'quoted", "42", ""):
        assert spreadsheet.neutralise(text) == text
        assert spreadsheet.restore(text) == text
    assert spreadsheet.csv_cell(-1) == -1
    assert spreadsheet.trim("  \t=1+1  ") == "\t=1+1"
    assert spreadsheet.trim("  a b \n") == "a b"


async def test_the_template_writes_user_text_as_inert_text_and_round_trips(
    admin_client: AsyncClient,
    client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    renamed = await admin_client.patch(
        f"/api/v1/units/{communes['A']}",
        json={"name": FORMULA, "effective_date": "2021-01-01"},
    )
    assert renamed.status_code == 200, renamed.text
    district = await unit_of(client, LUC_NAM_DISTRICT, "district")
    response = await admin_client.get(
        "/api/v1/indicator-values/template",
        params={"criteria_set_id": set_id, "unit_id": str(district), "year": 2023},
    )
    assert response.status_code == 200, response.text
    workbook = load_workbook(io.BytesIO(response.content))
    values = workbook["values"]
    [cell] = [row[1] for row in values.iter_rows(min_row=2) if row[0].value == "07450"]
    assert cell.value == "'" + FORMULA
    assert cell.data_type == "s"
    assert all(
        c.data_type != "f"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for c in row
    )
    # Filled in and sent back, the file imports; the name column is not data.
    for row in values.iter_rows(min_row=2):
        if row[0].value == "07450":
            row[3].value = 42
    buffer = io.BytesIO()
    workbook.save(buffer)
    imported = await admin_client.post(IMPORT, files={"file": ("t.xlsx", buffer.getvalue(), XLSX)})
    assert imported.status_code == 201, imported.text
    assert (imported.json()["created"], imported.json()["rejected"]) == (1, 0)


async def test_a_leading_tab_is_kept_and_our_apostrophe_is_removed_on_import(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    rows = [
        ("07450", 2023, "1.1", "42", "\t=1+1"),
        ("07450", 2023, "2.1", "'-5", "'=SUM(A1)"),
    ]
    response = await post_csv(admin_client, criteria_set["id"], csv_text(rows), partial=True)
    assert response.status_code in (200, 201), response.text
    body = response.json()
    # "'-5" is our own neutralised "-5": read back as -5, out of the indicator's range.
    assert [group["code"] for group in body["rejections"]] == ["value_out_of_range"]
    notes = set(await session.scalars(select(IndicatorValue.note)))
    assert notes == {"\t=1+1"}


async def test_the_villages_import_follows_the_same_status_rule(
    admin_client: AsyncClient, session: AsyncSession, communes: dict[str, uuid.UUID]
) -> None:
    csv = "code,name,type,parent_code\nTV-01,Thôn Thử,thon,07450\n"
    dry = await admin_client.post(
        "/api/v1/units/import",
        params={"dry_run": "true", "as_of": "2024-01-01"},
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["unit_ids"]) == (1, [None])
    real = await admin_client.post(
        "/api/v1/units/import",
        params={"as_of": "2024-01-01"},
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert real.status_code == 201, real.text
    [village] = real.json()["unit_ids"]
    assert village is not None
    shown = await admin_client.get(f"/api/v1/units/{village}", params={"as_of": "2024-06-01"})
    assert shown.status_code == 200, shown.text
    again = await admin_client.post(
        "/api/v1/units/import",
        params={"as_of": "2024-01-01"},
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["unchanged"], again.json()["unit_ids"]) == (
        0,
        1,
        [village],
    )
    bad = "code,name,type,parent_code\nTV-02,Thôn Hai,thon,99999\n"
    for dry_run in ("true", "false"):
        refused = await admin_client.post(
            "/api/v1/units/import",
            params={"dry_run": dry_run, "as_of": "2024-01-01"},
            content=bad.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "import_rejected"


async def test_a_villages_import_names_the_commune_code_it_cannot_see(
    app: Any, make_principal: Any, communes: dict[str, uuid.UUID]
) -> None:
    officer = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=communes["A"])
    csv = "code,name,type,parent_code\nTV-03,Thôn Ba,thon,00379\nTV-04,Thôn Bốn,thon,99999\n"
    async with await _as(app, officer.headers) as as_officer:
        for dry_run in ("true", "false"):
            response = await as_officer.post(
                "/api/v1/units/import",
                params={"dry_run": dry_run, "as_of": "2024-01-01"},
                content=csv.encode(),
                headers={"Content-Type": "text/csv"},
            )
            assert response.status_code == 422, response.text
            body = response.json()
            assert body["code"] == "import_rejected"
            messages = [(e["loc"], e["type"], e["msg"]) for e in body["errors"]]
            assert [m[1] for m in messages] == ["parent_not_found", "parent_not_found"]
            assert "00379" in messages[0][2]
            assert "99999" in messages[1][2]
            assert str(communes["C"]) not in response.text


async def test_thresholds_of_a_commune_gone_by_december_say_which_as_of_resolves_them(
    client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    url = f"/api/v1/criteria-sets/{criteria_set['id']}/thresholds"
    unit = str(communes["A"])  # merged away in the 2025 reform
    gone = await client.get(url, params={"unit_id": unit, "year": 2025})
    assert gone.status_code == 404, gone.text
    detail = gone.json()["detail"]
    assert gone.json()["code"] == "unit_not_found"
    assert "as_of=2025-06-30" in detail, detail
    hinted = await client.get(url, params={"unit_id": unit, "year": 2025, "as_of": "2025-06-30"})
    assert hinted.status_code == 200, hinted.text
    unknown = await client.get(url, params={"unit_id": str(uuid.uuid4()), "year": 2025})
    assert unknown.status_code == 404
    assert "as_of" not in unknown.json()["detail"]
