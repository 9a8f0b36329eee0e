"""The PostgreSQL pool hands out only live connections (app.db.engine._check_on_checkout): a
pooled connection the server dropped (a restart, a terminated backend) is replaced on the spot,
so the request that draws it succeeds instead of answering 503. A connection whose socket is
closed is replaced without a round trip; one idle for longer than
``PING_AFTER_IDLE_SECONDS`` is pinged first. SQLite has no server connection to lose: the same
sequence simply works."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings
from app.db import engine as engine_module
from app.db.engine import Database, build_engine


async def _pid_and_driver(session: AsyncSession) -> tuple[int, Any]:
    pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    raw = await (await session.connection()).get_raw_connection()
    return pid, raw.driver_connection


async def _terminate(engine: AsyncEngine, pid: int) -> None:
    async with engine.connect() as admin:
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def _new_pid_after_a_drop(settings: Settings, engine: AsyncEngine, *, wait: bool) -> None:
    own = build_engine(settings.model_copy(update={"db_pool_size": 1}))
    database = Database(own)
    try:
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            if own.dialect.name != "postgresql":
                # A file: nothing can drop the connection between uses.
                async with database.session(read_only=True) as again:
                    assert (await again.execute(text("SELECT 1"))).scalar_one() == 1
                return
            pid, driver = await _pid_and_driver(session)
        await _terminate(engine, pid)
        if wait:
            # Until the event loop has read the end of the stream: the socket says closed.
            deadline = time.monotonic() + 10
            while not driver.is_closed():
                assert time.monotonic() < deadline, "the terminated connection never closed"
                await asyncio.sleep(0.01)
        # The same pooled connection, now dead on the server's side: the checkout finds it out
        # and the pool opens a new one; the query itself never sees the failure.
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            again = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await own.dispose()


async def test_a_connection_the_server_closed_is_replaced_without_a_ping(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No ping at all: only the socket's state can tell the connection is gone.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 1e9)
    await _new_pid_after_a_drop(settings, engine, wait=True)


async def test_an_idle_connection_is_pinged_before_use(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every connection counts as idle: drawn right after the terminate, before the loop may
    # have seen the socket close, the ping finds the connection dead.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    await _new_pid_after_a_drop(settings, engine, wait=False)


async def test_a_busy_pool_does_not_ping(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections that come back from a request and are drawn again at once are not pinged:
    the server sees one statement per use, not a ``;`` before it."""
    own = build_engine(settings.model_copy(update={"db_pool_size": 1}))
    database = Database(own)
    try:
        if own.dialect.name != "postgresql":
            # A file: no checkout check is installed, there is no server to lose.
            assert not own.sync_engine.pool.dispatch.checkout
            return
        async with database.session(read_only=True) as session:
            await session.execute(text("SELECT 1"))
            _pid, driver = await _pid_and_driver(session)
        pings: list[str] = []
        execute = type(driver).execute

        async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if self is driver:
                pings.append(query)
            return await execute(self, query, *args, **kwargs)

        monkeypatch.setattr(type(driver), "execute", counted)
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
            assert (await _pid_and_driver(session))[1] is driver  # the same pooled connection
        assert ";" not in pings  # BEGIN and ROLLBACK only: the session's own
        # Idle past the threshold: pinged once, with a simple ";".
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        async with database.session(read_only=True) as session:
            assert (await session.execute(text("SELECT 3"))).scalar_one() == 3
        assert pings.count(";") == 1
    finally:
        await own.dispose()
