"""Carry-over after a merger (267/BNN-VPĐP): proposals and their confirmation."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.recognitions import Recognition
from tests.recognitions.helpers import API, grant
from tests.units.conftest import event

LADDER = (
    ("ntm_commune", "2020-06-01"),
    ("advanced_ntm_commune", "2021-06-01"),
    ("model_ntm_commune", "2022-06-01"),
)


async def _titled(client: AsyncClient, unit_id: str, up_to: str) -> list[str]:
    """Record the ladder of titles for the commune up to ``up_to``: the recognition ids."""
    ids = []
    for year, (title, day) in enumerate(LADDER, start=2020):
        response = await client.post(
            f"{API}/recognitions",
            json=grant(
                unit_id,  # type: ignore[arg-type]
                title=title,
                year_for=year,
                decision_number=f"{year}/QĐ-UBND",
                decision_date=day,
            ),
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        if title == up_to:
            break
    return ids


async def _proposals(client: AsyncClient, within: str, effective: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/recognitions/carry-over-proposals",
        params={"within": within, "effective": effective},
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _decision(proposal: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "unit_event_id": proposal["unit_event_id"],
        "unit_id": proposal["unit_id"],
        "title": proposal["title"],
        "year_for": 2023,
        "decision_number": "150/QĐ-UBND",
        "decision_date": "2024-02-01",
        "signer": "Chủ tịch UBND tỉnh",
        **extra,
    }


async def test_merging_two_titled_communes_proposes_the_lowest_common_title(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    advanced = await _titled(admin_client, sandbox["T101"], "advanced_ntm_commune")
    model = await _titled(admin_client, sandbox["T102"], "model_ntm_commune")
    merged = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"]}, {"unit_id": sandbox["T102"]}],
        target={
            "new_unit": {
                "type": "xa",
                "code": "T104",
                "name": "Xã An Bình",
                "parent_id": sandbox["district"],
            }
        },
    )
    assert merged.status_code == 201, merged.text
    (new_unit,) = merged.json()["created_unit_ids"]

    (proposal,) = await _proposals(admin_client, sandbox["province"], "2024-01-01")
    assert proposal["unit_id"] == new_unit
    assert proposal["unit_event_id"] == merged.json()["id"]
    assert proposal["outcome"] == "carry_over"
    assert proposal["title"] == "advanced_ntm_commune"
    assert proposal["procedure_title"] == "model_ntm_commune"
    assert proposal["extended"] is False
    assert proposal["confirmed_recognition_id"] is None
    highest = {p["unit_id"]: p["highest_title"] for p in proposal["predecessors"]}
    assert highest == {
        sandbox["T101"]: "advanced_ntm_commune",
        sandbox["T102"]: "model_ntm_commune",
    }
    assert await _proposals(admin_client, sandbox["province"], "2024-01-02") == []

    wrong = await admin_client.post(
        f"{API}/recognitions/carry-over", json=_decision(proposal, title="model_ntm_commune")
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "carry_over_title_mismatch"
    early = await admin_client.post(
        f"{API}/recognitions/carry-over", json=_decision(proposal, decision_date="2023-12-01")
    )
    assert early.status_code == 422
    assert early.json()["code"] == "decision_before_merger"
    count = await session.scalar(select(func.count()).select_from(Recognition))

    confirmed = await admin_client.post(f"{API}/recognitions/carry-over", json=_decision(proposal))
    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert body["source"] == "carry_over"
    assert body["title"] == "advanced_ntm_commune"
    assert body["unit_event_id"] == merged.json()["id"]
    # resting on the recognitions at or above the carried title
    assert sorted(body["carried_from"]) == sorted([advanced[1], *model[1:]])
    assert await session.scalar(select(func.count()).select_from(Recognition)) == (count or 0) + 1
    (after,) = await _proposals(admin_client, sandbox["province"], "2024-01-01")
    assert after["confirmed_recognition_id"] == body["id"]
    again = await admin_client.post(f"{API}/recognitions/carry-over", json=_decision(proposal))
    assert again.status_code == 409
    assert again.json()["code"] == "recognition_exists"

    held = await admin_client.get(
        f"{API}/units/{new_unit}/recognitions", params={"as_of": "2024-02-01"}
    )
    assert held.json()["titles"] == ["advanced_ntm_commune"]
    # the predecessors' titles stay on them as history
    old = await admin_client.get(
        f"{API}/units/{sandbox['T102']}/recognitions", params={"as_of": "2023-12-31"}
    )
    assert old.json()["titles"] == ["ntm_commune", "advanced_ntm_commune", "model_ntm_commune"]
    history = await admin_client.get(f"{API}/recognitions", params={"unit_id": sandbox["T101"]})
    assert len(history.json()["items"]) == 2


async def test_extending_a_unit_and_mixed_predecessors(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    await _titled(admin_client, sandbox["T101"], "advanced_ntm_commune")
    await _titled(admin_client, sandbox["T103"], "ntm_commune")
    extended = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"]}],
        target={"into_id": sandbox["T103"]},
    )
    assert extended.status_code == 201, extended.text
    (proposal,) = await _proposals(admin_client, sandbox["province"], "2024-01-01")
    assert proposal["unit_id"] == sandbox["T103"]
    assert proposal["extended"] is True
    assert proposal["title"] == "ntm_commune"
    assert proposal["procedure_title"] == "advanced_ntm_commune"
    assert [p["is_successor"] for p in proposal["predecessors"]] == [True, False]

    # T103 (NTM, with T101 inside) and the untitled T102: the procedure, from NTM
    mixed = await event(
        admin_client,
        "merge",
        "2024-06-01",
        sources=[{"unit_id": sandbox["T102"]}],
        target={"into_id": sandbox["T103"]},
    )
    assert mixed.status_code == 201, mixed.text
    (procedure,) = await _proposals(admin_client, sandbox["province"], "2024-06-01")
    assert procedure["outcome"] == "procedure_required"
    assert procedure["title"] is None
    assert procedure["procedure_title"] == "ntm_commune"
    refused = await admin_client.post(
        f"{API}/recognitions/carry-over",
        json=_decision(procedure, title="ntm_commune", decision_date="2024-07-01"),
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "carry_over_not_proposed"
