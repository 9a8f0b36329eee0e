"""Two revocations of one recognition sent with the same If-Match: exactly one wins (412 for
the other), on committed data with two sessions (see tests/assessments/test_concurrent_writes.py).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.service import AuditContext
from app.core.http import revision_etag
from app.db.base import Base
from app.db.engine import Database
from app.models.enums import RecognitionSource, Title
from app.models.system import AuditRecord, OutboxEvent
from app.recognitions import repository as repo
from app.recognitions import service
from tests.assessments.test_concurrent_writes import Write, _race

CONTEXT = AuditContext.system("concurrency-test")


async def _committed(database: Database) -> uuid.UUID:
    versions = Base.metadata.tables["unit_versions"]
    async with database.session() as session:
        # A commune that existed from the decision to the revocation.
        unit_id = await session.scalar(
            select(versions.c.unit_id)
            .where(
                versions.c.level == "commune",
                versions.c.valid_from <= date(2024, 1, 10),
                or_(versions.c.valid_to.is_(None), versions.c.valid_to > date(2024, 6, 1)),
            )
            .order_by(versions.c.unit_id)
            .limit(1)
        )
        assert unit_id is not None
        granted = await service.record_grant(
            session,
            context=CONTEXT,
            principal=None,
            unit_id=unit_id,
            title=Title.NTM_COMMUNE,
            year_for=2023,
            decision_number="race/QĐ",
            decision_date=date(2024, 1, 10),
            signer="test",
            source=RecognitionSource.HISTORICAL,
        )
        await session.commit()
    return granted.id


async def test_one_of_two_concurrent_revocations_wins(engine: AsyncEngine) -> None:
    database = Database(engine)
    recognition_id = await _committed(database)
    etag = revision_etag(recognition_id, 1)

    def revoke(number: str) -> Write:
        async def run(session: AsyncSession) -> object:
            return await service.record_revocation(
                session,
                context=CONTEXT,
                principal=None,
                recognition_id=recognition_id,
                decision_number=number,
                decision_date=date(2024, 6, 1),
                signer="test",
                reason="race",
                if_match=etag,
            )

        return run

    try:
        await _race(database, revoke("first"), revoke("second"))
        async with database.session() as session:
            row = await repo.get(session, recognition_id)
            assert row is not None
            assert (row["revocation_decision_number"], row["revision"]) == ("first", 2)
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.entity_id == str(recognition_id))
            )
            assert audited == 2  # the grant and one revocation
    finally:
        async with database.session() as session:
            for model in (AuditRecord, OutboxEvent):
                await session.execute(delete(model).where(model.entity_id == str(recognition_id)))
            await session.execute(
                delete(repo.RECOGNITIONS).where(repo.RECOGNITIONS.c.id == recognition_id)
            )
            await session.commit()
