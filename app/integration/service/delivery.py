"""The worker's side of webhooks: turn new feed events into deliveries (``dispatch``), send the
due ones signed per Standard Webhooks (``send_due``), retry failures with exponential backoff
and jitter for at least ``webhook_retry_hours``, then fail the delivery and disable the
subscription with the reason.

Delivery is at least once: a receiver deduplicates by ``webhook-id`` (the same for every retry
and redelivery of one event). Signing uses the ``standardwebhooks`` package (PyPI)."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from app.config import Settings
from app.core.errors import Unprocessable
from app.db.engine import Database
from app.db.types import utcnow
from app.integration import catalogue, urls
from app.integration import repository as repo
from app.integration.service.feed import to_event, visible_filter
from app.integration.service.webhooks import policy
from app.models.enums import WebhookDeliveryStatus
from app.models.integration import WebhookDelivery, WebhookSubscription
from app.outbox import service as outbox

MAX_ERROR = 500


def http_client() -> httpx.AsyncClient:
    """The client deliveries are sent with: connections kept alive between rounds, no proxy
    from the environment (a webhook goes where its URL says), TCP_NODELAY (httpx writes a
    request's headers and body separately: without it Nagle holds the body back)."""
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=50),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx.AsyncClient(transport=transport, trust_env=False)


def payload(event: outbox.Event) -> tuple[str, dict[str, Any]]:
    """(type, body): the Standard Webhooks envelope around the feed's event."""
    item = to_event(event)
    return item.type, {
        "type": item.type,
        "timestamp": item.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": item.model_dump(mode="json"),
    }


def message_id(subscription_id: uuid.UUID, position: int) -> str:
    return f"msg_{subscription_id.hex}_{position}"


def backoff(attempts: int, settings: Settings, rng: random.Random | None = None) -> timedelta:
    """Exponential from the base, capped, with "equal jitter" (half fixed, half random), so
    that receivers coming back up are not hit by every sender at once."""
    ceiling = min(
        settings.webhook_backoff_max_seconds,
        settings.webhook_backoff_base_seconds * 2 ** max(attempts - 1, 0),
    )
    spread = (rng or random).uniform(0, ceiling / 2)
    return timedelta(seconds=ceiling / 2 + spread)


def _types_filter(row: WebhookSubscription) -> catalogue.TypeFilter | None:
    if not row.event_types:
        return None
    parsed = catalogue.parse_types(row.event_types)
    return None if isinstance(parsed, str) else parsed


async def dispatch(session: AsyncSession, batch: int) -> int:
    """New events of every active subscription become pending deliveries, in the caller's
    transaction; returns how many were queued."""
    head = await outbox.head(session)
    queued = 0
    for subscription_id in await repo.active_subscriptions_to_dispatch(session, head):
        row = await repo.subscription(session, subscription_id)
        if row is None:
            continue
        where = visible_filter(
            None, _types_filter(row), row.unit_id, national=True, with_national=True
        )
        events = await outbox.read_feed(session, row.position, batch, where, through=head)
        rows = []
        now = utcnow()
        for event in events:
            type_, body = payload(event)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "subscription_id": row.id,
                    "message_id": message_id(row.id, event.position),
                    "event_type": type_,
                    "position": event.position,
                    "payload": body,
                    "status": WebhookDeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
        await repo.add_deliveries(session, rows)
        position = events[-1].position if len(events) == batch else head
        await repo.update_subscription(session, row.id, {"position": position})
        queued += len(rows)
    return queued


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None


async def _send(
    client: httpx.AsyncClient,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    settings: Settings,
    refusal: str | None,
) -> Outcome:
    if refusal is not None:
        return Outcome(False, error=refusal)
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    now = utcnow()
    signature = Webhook(subscription.secret).sign(delivery.message_id, now, body)
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "user-agent": "ntm-webhooks/1",
    }
    try:
        response = await client.post(
            subscription.url,
            content=body.encode(),
            headers=headers,
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code)
    return Outcome(False, response.status_code, f"HTTP {response.status_code}")


async def _refusal(url: str, settings: Settings) -> str | None:
    """Why ``url`` may not be sent to now (a name re-pointed into a forbidden range), if so."""
    try:
        await urls.check(url, policy(settings))
    except Unprocessable as refused:
        return f"{refused.code}: {refused.detail}"
    return None


async def send_due(
    database: Database,
    client: httpx.AsyncClient,
    settings: Settings,
    worker_id: str,
    *,
    now: datetime | None = None,
) -> int:
    """Claim the due deliveries, send them concurrently, record each outcome; how many were
    attempted."""
    moment = now or utcnow()
    async with database.session() as session:
        claimed = await repo.claim_due(
            session,
            worker_id,
            moment,
            moment - timedelta(seconds=settings.webhook_claim_stale_seconds),
            settings.webhook_batch_size,
        )
        work = [(d.id, d, s) for d, s in claimed]
        session.expunge_all()
        await session.commit()
    if not work:
        return 0
    # Each URL is checked (resolved) once per round, right before its deliveries go out.
    checked = {url: await _refusal(url, settings) for url in {s.url for _, _, s in work}}
    outcomes = await asyncio.gather(
        *(_send(client, d, s, settings, checked[s.url]) for _, d, s in work)
    )
    window = timedelta(hours=settings.webhook_retry_hours)
    results: list[dict[str, Any]] = []
    async with database.session() as session:
        for (delivery_id, delivery, subscription), outcome in zip(work, outcomes, strict=True):
            attempts = delivery.attempts + 1
            values: dict[str, Any] = {
                "id": delivery_id,
                "status": WebhookDeliveryStatus.PENDING.value,
                "attempts": attempts,
                "last_attempt_at": moment,
                "last_status_code": outcome.status_code,
                "last_error": outcome.error,
                "delivered_at": None,
                "next_attempt_at": None,
            }
            if outcome.delivered:
                values.update(status=WebhookDeliveryStatus.DELIVERED.value, delivered_at=moment)
            elif moment - delivery.created_at >= window:
                values["status"] = WebhookDeliveryStatus.FAILED.value
                reason = (
                    f"delivery {delivery.message_id} failed for {settings.webhook_retry_hours:g} "
                    f"hours ({attempts} attempts); last error: {outcome.error}"
                )
                await repo.update_subscription(
                    session,
                    subscription.id,
                    {"active": False, "disabled_reason": reason[:MAX_ERROR], "disabled_at": moment},
                )
            else:
                values["next_attempt_at"] = moment + backoff(attempts, settings)
            results.append(values)
        await repo.save_outcomes(session, worker_id, results)
        await session.commit()
    return len(work)


async def has_work(database: Database, now: datetime | None = None) -> bool:
    async with database.session() as session:
        head = await outbox.head(session)
        return await repo.any_behind(session, head) or await repo.any_due(session, now or utcnow())


async def run_once(
    database: Database,
    client: httpx.AsyncClient,
    settings: Settings,
    worker_id: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Dispatch new events, then send what is due; whether anything was done."""
    if not await has_work(database, now):
        return False
    async with database.session() as session:
        queued = await dispatch(session, settings.webhook_batch_size)
        await session.commit()
    sent = await send_due(database, client, settings, worker_id, now=now)
    return bool(queued or sent)


async def prune_feed(database: Database, settings: Settings) -> int:
    async with database.session() as session:
        removed = await outbox.prune(session, timedelta(days=settings.feed_retention_days))
        await session.commit()
    return removed
