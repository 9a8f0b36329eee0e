"""Classification writes and map events answer the ETag a following GET returns (issue #11 item 1).

A unit's classifications are part of the unit (`GET /units/{id}` shows those valid on `as_of`),
so a classification write raises the unit's revision and answers the unit's new ETag; it honours
`If-Match` against it, checked once the map is locked.
"""

from __future__ import annotations

import uuid

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.units import Unit, UnitClassification
from tests.units.conftest import API, assert_problem, event

DIFFICULT = {"kind": "especially_difficult", "value": "true", "valid_from": "2021-06-04"}


async def _classifications(session: AsyncSession, unit_id: str) -> int:
    statement = select(func.count()).where(UnitClassification.unit_id == uuid.UUID(unit_id))
    return int(await session.scalar(statement) or 0)


async def _revision(session: AsyncSession, unit_id: str) -> int:
    return int(await session.scalar(select(Unit.revision).where(Unit.id == uuid.UUID(unit_id))))


async def test_a_classification_write_answers_the_units_new_etag(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    unit_id = sandbox["T101"]
    before = await admin_client.get(f"{API}/units/{unit_id}")
    revision = await _revision(session, unit_id)

    written = await admin_client.post(
        f"{API}/units/{unit_id}/classifications",
        json=DIFFICULT,
        headers={"If-Match": before.headers["etag"]},
    )
    assert written.status_code == 200, written.text
    assert written.json() == {"created": 1, "updated": 0, "unchanged": 0, "closed": 0}
    etag = written.headers["etag"]
    assert not etag.startswith("W/")
    assert etag != before.headers["etag"]
    assert await _revision(session, unit_id) == revision + 1

    # The unit and its classification history answer that same tag.
    unit = await admin_client.get(f"{API}/units/{unit_id}")
    assert unit.headers["etag"] == etag
    assert [c["kind"] for c in unit.json()["classifications"]] == ["especially_difficult"]
    history = await admin_client.get(f"{API}/units/{unit_id}/classifications")
    assert history.status_code == 200
    assert history.headers["etag"] == etag
    cached = await admin_client.get(
        f"{API}/units/{unit_id}/classifications", headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304
    assert cached.headers["etag"] == etag

    # If-Match with it succeeds, on the unit itself and on its classifications.
    renamed = await admin_client.patch(
        f"{API}/units/{unit_id}",
        json={"name": "Xã An Thử Mới", "effective_date": "2024-01-01"},
        headers={"If-Match": etag},
    )
    assert renamed.status_code == 200, renamed.text
    again = await admin_client.post(
        f"{API}/units/{unit_id}/classifications",
        json={**DIFFICULT, "value": "false", "valid_from": "2024-06-01"},
        headers={"If-Match": renamed.headers["etag"]},
    )
    assert again.status_code == 200, again.text
    assert again.json()["created"] == 1
    assert again.json()["closed"] == 1
    assert (await admin_client.get(f"{API}/units/{unit_id}")).headers["etag"] == (
        again.headers["etag"]
    )


async def test_a_stale_if_match_on_a_classification_writes_nothing(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    unit_id = sandbox["T102"]
    read = await admin_client.get(f"{API}/units/{unit_id}")
    first = await admin_client.post(f"{API}/units/{unit_id}/classifications", json=DIFFICULT)
    assert first.status_code == 200, first.text
    rows, revision = await _classifications(session, unit_id), await _revision(session, unit_id)

    for stale in (read.headers["etag"], "W/" + first.headers["etag"]):
        refused = await admin_client.post(
            f"{API}/units/{unit_id}/classifications",
            json={**DIFFICULT, "value": "false", "valid_from": "2023-01-01"},
            headers={"If-Match": stale},
        )
        assert_problem(refused, 412, "precondition_failed")
        assert refused.json()["current_etag"] == first.headers["etag"]
    assert await _classifications(session, unit_id) == rows
    assert await _revision(session, unit_id) == revision


async def test_an_unchanged_classification_keeps_the_etag(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    url = f"{API}/units/{sandbox['T103']}/classifications"
    first = await admin_client.post(url, json=DIFFICULT)
    same = await admin_client.post(url, json=DIFFICULT, headers={"If-Match": first.headers["etag"]})
    assert same.status_code == 200, same.text
    assert same.json()["unchanged"] == 1
    assert same.headers["etag"] == first.headers["etag"]


async def test_a_map_event_answers_the_etag_of_the_event(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    applied = await event(
        admin_client, "rename", "2024-03-01", unit_id=sandbox["T103"], name="Xã Cát Thử Mới"
    )
    assert applied.status_code == 201, applied.text
    event_id = applied.json()["id"]
    assert applied.headers["location"] == f"{API}/unit-events/{event_id}"
    etag = applied.headers["etag"]
    assert not etag.startswith("W/")
    stored = await admin_client.get(f"{API}/unit-events/{event_id}")
    assert stored.headers["etag"] == etag
    assert stored.json() == applied.json()
    cached = await admin_client.get(
        f"{API}/unit-events/{event_id}", headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304
