"""An evaluation reads thresholds that the criteria feature keeps per map state: a change of a
unit's classifications is seen by the very next evaluation, one at a time and in a list,
whether it was made through the API or by a plain SQL statement (as another worker, a seed or
a repair would make it)."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.units import UnitClassification
from tests.assessments.helpers import assessment_of, csv_text, post_csv


async def _income(client: AsyncClient, assessment_id: str) -> tuple[Any, str, str | None]:
    response = await client.get(f"/api/v1/assessments/{assessment_id}/evaluation")
    assert response.status_code == 200, response.text
    body = response.json()
    income = body["criteria"][0]["indicators"][0]
    assert income["code"] == "1.1"
    return income["threshold"], income["status"], body["thresholds_context"]["region"]


async def _listed(client: AsyncClient, set_id: str) -> int:
    response = await client.get(
        "/api/v1/assessments", params={"criteria_set_id": set_id, "include": "evaluation"}
    )
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    return int(item["evaluation"]["summary"]["criteria_met"])


async def test_a_classification_change_is_seen_by_the_very_next_evaluation(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    # D is in Hà Nội (DBSH): 55 applies in 2023; especially difficult, it reads TDMNPB's 40.
    rows = [("00382", 2023, "1.1", "50", "")]
    assert (await post_csv(admin_client, set_id, csv_text(rows))).status_code == 201
    d = (await assessment_of(admin_client, set_id, communes["D"], 2023))["id"]
    assert await _income(admin_client, d) == (55, "not_met", "DBSH")
    assert await _income(admin_client, d) == (55, "not_met", "DBSH")  # kept, the same
    assert await _listed(admin_client, set_id) == 0

    assigned = await admin_client.post(
        f"/api/v1/units/{communes['D']}/classifications",
        json={"kind": "especially_difficult", "value": "true", "valid_from": "2021-01-01"},
    )
    assert assigned.status_code in (200, 201), assigned.text
    assert await _income(admin_client, d) == (40, "met", "TDMNPB")
    assert await _listed(admin_client, set_id) == 1

    await session.execute(
        delete(UnitClassification).where(
            UnitClassification.unit_id == communes["D"],
            UnitClassification.kind == "especially_difficult",
        )
    )
    await session.commit()
    assert await _listed(admin_client, set_id) == 0
    assert await _income(admin_client, d) == (55, "not_met", "DBSH")
