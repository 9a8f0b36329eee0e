"""Two people act on one dossier at once with the same ETag: exactly one wins, the other gets
412 and leaves nothing behind.

Runs on committed data with two real sessions (two connections), outside the per-test rollback,
and removes what it committed. On PostgreSQL the two transitions are truly simultaneous: the
second waits on the dossier's row lock (``FOR UPDATE``) and then checks ``If-Match`` against the
revision the first committed. SQLite has no row locks (a writer holds the whole database), so
there the same test runs them one after the other.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.service import AuditContext
from app.core.errors import PreconditionFailed
from app.core.http import revision_etag
from app.core.permissions import Role
from app.core.security import Grant, Principal, PrincipalKind
from app.db.base import Base
from app.db.engine import Database
from app.db.types import utcnow
from app.dossiers.schemas import TransitionRequest
from app.dossiers.service import transitions
from app.models.dossiers import Dossier, DossierTransition
from app.models.system import AuditRecord, OutboxEvent

CONTEXT = AuditContext.system("concurrency-test")


def _person(name: str) -> Principal:
    return Principal(
        id=uuid.uuid4(),
        kind=PrincipalKind.USER,
        name=name,
        grants=(Grant(id=uuid.uuid4(), role=Role.SYSTEM_ADMIN, unit_id=None),),
    )


async def _committed_dossier(database: Database) -> uuid.UUID:
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
        dossier_id = uuid.uuid4()
        session.add(
            Dossier(
                id=dossier_id,
                unit_id=unit_id,
                title="ntm_commune",
                year=2024,
                criteria_set_id=set_id,
                procedure="commune-2025",
                status="draft",
                revision=1,
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()
    return dossier_id


async def _remove(database: Database, dossier_id: uuid.UUID) -> None:
    async with database.session() as session:
        for model in (AuditRecord, OutboxEvent):
            await session.execute(delete(model).where(model.entity_id == str(dossier_id)))
        await session.execute(
            delete(DossierTransition).where(DossierTransition.dossier_id == dossier_id)
        )
        await session.execute(delete(Dossier).where(Dossier.id == dossier_id))
        await session.commit()


async def test_one_of_two_simultaneous_transitions_wins(engine: AsyncEngine) -> None:
    database = Database(engine)
    dossier_id = await _committed_dossier(database)
    etag = revision_etag(dossier_id, 1)

    async def withdraw(session: AsyncSession, who: str) -> object:
        return await transitions.transition(
            session, CONTEXT, dossier_id, TransitionRequest(action="withdraw"), _person(who), etag
        )

    try:
        async with database.sessionmaker() as first, database.sessionmaker() as second:
            await withdraw(first, "first")
            if database.dialect == "postgresql":
                racing = asyncio.create_task(withdraw(second, "second"))
                await asyncio.sleep(0.5)
                assert not racing.done(), "the second transition must wait on the row lock"
                await first.commit()
                with pytest.raises(PreconditionFailed) as refused:
                    await racing
            else:
                await first.commit()
                with pytest.raises(PreconditionFailed) as refused:
                    await withdraw(second, "second")
            await second.rollback()
        assert refused.value.code == "precondition_failed"

        async with database.session() as session:
            row = (
                await session.execute(
                    select(Dossier.status, Dossier.revision).where(Dossier.id == dossier_id)
                )
            ).one()
            assert tuple(row) == ("withdrawn", 2)
            history = (
                await session.execute(
                    select(DossierTransition.actor_name, DossierTransition.to_status).where(
                        DossierTransition.dossier_id == dossier_id
                    )
                )
            ).all()
            assert [tuple(h) for h in history] == [("first", "withdrawn")]
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.entity_id == str(dossier_id))
            )
            assert audited == 1
    finally:
        await _remove(database, dossier_id)
