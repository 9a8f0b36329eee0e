"""Engine and sessions: SQLite pragmas for the embedded default, a checked PostgreSQL pool."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_

from app.config import Settings
from app.db.pool import FairAsyncPool

if TYPE_CHECKING:
    from app.db.replica import Replica

logger = logging.getLogger("app.db")


# Execution option that marks an engine (and the sessions bound to it) as read-only.
READ_ONLY_OPTION = "ntm_read_only"


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
        # A deferred transaction that reads and then writes cannot wait for another writer: its
        # upgrade to a write lock fails at once with SQLITE_BUSY, whatever the busy timeout
        # (sqlite.org/lang_transaction.html, "BEGIN IMMEDIATE"). Transactions that may write
        # therefore take the write lock when they begin, and wait their turn for it (busy
        # timeout); only sessions opened read-only (GET requests) begin deferred, so that reads
        # never queue behind writers (WAL).
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


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
            # First come, first served when every connection is busy (app/db/pool.py).
            poolclass=FairAsyncPool,
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
    else:
        _check_on_checkout(engine)
    return engine


# A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "ntm_returned_at"


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Hand out only live connections, so that the first requests after a database restart
    succeed instead of each answering 503 (tests/faults, tests/system/test_pool_pre_ping.py).

    SQLAlchemy's ``pool_pre_ping`` does that with three round trips per checkout on asyncpg
    (BEGIN, a prepared ``;``, ROLLBACK: about 12 % of a unit read under load, bench/RESULTS.md).
    Here a connection is first asked whether its socket is closed, which costs nothing: a
    restart or a terminated backend closes it, and asyncpg sees that as soon as the event loop
    reads the end of the stream. A connection that has sat in the pool for longer than
    ``PING_AFTER_IDLE_SECONDS`` (what a lost network path or a silently dropped connection
    needs) is also pinged, with one simple-protocol ``;`` (no prepared statement, no
    transaction: safe behind a transaction-mode pooler, the reason SQLAlchemy wraps its ping in
    one, sqlalchemy#10226). Under load connections come back within milliseconds and are never
    pinged; an idle service pays one round trip per request, which it does not feel.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver.is_closed():
            raise exc.DisconnectionError("the server closed the connection")
        returned = record.info.get(_RETURNED_AT)
        # The module's value is read here, at every checkout: tests set it to ping every time.
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or back from a request a moment ago
        try:
            await_(driver.execute(";"))
        except Exception as error:
            # A ";" fails only when the connection or the server is gone: every older pooled
            # connection is suspect too (what pool_pre_ping does on a failed ping).
            raise exc.InvalidatePoolError(f"the ping failed: {type(error).__name__}") from error


class Database:
    """Owns the engine and hands out sessions; tests bind it to one outer transaction."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        bind: AsyncConnection | None = None,
        replica: Replica | None = None,
    ) -> None:
        self.engine = engine
        # A streaming replica for the reads app.db.session routes to it (app/db/replica.py).
        self.replica = replica
        # Connections that only read (readiness probes, GET requests): never the write lock.
        self.read_engine = engine.execution_options(**{READ_ONLY_OPTION: True})
        if bind is None:
            self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
            self.read_sessionmaker = async_sessionmaker(
                self.read_engine,
                expire_on_commit=False,
                autoflush=False,
            )
            # Reads statement by statement (see ``session``): PostgreSQL's own autocommit.
            self.statement_sessionmaker = (
                async_sessionmaker(
                    self.read_engine.execution_options(isolation_level="AUTOCOMMIT"),
                    expire_on_commit=False,
                    autoflush=False,
                )
                if engine.dialect.name == "postgresql"
                else self.read_sessionmaker
            )
        else:
            self.sessionmaker = async_sessionmaker(
                bind=bind,
                expire_on_commit=False,
                autoflush=False,
                join_transaction_mode="create_savepoint",
            )
            self.read_sessionmaker = self.sessionmaker
            self.statement_sessionmaker = self.sessionmaker

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(
        self, *, read_only: bool = False, per_statement: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session; ``read_only`` ones begin deferred on SQLite (see ``_configure_sqlite``).

        ``per_statement`` (read-only): on PostgreSQL, no transaction around the reads, each
        statement on its own. At READ COMMITTED, PostgreSQL's default and the service's, every
        statement of a transaction sees its own snapshot anyway, so the reads see exactly what
        they would in one; what is saved is the BEGIN and ROLLBACK round trips and their CPU
        (about 8 % of a unit read, bench/RESULTS.md). Such a session must only read: a write
        would commit at once. A server-side cursor needs a transaction and opens its own
        (app.exports.rows). SQLite, and tests bound to one connection, read as ``read_only``.
        """
        if per_statement:
            maker = self.statement_sessionmaker
        else:
            maker = self.read_sessionmaker if read_only else self.sessionmaker
        async with maker() as session:
            try:
                yield session
            except BaseException:
                try:
                    await session.rollback()
                except Exception as exc:
                    # The connection is gone (database restarting): the original error is the
                    # one to answer (503); a rollback that cannot reach the server is moot.
                    logger.warning("rollback failed: %s", type(exc).__name__)
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica is not None:
            await self.replica.dispose()
