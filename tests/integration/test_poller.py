"""A poller of the change feed running beside concurrent writers sees every change exactly once
(positions are handed out in commit order: app/outbox)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit.service import AuditContext, record
from app.db.engine import Database
from app.integration.service.feed import to_event, visible_filter
from app.models.system import AuditRecord, OutboxEvent
from app.outbox import service as outbox

WRITERS = 4
EACH = 15


async def test_a_poller_beside_concurrent_writers_sees_every_change_once(
    engine: AsyncEngine,
) -> None:
    database = Database(engine)
    marker = f"poller-{uuid.uuid4().hex[:8]}"
    async with database.session(read_only=True) as reader:
        mark = await outbox.head(reader)
    seen: list[str] = []
    done = asyncio.Event()

    async def write(writer: int) -> None:
        for n in range(EACH):
            async with database.session() as session:
                context = AuditContext(actor_kind="system", actor_name="w", request_id=marker)
                await record(
                    session, context, entity="unit", entity_id=f"{writer}-{n}", action="update"
                )
                if n % 3 == 0:  # some transactions hold on before committing
                    await asyncio.sleep(0.01)
                await session.commit()

    async def poll() -> None:
        nonlocal mark
        where = visible_filter(None, None, None, national=True)
        while True:
            finished = done.is_set()
            async with database.session(read_only=True) as reader:
                head = await outbox.head(reader)
                events = await outbox.read_feed(reader, mark, 7, where, through=head)
            for event in events:
                if event.request_id == marker:
                    seen.append(to_event(event).entity_id)
            mark = events[-1].position if len(events) == 7 else head
            if finished and len(events) < 7:
                return
            await asyncio.sleep(0)

    try:
        poller = asyncio.create_task(poll())
        await asyncio.gather(*(write(w) for w in range(WRITERS)))
        done.set()
        await asyncio.wait_for(poller, 60)
        expected = sorted(f"{w}-{n}" for w in range(WRITERS) for n in range(EACH))
        assert sorted(seen) == expected  # every change, none twice
    finally:
        async with database.session() as session:
            await session.execute(delete(OutboxEvent).where(OutboxEvent.request_id == marker))
            await session.execute(delete(AuditRecord).where(AuditRecord.request_id == marker))
            await session.commit()
