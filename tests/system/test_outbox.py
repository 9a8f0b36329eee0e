"""The outbox: written with every audit record, and read by position without ever skipping a row
that commits late (app/outbox)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.service import AuditContext, entry, record, record_many
from app.db.engine import Database
from app.models.system import AuditRecord, OutboxEvent
from app.outbox import service as outbox


async def test_every_audit_record_has_its_event_in_the_same_transaction(
    session: AsyncSession,
) -> None:
    before = await session.scalar(select(func.max(OutboxEvent.position))) or 0
    context = AuditContext.system("test", reason="outbox")
    unit_id = uuid.uuid4()
    await record(session, context, entity="thing", entity_id="1", action="create", unit_id=unit_id)
    await record_many(
        session,
        [entry(context, entity="thing", entity_id=str(i), action="update") for i in (2, 3)],
    )
    events = await outbox.read_after(session, before)
    assert [(e.entity, e.entity_id, e.action) for e in events] == [
        ("thing", "1", "create"),
        ("thing", "2", "update"),
        ("thing", "3", "update"),
    ]
    assert events[0].unit_id == unit_id
    assert events[0].position < events[1].position < events[2].position
    assert await outbox.read_after(session, events[1].position, limit=5) == [events[2]]
    # Rolled back with the audit record: nothing is published that was not written.
    await session.rollback()
    assert await outbox.read_after(session, before) == []


async def _record(session: AsyncSession, marker: str, name: str) -> None:
    await record(
        session,
        AuditContext(actor_kind="system", actor_name=name, request_id=marker),
        entity="thing",
        entity_id=name,
        action="create",
    )


async def test_a_poller_never_skips_an_event_committed_out_of_order(engine: AsyncEngine) -> None:
    """Two transactions write concurrently; the one that started first commits first only if
    the outbox makes the other wait. Without that (a plain autoincrement on PostgreSQL), the
    later one would commit a larger position first, the poller would move past the smaller one
    and never see it. The poller here polls after every step and must end with both events."""
    database = Database(engine)
    marker = f"outbox-order-{uuid.uuid4().hex[:8]}"
    async with database.session() as reader:
        start = await reader.scalar(select(func.max(OutboxEvent.position))) or 0
    seen: list[int] = []
    mark = start

    async def poll() -> None:
        nonlocal mark
        async with database.session() as reader:
            for event in await outbox.read_after(reader, mark):
                if event.request_id == marker:
                    seen.append(event.position)
                mark = event.position

    try:
        async with database.session() as first, database.session() as second:
            await _record(first, marker, "first")  # draws the smaller position
            later = asyncio.create_task(_record(second, marker, "second"))
            await asyncio.sleep(0.5)
            await poll()
            if later.done():
                # Nothing made the second writer wait: it commits first, the first one last.
                await second.commit()
                await poll()
                await first.commit()
            else:
                await first.commit()
                await later
                await poll()
                await second.commit()
            await later
            await poll()
            await poll()
        async with database.session() as reader:
            committed = (
                await reader.scalars(
                    select(OutboxEvent.position)
                    .where(OutboxEvent.request_id == marker)
                    .order_by(OutboxEvent.position)
                )
            ).all()
        assert len(committed) == 2
        assert seen == list(committed), "the poller skipped an event committed out of order"
    finally:
        async with database.session() as cleanup:
            await cleanup.execute(delete(OutboxEvent).where(OutboxEvent.request_id == marker))
            await cleanup.execute(delete(AuditRecord).where(AuditRecord.request_id == marker))
            await cleanup.commit()
