"""Engine and sessions: SQLite pragmas for the embedded default, a pre-pinged PostgreSQL pool."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions so that BEGIN, SAVEPOINT and
        # transactional DDL behave (SQLAlchemy docs, "Serializable isolation / Savepoints").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def build_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    url = make_url(settings.database_url)
    # Parameters hold password hashes and token digests: keep them out of logs and errors.
    kwargs: dict[str, Any] = {"echo": settings.db_echo, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            # A missing folder is created; an impossible one is left for the first request to
            # report (503), so that the server still starts.
            with contextlib.suppress(OSError):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 10}
    else:
        kwargs.update(
            pool_pre_ping=True,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_recycle=1800,
            connect_args={
                "timeout": settings.db_connect_timeout,
                "command_timeout": 60,
                # Short OLTP queries: JIT compilation only adds latency.
                "server_settings": {"jit": "off", "application_name": "ntm-api"},
            },
        )
    kwargs.update(overrides)
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


class Database:
    """Owns the engine and hands out sessions; tests bind it to one outer transaction."""

    def __init__(self, engine: AsyncEngine, *, bind: AsyncConnection | None = None) -> None:
        self.engine = engine
        if bind is None:
            self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        else:
            self.sessionmaker = async_sessionmaker(
                bind=bind,
                expire_on_commit=False,
                autoflush=False,
                join_transaction_mode="create_savepoint",
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
