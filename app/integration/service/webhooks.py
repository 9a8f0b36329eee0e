"""Webhook subscriptions: create (the secret shown once), read, change, the delivery log,
manual redelivery and a test ping. Every write follows the write pattern and is audited (as
``webhook_subscription``, an entity the feed never shows: it holds a secret)."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.config import Settings
from app.core import authz
from app.core.errors import Conflict, NotFound
from app.core.http import require_match, revision_etag
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.permissions import Action
from app.core.security import Principal
from app.db.types import utcnow
from app.integration import repository as repo
from app.integration import urls
from app.integration.schemas import (
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryOut,
    WebhookOut,
    WebhookPatch,
)
from app.integration.service.feed import type_filter
from app.models.enums import AuditAction, WebhookDeliveryStatus
from app.models.integration import WebhookDelivery, WebhookSubscription
from app.outbox import service as outbox

AUDIT_ENTITY = "webhook_subscription"
PING = "webhook.ping"


def subscription_not_found(subscription_id: object) -> NotFound:
    return authz.not_found("webhook", subscription_id)


def delivery_not_found(delivery_id: object) -> NotFound:
    return authz.not_found("webhook_delivery", delivery_id)


def policy(settings: Settings) -> urls.Policy:
    return urls.Policy.of(settings.webhook_allow_http, settings.webhook_allowed_networks)


def new_secret() -> str:
    """24 random bytes, base64, with the Standard Webhooks prefix."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def etag_of(row: WebhookSubscription) -> str:
    return revision_etag(row.id, row.revision)


def out(row: WebhookSubscription) -> WebhookOut:
    return WebhookOut.model_validate(row, from_attributes=True)


async def _check_url(url: str, settings: Settings) -> None:
    await urls.check(url, policy(settings))


def _types(event_types: list[str]) -> list[str]:
    type_filter(event_types, ["body", "event_types"])
    return sorted({t.strip() for t in event_types if t.strip()})


async def create(
    session: AsyncSession,
    context: AuditContext,
    body: WebhookCreate,
    principal: Principal,
    settings: Settings,
) -> tuple[WebhookOut, str, bool]:
    """(subscription, ETag, created): a new one carries its secret (``WebhookCreated``)."""
    await authz.require(
        session, principal, Action.WEBHOOKS_MANAGE, unit_id=body.unit_id, entity="unit"
    )
    event_types = _types(body.event_types)
    await _check_url(body.url, settings)
    subscription_id = body.id or uuid.uuid4()
    existing = await repo.subscription(session, subscription_id)
    if existing is not None:
        # An offline client's retry: the same id and body answer the subscription (its secret
        # was shown once, to the first answer); another body is a conflict.
        await _visible(session, principal, subscription_id)
        same = (existing.url, sorted(existing.event_types), existing.unit_id) == (
            body.url,
            event_types,
            body.unit_id,
        ) and existing.description == body.description
        if same:
            return out(existing), etag_of(existing), False
        raise Conflict(
            f"Webhook {subscription_id} exists with other values.",
            code="webhook_id_conflict",
        )
    secret = new_secret()
    now = utcnow()
    row = {
        "id": subscription_id,
        "url": body.url,
        "description": body.description,
        "event_types": event_types,
        "unit_id": body.unit_id,
        "secret": secret,
        "active": True,
        # Deliveries start with the events after the subscription: the head now.
        "position": await outbox.head(session),
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": context.actor_id,
        "created_by_name": context.actor_name,
    }
    await repo.add_subscription(session, row)
    public = {k: v for k, v in row.items() if k != "secret"}
    await record(
        session,
        context,
        entity=AUDIT_ENTITY,
        entity_id=subscription_id,
        action=AuditAction.CREATE,
        after=public,
        unit_id=body.unit_id,
    )
    created = WebhookCreated(
        **{**public, "disabled_reason": None, "disabled_at": None, "secret": secret}
    )
    return created, revision_etag(subscription_id, 1), True


async def _visible(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    row = await repo.subscription(session, subscription_id, lock=lock)
    if row is None:
        raise subscription_not_found(subscription_id)
    await authz.require(
        session,
        principal,
        Action.WEBHOOKS_MANAGE,
        unit_id=row.unit_id,
        missing=subscription_not_found(subscription_id),
    )
    return row


async def get(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> tuple[WebhookOut, str]:
    row = await _visible(session, principal, subscription_id)
    return out(row), etag_of(row)


async def list_subscriptions(
    session: AsyncSession, principal: Principal, limit: int, cursor: str | None
) -> Page[WebhookOut]:
    visible = authz.scope(principal, Action.WEBHOOKS_MANAGE).clause(WebhookSubscription.unit_id)
    after = decode_cursor(cursor, uuid.UUID)[0] if cursor is not None else None
    rows = await repo.subscriptions(session, visible, limit, after)
    kept = list(rows[:limit])
    next_cursor = encode_cursor([kept[-1].id]) if len(rows) > limit else None
    return Page(items=[out(r) for r in kept], next_cursor=next_cursor)


async def patch(
    session: AsyncSession,
    context: AuditContext,
    subscription_id: uuid.UUID,
    body: WebhookPatch,
    principal: Principal,
    if_match: str | None,
    settings: Settings,
) -> tuple[WebhookOut, str]:
    row = await _visible(session, principal, subscription_id, lock=True)
    require_match(if_match, etag_of(row), what=f"Webhook {subscription_id}")
    changes: dict[str, Any] = {}
    if body.url is not None and body.url != row.url:
        await _check_url(body.url, settings)
        changes["url"] = body.url
    if body.event_types is not None:
        changes["event_types"] = _types(body.event_types)
    if "description" in body.model_fields_set:
        changes["description"] = body.description
    if body.active is not None and body.active != row.active:
        changes["active"] = body.active
        if body.active:
            changes.update(disabled_reason=None, disabled_at=None)
        else:
            changes.update(disabled_reason="disabled by a user", disabled_at=utcnow())
    if changes:
        before = {k: getattr(row, k) for k in changes}
        changes.update(revision=row.revision + 1, updated_at=utcnow())
        await repo.update_subscription(session, subscription_id, changes)
        await record(
            session,
            context,
            entity=AUDIT_ENTITY,
            entity_id=subscription_id,
            action=AuditAction.UPDATE,
            before=before,
            after=changes,
            unit_id=row.unit_id,
        )
        await session.refresh(row)
    return out(row), etag_of(row)


def delivery_out(row: WebhookDelivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut.model_validate(row, from_attributes=True)


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> Page[WebhookDeliveryOut]:
    await _visible(session, principal, subscription_id)
    before: tuple[datetime, uuid.UUID] | None = None
    if cursor is not None:
        moment, last_id = decode_cursor(cursor, datetime, uuid.UUID)
        before = (moment, last_id)
    rows = await repo.deliveries(session, subscription_id, limit, before)
    kept = list(rows[:limit])
    next_cursor = encode_cursor([kept[-1].created_at, kept[-1].id]) if len(rows) > limit else None
    return Page(items=[delivery_out(r) for r in kept], next_cursor=next_cursor)


def _delivery_row(
    subscription_id: uuid.UUID,
    message_id: str,
    event_type: str,
    position: int | None,
    payload: dict[str, Any],
) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "subscription_id": subscription_id,
        "message_id": message_id,
        "event_type": event_type,
        "position": position,
        "payload": payload,
        "status": WebhookDeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def ping(
    session: AsyncSession, context: AuditContext, subscription_id: uuid.UUID, principal: Principal
) -> WebhookDeliveryOut:
    """A test message (``webhook.ping``), queued for the worker like any delivery."""
    row = await _visible(session, principal, subscription_id, lock=True)
    message_id = f"msg_ping_{uuid.uuid4().hex}"
    payload = {
        "type": PING,
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
        "data": {"subscription_id": str(row.id)},
    }
    delivery = _delivery_row(row.id, message_id, PING, None, payload)
    await repo.add_deliveries(session, [delivery])
    await record(
        session,
        context,
        entity="webhook_delivery",
        entity_id=delivery["id"],
        action=AuditAction.CREATE,
        after={"subscription_id": row.id, "message_id": message_id, "type": PING},
        unit_id=row.unit_id,
    )
    found = await repo.delivery(session, row.id, delivery["id"])
    assert found is not None
    return delivery_out(found)


async def redeliver(
    session: AsyncSession,
    context: AuditContext,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    principal: Principal,
) -> WebhookDeliveryOut:
    """The same message again (same ``webhook-id``: a receiver that has it drops it), as a new
    entry of the log, whatever became of the first."""
    row = await _visible(session, principal, subscription_id, lock=True)
    old = await repo.delivery(session, row.id, delivery_id)
    if old is None:
        raise delivery_not_found(delivery_id)
    again = _delivery_row(row.id, old.message_id, old.event_type, old.position, old.payload)
    await repo.add_deliveries(session, [again])
    await record(
        session,
        context,
        entity="webhook_delivery",
        entity_id=again["id"],
        action=AuditAction.CREATE,
        after={"subscription_id": row.id, "message_id": old.message_id, "redelivery_of": old.id},
        unit_id=row.unit_id,
    )
    found = await repo.delivery(session, row.id, again["id"])
    assert found is not None
    return delivery_out(found)
