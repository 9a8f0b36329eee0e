"""The change feed: every committed change by position, within the caller's scope, with
tombstones, retention (410) and bad positions (422)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core.permissions import Role
from app.db.types import utcnow
from app.models.system import OutboxEvent
from app.outbox import service as outbox
from tests.conftest import PrincipalFactory
from tests.identity.conftest import Tree
from tests.units.conftest import API, assert_problem, event

CONTEXT = AuditContext.system("test", reason="feed")


async def _head(client: AsyncClient) -> int:
    response = await client.get(f"{API}/events", params={"limit": 1})
    assert response.status_code == 200, response.text
    head: int = response.json()["head"]
    return head


async def _all_after(client: AsyncClient, after: int, **params: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    while True:
        response = await client.get(
            f"{API}/events", params={"after": str(after), "limit": "2", **params}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        assert f"after={body['next_after']}" in response.headers["link"]
        if body["next_after"] == after:
            return items
        after = body["next_after"]


async def test_a_map_change_reaches_the_feed_with_tombstones(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    start = await _head(admin_client)
    response = await event(admin_client, "dissolve", "2024-01-01", unit_id=sandbox["T103"])
    assert response.status_code == 201, response.text
    items = await _all_after(admin_client, start)
    by_type = {(i["type"], i["entity_id"]): i for i in items}
    gone = by_type[("unit.dissolved", sandbox["T103"])]
    assert gone["tombstone"] is True
    assert gone["effective_date"] == "2024-01-01"
    assert gone["link"] == f"/api/v1/units/{sandbox['T103']}"
    assert gone["unit_id"] == sandbox["T103"]
    applied = by_type[("unit_event.applied", response.json()["id"])]
    assert applied["tombstone"] is False
    assert applied["effective_date"] == "2024-01-01"
    positions = [i["position"] for i in items]
    assert positions == sorted(set(positions))
    assert positions[0] > start
    # Filtered by type: only the tombstone.
    only = await _all_after(admin_client, start, types="unit.dissolved")
    assert [(i["type"], i["entity_id"]) for i in only] == [("unit.dissolved", sandbox["T103"])]


async def test_versions_etags_and_scope(
    client: AsyncClient,
    session: AsyncSession,
    tree: Tree,
    make_principal: PrincipalFactory,
) -> None:
    admin = await make_principal(Role.SYSTEM_ADMIN)
    start = await _head_as(client, admin.headers)
    mine, other, secret = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await record(
        session,
        CONTEXT,
        entity="assessment",
        entity_id=mine,
        action="update",
        after={"revision": 3},
        unit_id=tree.c1,
    )
    await record(
        session,
        CONTEXT,
        entity="assessment",
        entity_id=other,
        action="create",
        after={"revision": 1},
        unit_id=tree.c2,
    )
    await record(session, CONTEXT, entity="user", entity_id=secret, action="update")
    await session.commit()

    seen = await client.get(f"{API}/events", params={"after": start}, headers=admin.headers)
    items = {i["entity_id"]: i for i in seen.json()["items"]}
    assert str(secret) not in items  # accounts never reach the feed
    assert items[str(mine)]["version"] == 3
    assert items[str(mine)]["etag"] == f'"{mine}.3"'
    assert items[str(mine)]["type"] == "assessment.updated"
    assert items[str(mine)]["link"] == f"/api/v1/assessments/{mine}"

    viewer = await make_principal(Role.VIEWER, unit_id=tree.c1)
    response = await client.get(f"{API}/events", params={"after": start}, headers=viewer.headers)
    assert response.status_code == 200
    ids = [i["entity_id"] for i in response.json()["items"]]
    assert str(mine) in ids
    assert str(other) not in ids

    narrowed = await client.get(
        f"{API}/events", params={"after": start, "unit_id": str(tree.c2)}, headers=admin.headers
    )
    assert [i["entity_id"] for i in narrowed.json()["items"]] == [str(other)]
    hidden = await client.get(
        f"{API}/events", params={"unit_id": str(tree.c2)}, headers=viewer.headers
    )
    assert_problem(hidden, 404, "unit_not_found")
    nobody = await client.get(f"{API}/events")
    assert nobody.status_code == 401


async def _head_as(client: AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get(f"{API}/events", params={"limit": 1}, headers=headers)
    assert response.status_code == 200, response.text
    head: int = response.json()["head"]
    return head


async def test_bad_positions_and_types(admin_client: AsyncClient) -> None:
    head = await _head(admin_client)
    response = await admin_client.get(f"{API}/events", params={"after": head + 10})
    assert_problem(response, 422, "feed_position_beyond_head", ["query", "after"])
    response = await admin_client.get(f"{API}/events", params={"types": "unit.exploded"})
    assert_problem(response, 422, "feed_type_unknown", ["query", "types"])
    response = await admin_client.get(f"{API}/events", params={"types": "user"})
    assert_problem(response, 422, "feed_type_unknown", ["query", "types"])
    response = await admin_client.get(f"{API}/events", params={"after": -1})
    assert response.status_code == 422


async def test_retention_answers_410_for_a_position_it_removed(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    await record(session, CONTEXT, entity="unit", entity_id=uuid.uuid4(), action="update")
    await session.commit()
    head = await outbox.head(session)
    # Everything up to the head is made old enough to be removed.
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.position <= head)
        .values(occurred_at=utcnow() - timedelta(days=400))
    )
    removed = await outbox.prune(session, timedelta(days=90))
    await session.commit()
    assert removed >= 1
    assert await outbox.pruned_through(session) == head
    response = await admin_client.get(f"{API}/events", params={"after": head - 1})
    assert_problem(response, 410, "feed_position_expired")
    assert response.json()["oldest_after"] == head
    english = await admin_client.get(
        f"{API}/events", params={"after": 0}, headers={"Accept-Language": "en"}
    )
    assert "no longer kept" in english.json()["detail"]
    fine = await admin_client.get(f"{API}/events")
    assert fine.status_code == 200
    assert fine.json()["oldest_after"] == head
