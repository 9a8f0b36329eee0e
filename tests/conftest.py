"""The same suite runs on SQLite (default) and PostgreSQL (``NTM_TEST_DATABASE_URL``).

Migrations and the bundled reference data are applied once per run; every test then runs inside
one outer transaction that is rolled back, with the app's sessions joined to it by savepoints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.config import Settings
from app.db import migrate
from app.db.engine import Database, build_engine
from app.main import create_app
from app.seed import run_all
from tests.dbutil import database_url_for_tests, recreate_database, tmp_dir


@pytest.fixture(scope="session")
def settings() -> Settings:
    tmp = tmp_dir()
    return Settings(
        database_url=database_url_for_tests(),
        secret_key="test-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        var_dir=tmp,
        data_dir=tmp / "files",
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    await recreate_database(settings.database_url)
    engine = build_engine(settings)
    await migrate.upgrade(engine)
    database = Database(engine)
    async with database.session() as session:
        await run_all(session, lambda _message: None)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def database(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    return Database(engine, bind=connection)


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session() as session:
        yield session


@pytest.fixture(scope="session")
def app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    return create_app(settings, database=Database(engine))


@pytest.fixture
async def client(app: FastAPI, database: Database) -> AsyncIterator[AsyncClient]:
    app.state.database = database
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def admin_client(client: AsyncClient) -> AsyncClient:
    """A client acting as a system administrator: use it for every write in feature tests.

    Until the identity feature lands this is the anonymous client; identity makes it carry an
    administrator's bearer token, so tests written against it keep working.
    """
    return client
