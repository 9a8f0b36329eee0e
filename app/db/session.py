"""The request-scoped session dependency. Services never commit; routers commit once.

With a replica configured (``NTM_DATABASE_REPLICA_URL``), a ``GET`` or ``HEAD`` request may read
from it; which ones do is decided here, by the rule in ``app/db/replica.py``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database
from app.db.replica import ReadTarget, caller_key

logger = logging.getLogger("app.db")


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


# Requests that cannot change anything: their sessions begin deferred on SQLite.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Requests that may read from the replica (OPTIONS never reaches a route's session).
REPLICA_METHODS = frozenset({"GET", "HEAD"})


@asynccontextmanager
async def _request_session(request: Request, *, per_statement: bool) -> AsyncIterator[AsyncSession]:
    database = get_database(request)
    replica = database.replica
    read_only = request.method in READ_METHODS
    # Only a read can go without a transaction (app.db.engine.Database.session).
    per_statement = per_statement and read_only
    if replica is None:
        async with database.session(read_only=read_only, per_statement=per_statement) as session:
            yield session
        return
    key = caller_key(request.headers.get("authorization"))
    if request.method in REPLICA_METHODS:
        choice = await replica.choose(key)
        if choice.target is ReadTarget.REPLICA:
            async with replica.session() as on_replica:
                if on_replica is not None:
                    yield on_replica
                    return
        else:
            logger.debug(
                "%s %s reads from the primary: %s", request.method, request.url.path, choice.reason
            )
    if read_only:
        async with database.session(read_only=True, per_statement=per_statement) as session:
            yield session
        return
    # A write: its caller reads from the primary from now until the replica has caught up.
    replica.write_started(key)
    try:
        async with database.session() as session:
            yield session
    finally:
        replica.write_ended(key)


_PER_STATEMENT = "__ntm_reads_per_statement__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def reads_per_statement(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route that only reads: on PostgreSQL its session (the one every dependency of
    the request shares, authentication included) reads statement by statement, without the
    BEGIN and ROLLBACK a transaction costs (``Database.session(per_statement=True)``). The hot
    public reads use it (issue 16). A read the replica serves keeps its transaction (its own
    sessions, app.db.replica). The function itself is returned, unwrapped, so FastAPI reads its
    signature as before."""
    setattr(endpoint, _PER_STATEMENT, True)
    return endpoint


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    # FastAPI has matched the route before it solves the dependencies.
    per_statement = getattr(request.scope.get("endpoint"), _PER_STATEMENT, False)
    async with _request_session(request, per_statement=per_statement) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
