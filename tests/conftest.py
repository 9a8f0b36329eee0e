"""The same suite runs on SQLite (default) and PostgreSQL (``NTM_TEST_DATABASE_URL``).

Migrations and the bundled reference data are applied once per run; every test then runs inside
one outer transaction that is rolled back, with the app's sessions joined to it by savepoints.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Protocol

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.config import Settings
from app.core.permissions import Role
from app.core.security import PrincipalKind, digest, issue_access_token
from app.db import migrate
from app.db.engine import Database, build_engine
from app.identity.passwords import hash_password
from app.main import create_app
from app.models.identity import Client, RoleAssignment, User
from app.seed import run_all
from tests.dbutil import database_url_for_tests, recreate_database, tmp_dir

TEST_PASSWORD = "Test-password-1"


@dataclass(frozen=True)
class TestPrincipal:
    __test__ = False  # not a test class

    id: uuid.UUID
    kind: str
    name: str
    headers: dict[str, str]


class PrincipalFactory(Protocol):
    def __call__(
        self,
        *roles: Role | tuple[Role, uuid.UUID | None],
        unit_id: uuid.UUID | None = None,
        kind: str = "user",
        username: str | None = None,
        resources: dict[str, str] | None = None,
    ) -> Awaitable[TestPrincipal]: ...


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


@pytest.fixture(scope="session")
def test_password_hash() -> str:
    """Argon2 is slow on purpose: hash the shared test password once per run."""
    return hash_password(TEST_PASSWORD)


@pytest.fixture
def make_principal(
    database: Database, settings: Settings, test_password_hash: str
) -> PrincipalFactory:
    """Make a user (or, with ``kind="client"``, an integration client) holding the given roles,
    inside the test's transaction, and return its id and ``Authorization`` headers.

    ``await make_principal(Role.COMMUNE_OFFICER, unit_id=commune_id)``;
    ``await make_principal((Role.VIEWER, None), (Role.COMMUNE_OFFICER, commune_id))``;
    ``await make_principal(Role.INTEGRATION_CLIENT, kind="client", resources={"units": "read"})``.
    """

    async def make(
        *roles: Role | tuple[Role, uuid.UUID | None],
        unit_id: uuid.UUID | None = None,
        kind: str = "user",
        username: str | None = None,
        resources: dict[str, str] | None = None,
    ) -> TestPrincipal:
        grants = [(r, unit_id) if isinstance(r, Role) else r for r in roles]
        name = username or f"{kind}-{uuid.uuid4().hex[:12]}"
        async with database.session() as session:
            if kind == "client":
                principal_id = uuid.uuid4()
                session.add(Client(id=principal_id, name=name, secret_hash=digest(name)))
            else:
                principal_id = uuid.uuid4()
                session.add(
                    User(
                        id=principal_id,
                        username=name,
                        display_name=name,
                        password_hash=test_password_hash,
                    )
                )
            await session.flush()
            for role, scope in grants:
                session.add(
                    RoleAssignment(
                        user_id=principal_id if kind != "client" else None,
                        client_id=principal_id if kind == "client" else None,
                        role=str(role),
                        unit_id=scope,
                        resources=resources if role is Role.INTEGRATION_CLIENT else None,
                    )
                )
            await session.commit()
        issued = issue_access_token(
            settings,
            subject=principal_id,
            kind=PrincipalKind.CLIENT if kind == "client" else PrincipalKind.USER,
            client_id=str(principal_id) if kind == "client" else None,
        )
        return TestPrincipal(
            id=principal_id,
            kind=kind,
            name=name,
            headers={"Authorization": f"Bearer {issued.token}"},
        )

    return make


@pytest.fixture
async def admin(make_principal: PrincipalFactory) -> TestPrincipal:
    """A national system administrator (password ``TEST_PASSWORD``)."""
    return await make_principal(Role.SYSTEM_ADMIN, username="test-admin")


@pytest.fixture
async def admin_client(
    app: FastAPI, client: AsyncClient, admin: TestPrincipal
) -> AsyncIterator[AsyncClient]:
    """A client acting as a system administrator: use it for every write in feature tests.

    A separate client from ``client``, which stays anonymous.
    """
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(
        transport=transport, base_url="http://testserver", headers=admin.headers
    ) as admin_client:
        yield admin_client
