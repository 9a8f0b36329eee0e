"""Webhook subscriptions and their deliveries (app/integration). The change feed itself is the
outbox (app.models.system.OutboxEvent)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import JSONType, utcnow
from app.models.enums import WebhookDeliveryStatus


class WebhookSubscription(IdMixin, TimestampMixin, Base):
    """Where to send which events: a URL, the event types (empty: all), the unit whose subtree
    the events must be about (None: national), and the signing secret (Standard Webhooks needs
    the sender to keep it: it is shown once, never listed again). ``position`` is the last feed
    position already turned into deliveries."""

    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    unit_id: Mapped[uuid.UUID | None]
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index(None, "active"),)


def _in(column: str, values: type[WebhookDeliveryStatus]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in values)})"


class WebhookDelivery(IdMixin, Base):
    """One message to one subscription, with every attempt's outcome summed up. ``message_id``
    is the ``webhook-id`` header: the same for every retry and manual redelivery of one event,
    so that a receiver deduplicates by it."""

    __tablename__ = "webhook_deliveries"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    message_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    position: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default=WebhookDeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who is sending it now (a worker id) and since when: a crashed worker's claim expires.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("status", WebhookDeliveryStatus), name="status"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "subscription_id", "created_at"),
    )
