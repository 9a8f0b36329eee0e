"""Requests waiting for a connection are served in the order they came (app.db.pool): a request
that arrives when a connection is released does not take it from the one that has waited. The
service's PostgreSQL pool is this one; on SQLite the same pool is built over the test's file."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db.engine import build_engine
from app.db.pool import FairAsyncPool


async def test_a_released_connection_goes_to_the_request_that_waited(
    settings: Settings, engine: AsyncEngine
) -> None:
    one = build_engine(settings, poolclass=FairAsyncPool, pool_size=1, max_overflow=0)
    order: list[str] = []

    async def use(name: str) -> None:
        async with one.connect() as connection:
            order.append(name)
            await connection.execute(text("SELECT 1"))

    try:
        if engine.dialect.name == "postgresql":
            assert isinstance(engine.pool, FairAsyncPool)  # the service's own pool
        holder = await one.connect()
        await holder.execute(text("SELECT 1"))
        waiting = [asyncio.create_task(use(f"waiter {n}")) for n in range(3)]
        await asyncio.sleep(0.05)  # all three are waiting for the one connection
        assert order == []
        await holder.close()  # released: it goes to the first waiter…
        await use("newcomer")  # …and the newcomer, asking at once, queues behind all three
        await asyncio.gather(*waiting)
        assert order == ["waiter 0", "waiter 1", "waiter 2", "newcomer"]
    finally:
        await one.dispose()


async def test_a_waiter_that_gives_up_loses_no_connection(settings: Settings) -> None:
    one = build_engine(
        settings, poolclass=FairAsyncPool, pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    try:
        holder = await one.connect()
        await holder.execute(text("SELECT 1"))

        # One waiter times out, one is cancelled (its client went away): neither keeps or loses
        # the connection, which the next request gets.
        async def take() -> None:
            async with one.connect() as connection:
                await connection.execute(text("SELECT 1"))

        timed_out = asyncio.create_task(take())
        cancelled = asyncio.create_task(take())
        await asyncio.sleep(0.05)
        cancelled.cancel()
        await asyncio.sleep(0.3)
        assert timed_out.done()
        assert timed_out.exception() is not None
        await holder.close()
        async with one.connect() as connection:
            assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2
        assert one.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await one.dispose()
