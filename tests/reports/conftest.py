"""A small province for the reports, with figures that can be computed by hand.

Province TP (from 2020-01-01): district D1 with communes A, B, C; district D2 with communes E,
F and W. On 2024-01-01 A and B merge into a new commune AB (in D1) and W becomes a ward.
Register (historical decisions): A NTM (2021-05-01), B NTM (2021-06-01), W NTM (2022-01-01),
E advanced NTM (2023-01-01; implies NTM), D1 NTM district (2023-09-01), AB NTM by a decision of
2024-03-15 (after the merger; before it AB holds nothing).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient

from app.db.engine import Database
from app.models.enums import RecognitionSource, Title
from app.models.recognitions import Recognition
from tests.assessments.conftest import criteria_set
from tests.units.conftest import create, event

__all__ = ["criteria_set", "province"]
SINCE = "2020-01-01"


async def _grant(database: Database, unit_id: str, title: Title, year: int, day: date) -> None:
    async with database.session() as session:
        session.add(
            Recognition(
                unit_id=uuid.UUID(unit_id),
                title=title.value,
                year_for=year,
                decision_number=f"TEST-{unit_id[:6]}/QĐ-UBND",
                decision_date=day,
                signer="Test",
                source=RecognitionSource.HISTORICAL.value,
            )
        )
        await session.commit()


@pytest.fixture
async def province(admin_client: AsyncClient, database: Database) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    tp = await create(admin_client, type="tinh", code="TP9", name="Tỉnh Báo Cáo", valid_from=SINCE)
    ids["TP"] = tp["id"]
    for district in ("D1", "D2"):
        made = await create(
            admin_client, type="huyen", code=f"TP9{district}", name=f"Huyện {district}",
            parent_id=tp["id"], valid_from=SINCE,
        )  # fmt: skip
        ids[district] = made["id"]
    for code, district in (("A", "D1"), ("B", "D1"), ("C", "D1"), ("E", "D2"), ("F", "D2"),
                           ("W", "D2")):  # fmt: skip
        made = await create(
            admin_client, type="xa", code=f"TP9{code}", name=f"Xã {code}",
            parent_id=ids[district], valid_from=SINCE,
        )  # fmt: skip
        ids[code] = made["id"]
    merged = await event(
        admin_client, "merge", "2024-01-01",
        sources=[{"unit_id": ids["A"]}, {"unit_id": ids["B"]}],
        target={"new_unit": {"type": "xa", "code": "TP9AB", "name": "Xã AB",
                             "parent_id": ids["D1"]}},
    )  # fmt: skip
    assert merged.status_code == 201, merged.text
    ids["AB"] = merged.json()["created_unit_ids"][0]
    ward = await event(
        admin_client, "reclassify", "2024-01-01", unit_id=ids["W"], type="phuong",
        name="Phường W",
    )  # fmt: skip
    assert ward.status_code == 201, ward.text
    await _grant(database, ids["A"], Title.NTM_COMMUNE, 2020, date(2021, 5, 1))
    await _grant(database, ids["B"], Title.NTM_COMMUNE, 2020, date(2021, 6, 1))
    await _grant(database, ids["W"], Title.NTM_COMMUNE, 2021, date(2022, 1, 1))
    await _grant(database, ids["E"], Title.ADVANCED_NTM_COMMUNE, 2022, date(2023, 1, 1))
    await _grant(database, ids["D1"], Title.NTM_DISTRICT, 2022, date(2023, 9, 1))
    await _grant(database, ids["AB"], Title.NTM_COMMUNE, 2023, date(2024, 3, 15))
    return ids
