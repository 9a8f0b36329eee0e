"""SQL of webhook subscriptions and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.locking import for_update
from app.models.enums import WebhookDeliveryStatus
from app.models.integration import WebhookDelivery, WebhookSubscription

PENDING = WebhookDeliveryStatus.PENDING.value
DELIVERIES = cast(Table, WebhookDelivery.__table__)


async def add_subscription(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(WebhookSubscription), [row])


async def subscription(
    session: AsyncSession, subscription_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription | None:
    query = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if lock:
        query = for_update(query)
    return (await session.scalars(query)).first()


async def subscriptions(
    session: AsyncSession, visible: ColumnElement[bool], limit: int, after: uuid.UUID | None
) -> Sequence[WebhookSubscription]:
    query = select(WebhookSubscription).where(visible)
    if after is not None:
        query = query.where(WebhookSubscription.id > after)
    query = query.order_by(WebhookSubscription.id).limit(limit + 1)
    return (await session.scalars(query)).all()


async def update_subscription(
    session: AsyncSession, subscription_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .values(**values)
    )


async def active_subscriptions_to_dispatch(session: AsyncSession, head: int) -> list[uuid.UUID]:
    """Active subscriptions behind the head, locked so that two workers never dispatch the
    same one (the other skips it)."""
    query = (
        select(WebhookSubscription.id)
        .where(WebhookSubscription.active.is_(True), WebhookSubscription.position < head)
        .order_by(WebhookSubscription.position)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(query))


async def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), rows)


async def deliveries(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> Sequence[WebhookDelivery]:
    """Newest first, by ``(created_at desc, id)``; ``before``: the last row of the page read."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if before is not None:
        moment, last_id = before
        query = query.where(
            or_(
                WebhookDelivery.created_at < moment,
                (WebhookDelivery.created_at == moment) & (WebhookDelivery.id > last_id),
            )
        )
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit + 1)
    return (await session.scalars(query)).all()


async def delivery(
    session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription_id
    )
    return (await session.scalars(query)).first()


async def claim_due(
    session: AsyncSession, worker_id: str, now: datetime, stale_before: datetime, limit: int
) -> Sequence[tuple[WebhookDelivery, WebhookSubscription]]:
    """Pending deliveries that are due (and not claimed by a live worker), claimed for
    ``worker_id``; ``SKIP LOCKED``: concurrent workers take different ones."""
    due = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.claimed_at.is_(None), WebhookDelivery.claimed_at < stale_before),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(await session.scalars(due))
    if not ids:
        return []
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(claimed_by=worker_id, claimed_at=now)
    )
    query = (
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.position, WebhookDelivery.created_at)
    )
    return [(d, s) for d, s in (await session.execute(query)).all()]


async def save_outcomes(session: AsyncSession, worker_id: str, rows: list[dict[str, Any]]) -> None:
    """Each attempt's outcome (rows with the same keys, ``id`` first), in one statement run for
    every row, releasing the claim; a claim another worker took over (stale) is left alone."""
    if not rows:
        return
    table = DELIVERIES
    columns = [key for key in rows[0] if key != "id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.claimed_by == worker_id)
        .values(
            {name: bindparam(f"b_{name}") for name in columns}
            | {"claimed_by": None, "claimed_at": None}
        )
    )
    await session.execute(
        statement, [{f"b_{key}": value for key, value in row.items()} for row in rows]
    )


async def any_due(session: AsyncSession, now: datetime) -> bool:
    query = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
        .limit(1)
    )
    return (await session.scalar(query)) is not None


async def any_behind(session: AsyncSession, head: int) -> bool:
    query = (
        select(WebhookSubscription.id)
        .where(WebhookSubscription.active.is_(True), WebhookSubscription.position < head)
        .limit(1)
    )
    return (await session.scalar(query)) is not None
