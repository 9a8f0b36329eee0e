"""The PostgreSQL pool pings a connection before handing it out: a pooled connection the server
dropped (a restart, a terminated backend) is replaced on the spot, so the request that draws it
succeeds instead of answering 503. SQLite has no server connection to lose: the same sequence
simply works."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db.engine import Database, build_engine


async def test_a_dropped_connection_is_replaced_before_use(
    settings: Settings, engine: AsyncEngine
) -> None:
    own = build_engine(settings.model_copy(update={"db_pool_size": 1}))
    database = Database(own)
    try:
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            if own.dialect.name == "postgresql":
                pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        if own.dialect.name != "postgresql":
            # A file: nothing can drop the connection between uses.
            async with database.session(read_only=True) as session:
                assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            return
        assert own.pool._pre_ping is True  # type: ignore[attr-defined]
        async with engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # The same pooled connection, now dead on the server's side: the ping finds it out and
        # the pool opens a new one; the query itself never sees the failure.
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            again = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await own.dispose()
