"""Reads statement by statement (``app.db.session.reads_per_statement``): on PostgreSQL the hot
GET routes read without a transaction around them, with the same answers, and a streamed export
from such a route opens the transaction its server-side cursor needs. SQLite reads as before.

These tests use the service's own, unbound database (the suite's other tests share one outer
transaction, in which nothing can go without a transaction): they only read the seeded map.
"""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db.engine import Database
from app.main import create_app

STARTED = text("SELECT transaction_timestamp()")


@pytest.fixture
def unbound(settings: Settings, engine: AsyncEngine) -> FastAPI:
    return create_app(settings, database=Database(engine))


async def test_a_per_statement_session_reads_without_a_transaction(engine: AsyncEngine) -> None:
    database = Database(engine)
    async with database.session(read_only=True, per_statement=True) as session:
        assert (await session.execute(text("SELECT 41 + 1"))).scalar_one() == 42
        if engine.dialect.name != "postgresql":
            # SQLite has no round trip to save: the same deferred read transaction as before.
            assert database.statement_sessionmaker is database.read_sessionmaker
            return
        # Each statement is a transaction of its own: the second one started later.
        first = (await session.execute(STARTED)).scalar_one()
        await asyncio.sleep(0.01)
        assert (await session.execute(STARTED)).scalar_one() > first
    async with database.session(read_only=True) as session:
        # An ordinary read session: both statements in the one transaction.
        first = (await session.execute(STARTED)).scalar_one()
        await asyncio.sleep(0.01)
        assert (await session.execute(STARTED)).scalar_one() == first


async def test_hot_routes_read_per_statement_and_others_in_a_transaction(
    unbound: FastAPI, engine: AsyncEngine
) -> None:
    levels: list[tuple[str, Any]] = []

    def seen(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        levels.append((statement, conn.get_execution_options().get("isolation_level")))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with AsyncClient(
            transport=ASGITransport(app=unbound), base_url="http://testserver"
        ) as client:
            listed = await client.get(
                "/api/v1/units", params={"level": "province", "include_total": "true"}
            )
            assert listed.status_code == 200, listed.text
            provinces = listed.json()["items"]
            assert provinces
            assert listed.json()["total"] >= len(provinces)
            marked = {isolation for _statement, isolation in levels}

            unit_id = provinces[0]["id"]
            levels.clear()
            detail = await client.get(f"/api/v1/units/{unit_id}")
            assert detail.status_code == 200
            assert detail.json()["code"] == provinces[0]["code"]
            detail_levels = {isolation for _statement, isolation in levels}

            levels.clear()
            history = await client.get(f"/api/v1/units/{unit_id}/history")
            assert history.status_code == 200
            unmarked = {isolation for _statement, isolation in levels}

            # The export of a per-statement route streams from a server-side cursor.
            levels.clear()
            exported = await client.get(
                "/api/v1/units", params={"level": "province", "format": "csv"}
            )
            assert exported.status_code == 200, exported.text
            rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
            assert len(rows) == listed.json()["total"]
            assert {row["unit_code"] for row in rows} >= {p["code"] for p in provinces}
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    if engine.dialect.name == "postgresql":
        assert marked == {"AUTOCOMMIT"}
        assert detail_levels == {"AUTOCOMMIT"}
        assert "AUTOCOMMIT" not in unmarked
    else:
        assert "AUTOCOMMIT" not in marked | detail_levels | unmarked
