"""A province's history of decisions: dry run, real run, then again unchanged; bad rows."""

from __future__ import annotations

import io
from typing import Any

from httpx import AsyncClient, Response
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.recognitions import Recognition
from app.models.system import AuditRecord
from tests.recognitions.helpers import API

HEADER = [
    "unit_code",
    "title",
    "year_for",
    "decision_number",
    "decision_date",
    "signer",
    "issuing_body",
    "revocation_decision_number",
    "revocation_decision_date",
    "revocation_signer",
    "revocation_reason",
]


async def _communes(client: AsyncClient, count: int) -> list[str]:
    codes: list[str] = []
    cursor: str | None = None
    while len(codes) < count:
        params: dict[str, Any] = {"level": "commune", "as_of": "2023-06-01", "limit": 500}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(f"{API}/units", params=params)
        assert response.status_code == 200, response.text
        codes += [item["code"] for item in response.json()["items"] if item["type"] == "xa"]
        cursor = response.json()["next_cursor"]
        assert cursor or len(codes) >= count
    return codes[:count]


def _csv(rows: list[list[str]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _history(codes: list[str]) -> list[list[str]]:
    """NTM for 2022 by a decision of 2023-01-10 for every commune; advanced for 2023 (decided
    15/01/2024) for every third; every tenth NTM revoked on 2024-06-01."""
    rows = []
    for i, code in enumerate(codes):
        revoked = ["", "", "", ""]
        if i % 10 == 0:
            revoked = ["77/QĐ-UBND", "2024-06-01", "Chủ tịch UBND tỉnh", "Không duy trì tiêu chí"]
        rows.append(
            [
                code,
                "ntm_commune",
                "2022",
                "12/QĐ-UBND",
                "2023-01-10",
                "Chủ tịch UBND tỉnh",
                "UBND tỉnh",
                *revoked,
            ]
        )
        if i % 3 == 0:
            rows.append(
                [
                    code,
                    "advanced_ntm_commune",
                    "2023",
                    "40/QĐ-UBND",
                    "15/01/2024",
                    "Chủ tịch UBND tỉnh",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    return rows


async def _post(client: AsyncClient, content: bytes, **params: Any) -> Response:
    query = {k: str(v).lower() for k, v in params.items()}
    return await client.post(
        f"{API}/recognitions/import",
        params=query,
        files={"file": ("history.csv", content, "text/csv")},
    )


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Recognition)) or 0)


async def test_history_dry_then_real_then_unchanged(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    codes = await _communes(admin_client, 240)
    rows = _history(codes)
    assert len(rows) == 320
    content = _csv(rows)

    dry = await _post(admin_client, content, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == 320
    assert dry.json()["written"] is False
    assert await _count(session) == 0

    real = await _post(admin_client, content)
    assert real.status_code == 201, real.text
    summary = real.json()
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (320, 0, 0)
    assert await _count(session) == 320
    audited = await session.scalar(select(func.count()).where(AuditRecord.entity == "recognition"))
    assert audited == 320

    again = await _post(admin_client, content)
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (
        0,
        0,
        320,
    )
    stored = (await session.execute(select(Recognition.revision))).scalars().all()
    assert set(stored) == {1}

    def total(response: Response) -> int:
        return int(response.json()["total"])

    async def held(day: str, title: str) -> int:
        response = await admin_client.get(
            f"{API}/recognitions",
            params={"as_of": day, "title": title, "limit": 1, "include_total": "true"},
        )
        return total(response)

    assert await held("2023-01-09", "ntm_commune") == 0
    assert await held("2023-01-10", "ntm_commune") == 240
    assert await held("2024-05-31", "ntm_commune") == 240
    assert await held("2024-06-01", "ntm_commune") == 240 - 24
    assert await held("2024-01-14", "advanced_ntm_commune") == 0
    assert await held("2024-01-15", "advanced_ntm_commune") == 80

    # a correction of one decision number: updated, the rest unchanged
    rows[1][3] = "13/QĐ-UBND"
    corrected = await _post(admin_client, _csv(rows))
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["updated"], corrected.json()["unchanged"]) == (1, 319)


async def test_bad_rows_refuse_the_whole_file_unless_partial(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    codes = await _communes(admin_client, 3)
    good = [codes[0], "ntm_commune", "2022", "1/QĐ", "2023-01-10", "X", "", "", "", "", ""]
    rows = [
        good,
        ["99999", "ntm_commune", "2022", "1/QĐ", "2023-01-10", "X", "", "", "", "", ""],
        [codes[1], "ntm_commune", "2022", "1/QĐ", "2999-01-10", "X", "", "", "", "", ""],
        [codes[2], "ntm_district", "2022", "1/QĐ", "2023-01-10", "X", "", "", "", "", ""],
        [codes[2], "no_title", "2022", "1/QĐ", "2023-01-10", "X", "", "", "", "", ""],
        [codes[2], "ntm_commune", "2022", "1/QĐ", "10-01-2023", "X", "", "", "", "", ""],
        [
            codes[2],
            "ntm_commune",
            "2022",
            "1/QĐ",
            "2023-01-10",
            "X",
            "",
            "5/QĐ",
            "2022-01-01",
            "X",
            "r",
        ],
        [codes[2], "ntm_commune", "2022", "1/QĐ", "2023-01-10", "X", "", "5/QĐ", "", "", ""],
        good,
    ]
    refused = await _post(admin_client, _csv(rows))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "import_rejected"
    codes_found = {group["code"]: [r["row"] for r in group["rows"]] for group in body["rejections"]}
    assert codes_found == {
        "unit_not_found": [3, 5],  # 99999 is no commune; a commune code is no district
        "decision_date_in_future": [4],
        "unknown_title": [6],
        "invalid_date": [7],
        "revocation_before_grant": [8],
        "revocation_incomplete": [9],
        "duplicate_row": [10],
    }
    assert await _count(session) == 0

    partial = await _post(admin_client, _csv(rows), partial=True)
    assert partial.status_code == 201, partial.text
    assert partial.json()["created"] == 1
    assert await _count(session) == 1


async def test_an_xlsx_history_and_a_file_without_the_columns(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    codes = await _communes(admin_client, 2)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER[:6])
    for code in codes:
        sheet.append([code, "ntm_commune", 2021, "7/QĐ-UBND", "2022-02-01", "Chủ tịch"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = await admin_client.post(
        f"{API}/recognitions/import",
        files={
            "file": (
                "history.xlsx",
                buffer.getvalue(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        },
    )
    assert xlsx.status_code == 201, xlsx.text
    assert xlsx.json()["created"] == 2
    assert xlsx.json()["format"] == "xlsx"

    missing = await _post(admin_client, b"unit_code,title\n07450,ntm_commune\n")
    assert missing.status_code == 422
    (group,) = missing.json()["rejections"]
    assert group["code"] == "missing_columns"
    assert await _count(session) == 2
