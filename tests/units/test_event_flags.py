"""How a unit event's date is known (issue #12): ``date_basis`` and ``basis_source`` of the
bundled events on ``GET /unit-events/{id}`` and on lineage links; ``null`` for an event recorded
through the API. Real bundled events, found as tests/units/test_history.py finds them."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import BasisSource, DateBasis
from app.models.units import UnitEvent
from app.units.seed import event_id_for, unit_id_for
from tests.units.conftest import API, event, one


async def _event_of_change(client: AsyncClient, unit_id: Any, on: str) -> dict[str, Any]:
    """The event that gave the unit its version starting ``on`` (through the API)."""
    response = await client.get(f"{API}/units/{unit_id}/history")
    assert response.status_code == 200, response.text
    change = next(v for v in response.json()["items"] if v["valid_from"] == on)
    response = await client.get(f"{API}/unit-events/{change['event_id']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _stored_payload(session: AsyncSession, event_id: str) -> dict[str, Any]:
    row = await session.scalar(select(UnitEvent).where(UnitEvent.id == uuid.UUID(event_id)))
    assert row is not None
    return dict(row.payload or {})


async def test_effective_date_of_the_resolution_viet_yen_2024_02_01(
    client: AsyncClient, session: AsyncSession
) -> None:
    viet_yen = await one(client, "2024-02-01", code="222", level="district")
    body = await _event_of_change(client, viet_yen["id"], "2024-02-01")
    assert body["id"] == str(event_id_for("2024-02-01:reclassify:district:222:pre2025"))
    assert body["legal_basis"]["number"] == "938/NQ-UBTVQH15"
    assert body["effective_date"] == "2024-02-01"
    assert (body["date_basis"], body["basis_source"]) == ("effective", "stated")
    payload = await _stored_payload(session, body["id"])
    assert (payload["date_basis"], payload["basis_source"]) == (
        DateBasis.EFFECTIVE,
        BasisSource.STATED,
    )


async def test_only_the_list_date_is_known_trieu_tan_2025_03_01(client: AsyncClient) -> None:
    # Xã Triệu An → Xã Triệu Tân, first shown by the list of 2025-03-01; no source names the
    # resolution, so the date is the list date and the event says so.
    unit = unit_id_for("commune:19627:pre2025")
    before = await one(client, "2025-02-28", code="19627", level="commune")
    assert (before["id"], before["name"]) == (str(unit), "Xã Triệu An")
    body = await _event_of_change(client, unit, "2025-03-01")
    assert body["kind"] == "rename"
    assert body["legal_basis"] is None
    assert (body["date_basis"], body["basis_source"]) == ("list", "list_date")


async def test_unconfirmed_date_388_nq_ubtvqh16(client: AsyncClient) -> None:
    luc_nam = await one(client, "2026-10-01", code="07444")
    body = await _event_of_change(client, luc_nam["id"], "2026-09-20")
    assert body["legal_basis"]["number"] == "388/NQ-UBTVQH16"
    assert (body["date_basis"], body["basis_source"]) == ("unconfirmed", "reference")


async def test_lineage_links_carry_the_flags_of_their_event(client: AsyncClient) -> None:
    chu = await one(client, "2025-01-01", code="224", level="district")
    response = await client.get(f"{API}/units/{chu['id']}/lineage")
    assert response.status_code == 200, response.text
    (luc_ngan,) = response.json()["predecessors"]
    assert luc_ngan["event"]["legal_basis"]["number"] == "1191/NQ-UBTVQH15"
    assert luc_ngan["event"]["id"] == str(event_id_for("2025-01-01:split:district:224:pre2025"))
    assert (luc_ngan["event"]["date_basis"], luc_ngan["event"]["basis_source"]) == (
        "effective",
        "stated",
    )


async def test_an_event_recorded_through_the_api_has_no_flags(
    admin_client: AsyncClient, session: AsyncSession, sandbox: dict[str, str]
) -> None:
    response = await event(
        admin_client, "rename", "2024-01-01", unit_id=sandbox["T101"], name="Xã An Thịnh"
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["date_basis"] is None
    assert created["basis_source"] is None
    assert "date_basis" not in await _stored_payload(session, created["id"])
    response = await admin_client.get(f"{API}/unit-events/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created
    # the cache validators are unchanged: the tag of the stored event, 304 on a match
    etag = response.headers["ETag"]
    again = await admin_client.get(
        f"{API}/unit-events/{created['id']}", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["ETag"] == etag


async def test_a_bundled_event_answers_304_on_its_etag(client: AsyncClient) -> None:
    event_id = event_id_for("2024-02-01:reclassify:district:222:pre2025")
    first = await client.get(f"{API}/unit-events/{event_id}")
    assert first.status_code == 200
    again = await client.get(
        f"{API}/unit-events/{event_id}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
