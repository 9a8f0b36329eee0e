"""Resolutions are kept per (set version, unit, year, day, map token) and never served stale.

The cache is told nothing: every change below is seen only because the database drew a new map
token (triggers of migration 0014) or the set's version changed, which is how a change made by
another worker is seen too. Writes go through the ORM or plain SQL, not through the units
service, to show that whoever writes, the next resolution sees it.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.criteria import repository
from app.criteria.seed import seed_criteria_sets
from app.models.units import UnitClassification, UnitVersion
from app.units import query as units_query
from tests.criteria.helpers import BASE, Units, create_published, document, resolved


async def _thresholds(
    client: AsyncClient, set_id: str, unit_id: uuid.UUID, year: int
) -> dict[str, Any]:
    response = await client.get(
        f"{BASE}/{set_id}/thresholds", params={"unit_id": str(unit_id), "year": year}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


class Statements:
    """The SQL statements run on the test's connection while active."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.seen: list[str] = []

    def _on(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(statement)

    def __enter__(self) -> Statements:
        event.listen(self.connection.sync_connection, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.connection.sync_connection, "before_cursor_execute", self._on)

    def reading(self, table: str) -> list[str]:
        return [s for s in self.seen if table in s]


async def test_a_second_resolution_reads_no_map_and_says_the_same(
    admin_client: AsyncClient,
    client: AsyncClient,
    place: dict[str, uuid.UUID],
    connection: AsyncConnection,
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    with Statements(connection) as first:
        before = await _thresholds(client, set_id, place["north_commune"], 2024)
    assert first.reading("unit_versions")
    assert first.reading("unit_classifications")
    with Statements(connection) as second:
        again = await _thresholds(client, set_id, place["north_commune"], 2024)
    assert again == before
    assert second.reading("unit_versions") == []
    assert second.reading("unit_classifications") == []
    assert len(second.reading("map_revision")) == 1  # read with the set's head row
    assert resolved(again, "10.1")["value"] == 41


async def test_a_classification_change_is_seen_by_the_very_next_resolution(
    admin_client: AsyncClient,
    client: AsyncClient,
    units: Units,
    place: dict[str, uuid.UUID],
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert (body["region"], body["classifications"]) == ("DBSH", [])
    assert resolved(body, "10.1")["value"] == 50

    # The commune's own classification (added through the ORM).
    await units.classify(place["delta_commune"], "especially_difficult", "true")
    await units.commit()
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert (body["region"], body["classifications"]) == ("TDMNPB", ["especially_difficult"])
    assert resolved(body, "10.1")["value"] == 41


async def test_an_ancestor_region_change_is_seen_by_the_very_next_resolution(
    admin_client: AsyncClient,
    client: AsyncClient,
    session: AsyncSession,
    place: dict[str, uuid.UUID],
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert (body["region"], resolved(body, "10.1")["value"]) == ("DBSH", 50)
    await session.execute(
        update(UnitClassification)
        .where(
            UnitClassification.unit_id == place["delta"], UnitClassification.kind == "ntm_region"
        )
        .values(value="TDMNPB")
    )
    await session.commit()
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert (body["region"], resolved(body, "10.1")["value"]) == ("TDMNPB", 41)
    assert body["region_reason"]["unit"]["id"] == str(place["delta"])


async def test_a_move_to_another_province_is_seen_by_the_very_next_resolution(
    admin_client: AsyncClient,
    client: AsyncClient,
    units: Units,
    session: AsyncSession,
    place: dict[str, uuid.UUID],
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert body["province"]["code"] == "T92"
    north_district = await units.add("district", "T912", "Huyện Mới", place["north"])
    await session.execute(
        update(UnitVersion)
        .where(UnitVersion.unit_id == place["delta_commune"])
        .values(parent_id=north_district)
    )
    await session.commit()
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert (body["province"]["code"], body["region"]) == ("T91", "TDMNPB")
    assert resolved(body, "10.1")["value"] == 41


async def test_a_reissued_threshold_is_seen_by_the_very_next_resolution(
    client: AsyncClient, session: AsyncSession, place: dict[str, uuid.UUID], tmp_path: Path
) -> None:
    doc = document("TEST-CACHED-SET")
    path = tmp_path / "set.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    await seed_criteria_sets(session, lambda _m: None, tmp_path)
    await session.commit()
    head = await repository.get_by_code(session, "TEST-CACHED-SET")
    assert head is not None
    set_id = str(head["id"])
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert resolved(body, "10.1")["value"] == 50

    income = doc["criteria"][0]["indicators"][0]
    assert income["code"] == "10.1"
    dbsh = next(t for t in income["thresholds"] if t["when"] == {"region": "DBSH"})
    dbsh["value"] = 52
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert (await seed_criteria_sets(session, lambda _m: None, tmp_path)).counts == {"updated": 1}
    await session.commit()
    body = await _thresholds(client, set_id, place["delta_commune"], 2024)
    assert resolved(body, "10.1")["value"] == 52


async def test_the_map_token_changes_with_every_write_and_comes_back_on_rollback(
    session: AsyncSession, units: Units, place: dict[str, uuid.UUID]
) -> None:
    start = await units_query.map_token(session)
    assert start == await units_query.map_token(session)
    savepoint = await session.begin_nested()
    await units.classify(place["north_commune"], "commune_group", "1", valid_from=date(2026, 1, 1))
    inside = await units_query.map_token(session)
    assert inside != start
    await savepoint.rollback()
    assert await units_query.map_token(session) == start
    await units.classify(place["north_commune"], "commune_group", "2", valid_from=date(2026, 1, 1))
    after = await units_query.map_token(session)
    assert after not in {start, inside}
