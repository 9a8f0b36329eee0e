"""Webhooks: subscriptions, SSRF refusals, signed deliveries received at least once and
deduplicated to exactly once by ``webhook-id`` after a failure and a retry, redelivery, ping,
and the subscription disabled after the retry period."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from app.audit.service import AuditContext, record
from app.config import Settings
from app.db.engine import Database
from app.db.types import utcnow
from app.integration.service import delivery
from app.models.integration import WebhookDelivery, WebhookSubscription
from tests.integration.receiver import Receiver
from tests.units.conftest import API, assert_problem

CONTEXT = AuditContext.system("test", reason="webhooks")


@pytest.fixture
def allowed(app: FastAPI, settings: Settings) -> AsyncIterator[Settings] | Settings:
    """The app with loopback allowed over plain HTTP (a development setting)."""
    changed = settings.model_copy(
        update={"webhook_allow_http": True, "webhook_allowed_networks": ["127.0.0.0/8"]}
    )
    app.state.settings = changed
    yield changed  # type: ignore[misc]
    app.state.settings = settings


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = await Receiver().start()
    yield found
    await found.stop()


async def _subscribe(client: AsyncClient, url: str, **body: object) -> dict[str, object]:
    response = await client.post(f"{API}/webhooks", json={"url": url, **body})
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    assert str(created["secret"]).startswith("whsec_")
    assert response.headers["etag"]
    return created


async def _changes(session: AsyncSession, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for entity_id in ids:
        await record(session, CONTEXT, entity="unit", entity_id=entity_id, action="update")
    await session.commit()
    return ids


async def test_ssrf_refusals(admin_client: AsyncClient, settings: Settings) -> None:
    for url, code in (
        ("http://example.org/hook", "webhook_url_not_https"),
        ("https://127.0.0.1/hook", "webhook_url_forbidden_address"),
        ("https://10.1.2.3/hook", "webhook_url_forbidden_address"),
        ("https://169.254.169.254/latest", "webhook_url_forbidden_address"),
        ("https://[::1]/hook", "webhook_url_forbidden_address"),
        ("https://localhost/hook", "webhook_url_forbidden_address"),
        ("ftp://example.org/", "webhook_url_invalid"),
        ("https://user:pw@example.org/", "webhook_url_invalid"),
    ):
        response = await admin_client.post(f"{API}/webhooks", json={"url": url})
        assert_problem(response, 422, code, ["body", "url"])
    response = await admin_client.post(
        f"{API}/webhooks", json={"url": "https://example.org/", "event_types": ["nope.x"]}
    )
    assert_problem(response, 422, "feed_type_unknown", ["body", "event_types"])


async def test_every_event_exactly_once_after_a_failure_and_a_retry(
    admin_client: AsyncClient,
    session: AsyncSession,
    database: Database,
    allowed: Settings,
    receiver: Receiver,
) -> None:
    receiver.fail_first = 2
    created = await _subscribe(admin_client, receiver.url, event_types=["unit"])
    listed = (await admin_client.get(f"{API}/webhooks/{created['id']}")).json()
    assert "secret" not in listed
    ids = await _changes(session, 5)
    async with httpx.AsyncClient() as http:
        assert await delivery.run_once(database, http, allowed, "w1")
        # Two failed: pending again, later. Nothing more is due now.
        rows = (await session.scalars(select(WebhookDelivery))).all()
        mine = [r for r in rows if str(r.subscription_id) == created["id"]]
        assert len(mine) == 5
        retrying = [r for r in mine if r.status == "pending"]
        assert len(retrying) == 2
        assert all(r.attempts == 1 and r.last_status_code == 500 for r in retrying)
        assert all(r.next_attempt_at and r.next_attempt_at > utcnow() for r in retrying)
        # Later (past the backoff): the retries go out.
        later = utcnow() + timedelta(hours=2)
        assert await delivery.send_due(database, http, allowed, "w1", now=later) == 2
    log = await admin_client.get(f"{API}/webhooks/{created['id']}/deliveries")
    assert log.status_code == 200
    assert {d["status"] for d in log.json()["items"]} == {"delivered"}
    first = log.json()["items"][0]
    again = await admin_client.post(
        f"{API}/webhooks/{created['id']}/deliveries/{first['id']}/redeliver"
    )
    assert again.status_code == 202, again.text
    assert again.json()["message_id"] == first["message_id"]
    async with httpx.AsyncClient() as http:
        assert await delivery.send_due(database, http, allowed, "w1") == 1

    paged: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await admin_client.get(f"{API}/webhooks/{created['id']}/deliveries", params=params)
        paged += [d["id"] for d in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(paged) == len(set(paged)) == 6  # five events and the redelivery, each once

    secret = str(created["secret"])
    seen: dict[str, str] = {}
    for item in receiver.received:
        payload = Webhook(secret).verify(item.body, item.headers)
        seen.setdefault(item.headers["webhook-id"], payload["data"]["entity_id"])
    assert len(receiver.received) == 5 + 2 + 1  # at least once: failures and a redelivery
    assert sorted(seen.values()) == sorted(ids)  # deduplicated: exactly once each
    forged = dict(receiver.received[0].headers, **{"webhook-signature": "v1,AAAA"})
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(receiver.received[0].body, forged)


async def test_ping_and_disabling_after_the_retry_period(
    admin_client: AsyncClient,
    session: AsyncSession,
    database: Database,
    allowed: Settings,
    receiver: Receiver,
) -> None:
    receiver.always_fail = True
    created = await _subscribe(admin_client, receiver.url)
    response = await admin_client.post(f"{API}/webhooks/{created['id']}/ping")
    assert response.status_code == 202, response.text
    assert response.json()["event_type"] == "webhook.ping"
    async with httpx.AsyncClient() as http:
        await delivery.send_due(database, http, allowed, "w2")
        assert json.loads(receiver.received[0].body)["type"] == "webhook.ping"
        row = await session.get(WebhookSubscription, uuid.UUID(str(created["id"])))
        assert row is not None
        assert row.active
        # A day and more later, still failing: the delivery fails, the subscription stops.
        late = utcnow() + timedelta(hours=25)
        await delivery.send_due(database, http, allowed, "w2", now=late)
    await session.refresh(row)
    assert row.active is False
    assert row.disabled_reason
    assert "failed" in row.disabled_reason
    body = (await admin_client.get(f"{API}/webhooks/{created['id']}")).json()
    assert body["active"] is False
    assert body["disabled_reason"]
    log = (await admin_client.get(f"{API}/webhooks/{created['id']}/deliveries")).json()
    assert [d["status"] for d in log["items"]] == ["failed"]
    etag = (await admin_client.get(f"{API}/webhooks/{created['id']}")).headers["etag"]
    enabled = await admin_client.patch(
        f"{API}/webhooks/{created['id']}", json={"active": True}, headers={"If-Match": etag}
    )
    assert enabled.status_code == 200
    assert enabled.json()["active"] is True
    stale = await admin_client.patch(
        f"{API}/webhooks/{created['id']}", json={"active": False}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412


def test_backoff_grows_with_jitter(settings: Settings) -> None:
    import random

    rng = random.Random(7)
    waits = [delivery.backoff(n, settings, rng).total_seconds() for n in range(1, 12)]
    base = settings.webhook_backoff_base_seconds
    for n, wait in enumerate(waits, start=1):
        ceiling = min(settings.webhook_backoff_max_seconds, base * 2 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert waits[-1] > waits[0] * 50


async def test_the_same_id_twice(admin_client: AsyncClient, tree: Any) -> None:
    webhook_id = str(uuid.uuid4())
    body = {"id": webhook_id, "url": "https://93.184.215.14/hook", "unit_id": str(tree.c1)}
    first = await admin_client.post(f"{API}/webhooks", json=body)
    assert first.status_code == 201, first.text
    again = await admin_client.post(f"{API}/webhooks", json=body)
    assert again.status_code == 200, again.text
    assert "secret" not in again.json()  # shown once
    assert again.json()["id"] == webhook_id
    other = await admin_client.post(f"{API}/webhooks", json={**body, "event_types": ["unit"]})
    assert_problem(other, 409, "webhook_id_conflict")
