"""Two writers that read the same ETag: exactly one wins, the other gets 412.

Runs on committed data with two real sessions (two connections), outside the per-test rollback,
and removes what it committed. On PostgreSQL the two writes are truly simultaneous: the second
waits on the row lock (``FOR UPDATE``) and then checks ``If-Match`` against the revision the
first committed. SQLite has no row locks (a writer holds the whole database), so there the same
test runs the two writes one after the other.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.assessments.repository import assessments as repo
from app.assessments.schemas import AssessmentPatch
from app.assessments.service import assessments as service
from app.audit.service import AuditContext
from app.core.errors import PreconditionFailed
from app.core.http import revision_etag
from app.db.base import Base
from app.db.engine import Database
from app.db.types import utcnow
from app.models.system import AuditRecord, OutboxEvent

CONTEXT = AuditContext.system("concurrency-test")


async def _committed_assessment(database: Database) -> uuid.UUID:
    units = Base.metadata.tables["units"]
    sets = Base.metadata.tables["criteria_sets"]
    async with database.session() as session:
        unit_id = await session.scalar(
            select(units.c.id).where(units.c.level == "commune").order_by(units.c.id).limit(1)
        )
        set_id = await session.scalar(
            select(sets.c.id).where(sets.c.status == "published").order_by(sets.c.id).limit(1)
        )
        assert unit_id is not None
        assert set_id is not None
        now = utcnow()
        assessment_id = uuid.uuid4()
        await repo.insert_one(
            session,
            {
                "id": assessment_id,
                "unit_id": unit_id,
                "criteria_set_id": set_id,
                "year": 2099,
                "kind": "annual_review",
                "status": "draft",
                "note": None,
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
        await session.commit()
    return assessment_id


async def _remove(database: Database, assessment_id: uuid.UUID) -> None:
    async with database.session() as session:
        await session.execute(
            delete(AuditRecord).where(AuditRecord.entity_id == str(assessment_id))
        )
        await session.execute(
            delete(OutboxEvent).where(OutboxEvent.entity_id == str(assessment_id))
        )
        await session.execute(
            delete(repo.ASSESSMENTS).where(repo.ASSESSMENTS.c.id == assessment_id)
        )
        await session.commit()


Write = Callable[[AsyncSession], Awaitable[object]]


async def _race(database: Database, first_write: Write, second_write: Write) -> None:
    """The first write takes the row and commits; the second, sent with the same If-Match,
    must be refused with 412 and leave nothing behind."""
    async with database.sessionmaker() as first, database.sessionmaker() as second:
        await first_write(first)
        if database.dialect == "postgresql":
            racing = asyncio.create_task(second_write(second))
            await asyncio.sleep(0.5)
            assert not racing.done(), "the second writer must wait on the row lock"
            await first.commit()
            with pytest.raises(PreconditionFailed) as refused:
                await racing
        else:
            await first.commit()
            with pytest.raises(PreconditionFailed) as refused:
                await second_write(second)
        await second.rollback()
    assert refused.value.code == "precondition_failed"


async def test_one_of_two_concurrent_if_match_patches_wins(engine: AsyncEngine) -> None:
    database = Database(engine)
    assessment_id = await _committed_assessment(database)
    etag = revision_etag(assessment_id, 1)

    def patch(note: str) -> Write:
        def run(session: AsyncSession) -> Awaitable[object]:
            return service.patch(
                session, CONTEXT, assessment_id, AssessmentPatch(note=note), None, etag
            )

        return run

    try:
        await _race(database, patch("first"), patch("second"))
        async with database.session() as session:
            row = await repo.get(session, assessment_id)
            assert row is not None
            assert (row["note"], row["revision"]) == ("first", 2)
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.entity_id == str(assessment_id))
            )
            assert audited == 1
    finally:
        await _remove(database, assessment_id)
