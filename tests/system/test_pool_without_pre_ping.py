"""The PostgreSQL pool does not ping a connection before each use (issue 16: a round trip per
request). What that costs is bounded: a pooled connection the server dropped fails the one use
that draws it, as "database unavailable" (503 with Retry-After), and the pool then reconnects.
SQLite has no server connection to lose: the same sequence simply works."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.core.errors import is_database_unavailable
from app.db.engine import Database, build_engine


async def test_a_dropped_connection_fails_one_use_then_the_pool_reconnects(
    settings: Settings, engine: AsyncEngine
) -> None:
    own = build_engine(settings.model_copy(update={"db_pool_size": 1}))
    database = Database(own)
    try:
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            if own.dialect.name == "postgresql":
                pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert own.pool._pre_ping is False  # type: ignore[attr-defined]
        if own.dialect.name != "postgresql":
            # A file: nothing can drop the connection between uses.
            async with database.session(read_only=True) as session:
                assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            return
        async with engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        failure: BaseException | None = None
        try:
            async with database.session(read_only=True) as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            failure = exc
        assert failure is not None, "the dropped connection was used without an error"
        assert is_database_unavailable(failure), repr(failure)
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await own.dispose()
