from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.assessments import Assessment, IndicatorValue, IndicatorValueHistory

IMPORT = "/api/v1/indicator-values/import"

# Hand-computed expectations for the test set (tests/assessments/conftest.py):
# A (Bắc Giang, TDMNPB) 2023: 1.1=42 ≥ 40 met; 2.1=85 ≥ 80, 2.2 yes: met; 3.1=14 ≤ 15 met (3.2=1 < 2
#   not met, but one of two is enough); 4.1 met → 4/4.
# B (Bắc Giang, TDMNPB) 2024: 1.1=42 < 45 (the 2024 value) not met, distance 3; 2.1=80 ≥ 80 and
#   2.2 yes: met; 3.1=20 > 15 not met, 3.2=2 ≥ 2 met → met; 4.1 basically met (recorded with
#   reasons) → 2/4, 1 basically met; failing 1/4 = 25 % with criterion 1 among them → band.
# C (Hà Nội, DBSH) 2023: 1.1=50 < 55 (DBSH) not met, distance 5; 2.2 no → not met; 3.1=4 ≤ 5 met;
#   4.1 missing → not met → 1/4; failing 3/4 ≥ 50 % → band.
CSV_ROWS = [
    ("07450", 2023, "1.1", "42", ""),
    ("07450", 2023, "2.1", "85", ""),
    ("07450", 2023, "2.2", "true", ""),
    ("07450", 2023, "3.1", "14", ""),
    ("07450", 2023, "3.2", "1", ""),
    ("07450", 2023, "4.1", "met", ""),
    ("07453", 2024, "1.1", "42", ""),
    ("07453", 2024, "2.1", "80", ""),
    ("07453", 2024, "2.2", "có", ""),
    ("07453", 2024, "3.1", "20", ""),
    ("07453", 2024, "3.2", "2", ""),
    ("07453", 2024, "4.1", "cơ bản đạt", "Đang hoàn thiện hồ sơ trạm y tế"),
    ("00379", 2023, "1.1", "50", "Số liệu Cục Thống kê"),
    ("00379", 2023, "2.1", "90", ""),
    ("00379", 2023, "2.2", "no", ""),
    ("00379", 2023, "3.1", "4", ""),
    ("00379", 2023, "3.2", "3", ""),
]


def csv_text(
    rows: list[tuple[Any, ...]], header: str = "unit_code,year,indicator_code,value,note"
) -> str:
    lines = [header]
    for row in rows:
        lines.append(",".join(f'"{c}"' if "," in str(c) else str(c) for c in row))
    return "\n".join(lines) + "\n"


async def post_csv(client: AsyncClient, set_id: str, text: str, **params: Any) -> Response:
    query = {
        "criteria_set_id": set_id,
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()},
    }
    return await client.post(
        IMPORT,
        params=query,
        files={"file": ("values.csv", text.encode(), "text/csv")},
    )


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    assessments = await session.scalar(select(func.count()).select_from(Assessment))
    values = await session.scalar(select(func.count()).select_from(IndicatorValue))
    history = await session.scalar(select(func.count()).select_from(IndicatorValueHistory))
    return int(assessments or 0), int(values or 0), int(history or 0)


async def assessment_of(
    client: AsyncClient, set_id: str, unit: uuid.UUID, year: int, kind: str = "self_assessment"
) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/assessments",
        params={"criteria_set_id": set_id, "unit_id": str(unit), "year": year, "kind": kind},
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 1, items
    return dict(items[0])


def errors_by_code(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {group["code"]: group["rows"] for group in body["rejections"]}


async def unit_of(client: AsyncClient, code: str, level: str = "commune") -> uuid.UUID:
    response = await client.get(
        "/api/v1/units", params={"code": code, "level": level, "as_of": "2023-06-01"}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 1, items
    return uuid.UUID(items[0]["id"])
