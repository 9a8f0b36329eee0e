"""Database faults answer 503 problem+json with Retry-After, never 500 (issue 10, item 6), and
the embedded default lets concurrent writers wait their turn instead of failing (item 5)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.core.permissions import Role
from app.core.security import PrincipalKind, issue_access_token
from app.db import migrate
from app.db.availability import is_database_unavailable
from app.db.engine import Database, build_engine
from app.main import create_app
from app.models.identity import RoleAssignment, User

PROBLEM = "application/problem+json"


def _wrapped(error: Exception) -> DBAPIError:
    return DBAPIError("SELECT 1", None, error)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.CrashShutdownError("crash"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
    ],
)
def test_server_side_unavailability_is_recognised_raw_and_wrapped(error: Exception) -> None:
    assert is_database_unavailable(error)
    assert is_database_unavailable(_wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.UndefinedTableError("no such table"),
    ],
)
def test_statement_errors_are_not_unavailability(error: Exception) -> None:
    assert not is_database_unavailable(_wrapped(error))


async def test_a_database_starting_up_answers_503_with_retry_after(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings, database=database)

    @app.get("/starting")
    async def starting() -> None:
        raise _wrapped(asyncpg.exceptions.CannotConnectNowError("starting up"))

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/starting")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"]
    assert response.json()["code"] == "database_unavailable"


async def test_a_failed_rollback_does_not_hide_the_original_error(
    settings: Settings, tmp_path: Path
) -> None:
    """When the connection is gone, the rollback after an error fails too: the request still
    answers the original error (503), not a dropped connection."""
    url = f"sqlite+aiosqlite:///{tmp_path}/ntm.db"
    engine = build_engine(settings.model_copy(update={"database_url": url}))
    database = Database(engine)
    outcome: list[str] = []

    async def fail_with_a_broken_rollback() -> None:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))

            async def broken_rollback() -> None:
                outcome.append("rollback attempted")
                raise _wrapped(asyncpg.exceptions.AdminShutdownError("gone"))

            session.rollback = broken_rollback  # type: ignore[method-assign]
            raise _wrapped(asyncpg.exceptions.AdminShutdownError("original"))

    with pytest.raises(DBAPIError, match="original"):
        await fail_with_a_broken_rollback()
    assert outcome == ["rollback attempted"]
    await engine.dispose()


async def test_sqlite_writers_wait_for_the_write_lock_instead_of_failing(
    settings: Settings, tmp_path: Path
) -> None:
    """Two sessions read, then write, interleaved: with deferred transactions the second
    writer's upgrade fails at once (SQLITE_BUSY, whatever the busy timeout); write sessions
    begin immediate, so the second waits for the first and both commit."""
    url = f"sqlite+aiosqlite:///{tmp_path}/ntm.db"
    engine = build_engine(settings.model_copy(update={"database_url": url}))
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counter (n INTEGER)"))
        await connection.execute(text("INSERT INTO counter VALUES (0)"))
    database = Database(engine)
    first_read = asyncio.Event()

    async def writer(wait: bool) -> None:
        async with database.session() as session:
            await session.execute(text("SELECT n FROM counter"))
            first_read.set()
            if wait:
                await asyncio.sleep(0.05)
            await session.execute(text("UPDATE counter SET n = n + 1"))
            await session.commit()

    await asyncio.gather(writer(True), writer(False))
    async with database.session(read_only=True) as session:
        assert (await session.execute(text("SELECT n FROM counter"))).scalar_one() == 2
    await engine.dispose()


async def test_concurrent_api_writes_on_the_embedded_default_never_answer_503(
    settings: Settings, tmp_path: Path, test_password_hash: str
) -> None:
    """Twenty writers at once through the app on a SQLite file (the embedded default, whatever
    database the rest of the suite runs on): every write succeeds."""
    url = f"sqlite+aiosqlite:///{tmp_path}/ntm.db"
    own = settings.model_copy(update={"database_url": url})
    engine = build_engine(own)
    await migrate.upgrade(engine)
    await engine.dispose()
    app: FastAPI = create_app(own)
    admin = uuid.uuid4()
    async with app.state.database.session() as session:
        session.add(
            User(id=admin, username="admin", display_name="admin", password_hash=test_password_hash)
        )
        await session.flush()
        session.add(RoleAssignment(user_id=admin, role=str(Role.SYSTEM_ADMIN), unit_id=None))
        await session.commit()
    token = issue_access_token(own, subject=admin, kind=PrincipalKind.USER).token
    headers = {"Authorization": f"Bearer {token}"}
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:

        async def create(i: int) -> int:
            body = {"type": "tinh", "code": f"{i:02d}", "name": f"Tỉnh {i}"}
            return (await client.post("/api/v1/units", json=body)).status_code

        statuses = await asyncio.gather(*(create(i) for i in range(1, 21)))
    await app.state.database.dispose()
    assert statuses == [201] * 20
