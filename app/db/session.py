"""The request-scoped session dependency. Services never commit; routers commit once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


# Requests that cannot change anything: their sessions begin deferred on SQLite.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    read_only = request.method in READ_METHODS
    async with get_database(request).session(read_only=read_only) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
