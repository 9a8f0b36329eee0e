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


async def test_every_audit_record_has_its_event_numbered_at_commit(
    session: AsyncSession,
) -> None:
    before = await session.scalar(select(func.max(OutboxEvent.position))) or 0
    context = AuditContext.system("test", reason="outbox")
    # Rolled back with the audit record: nothing is published that was not written.
    await record(session, context, entity="thing", entity_id="0", action="create")
    await session.rollback()
    unit_id = uuid.uuid4()
    await record(session, context, entity="thing", entity_id="1", action="create", unit_id=unit_id)
    await record_many(
        session,
        [entry(context, entity="thing", entity_id=str(i), action="update") for i in (2, 3)],
    )
    # Not numbered (so not readable) before the commit.
    assert await outbox.read_after(session, before) == []
    await session.commit()
    events = await outbox.read_after(session, before)
    assert sorted((e.entity, e.entity_id, e.action) for e in events) == [
        ("thing", "1", "create"),
        ("thing", "2", "update"),
        ("thing", "3", "update"),
    ]
    assert {e.unit_id for e in events if e.entity_id == "1"} == {unit_id}
    positions = [e.position for e in events]
    assert positions == sorted(set(positions))
    assert positions[0] > before
    assert await outbox.read_after(session, positions[1], limit=5) == [events[2]]


async def _record(session: AsyncSession, marker: str, name: str) -> None:
    await record(
        session,
        AuditContext(actor_kind="system", actor_name=name, request_id=marker),
        entity="thing",
        entity_id=name,
        action="create",
    )


async def test_a_poller_never_skips_an_event_committed_out_of_order(engine: AsyncEngine) -> None:
    """Two transactions write concurrently; the one that wrote first commits last. An audit
    ``seq`` (drawn at insert) is smaller for the first, so a poller by ``seq`` would move past it
    before it commits and never see it. The outbox numbers at commit: the poller, polling after
    every step, must end with both events, in commit order."""
    database = Database(engine)
    marker = f"outbox-order-{uuid.uuid4().hex[:8]}"
    seen: list[str] = []
    async with database.session(read_only=True) as reader:
        mark = await reader.scalar(select(func.max(OutboxEvent.position))) or 0

    async def poll() -> None:
        nonlocal mark
        # A reader never takes the write lock (on SQLite, writers begin IMMEDIATE).
        async with database.session(read_only=True) as reader:
            for event in await outbox.read_after(reader, mark):
                if event.request_id == marker:
                    seen.append(event.entity_id)
                mark = event.position

    try:
        async with database.session() as first, database.session() as second:
            await _record(first, marker, "first")
            await poll()
            # On SQLite the second writer waits here for the first (one writer at a time): it
            # can only commit after it, and the order to check is the plain one.
            later = asyncio.create_task(_record(second, marker, "second"))
            await asyncio.sleep(0.5)
            if later.done():
                await second.commit()  # the later writer commits first...
                await poll()
                await first.commit()  # ...and the earlier one last
                order = ["second", "first"]
            else:
                await first.commit()
                await later
                await poll()
                await second.commit()
                order = ["first", "second"]
            await later
            await poll()
        async with database.session(read_only=True) as reader:
            seqs = dict(
                (
                    await reader.execute(
                        select(AuditRecord.entity_id, AuditRecord.seq).where(
                            AuditRecord.request_id == marker
                        )
                    )
                ).all()
            )
        assert seqs["first"] < seqs["second"]  # the audit seq follows the writes, not commits
        assert seen == order, "the poller skipped an event committed out of order"
    finally:
        async with database.session() as cleanup:
            await cleanup.execute(delete(OutboxEvent).where(OutboxEvent.request_id == marker))
            await cleanup.execute(delete(AuditRecord).where(AuditRecord.request_id == marker))
            await cleanup.commit()
