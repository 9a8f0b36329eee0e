"""The same suite runs on SQLite (default) and PostgreSQL (``NTM_TEST_DATABASE_URL``).

Migrations and the bundled reference data are applied once per run; every test then runs inside
one outer transaction that is rolled back, with the app's sessions joined to it by savepoints.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from typing import Protocol

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.config import Settings
from app.core.logging import request_id_var
from app.core.permissions import Role
from app.core.security import PrincipalKind, digest, issue_access_token
from app.db import migrate
from app.db.engine import Database, build_engine
from app.identity.passwords import hash_password
from app.main import create_app
from app.models.identity import Client, RoleAssignment, User
from app.models.system import AuditRecord
from app.seed import run_all
from tests.contract import Contract, ContractHook
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
def write_log(database: Database, connection: AsyncConnection) -> Iterator[WriteLog]:
    log = WriteLog(database)
    event.listen(connection.sync_connection, "before_cursor_execute", log.on_statement)
    yield log
    log.assert_all_audited()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session() as session:
        yield session


@pytest.fixture(scope="session")
def app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    return create_app(settings, database=Database(engine))


WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# Tables whose rows are bookkeeping of the request itself, not records of the platform.
UNAUDITED_TABLES = {"audit_log", "outbox", "idempotency_keys", "login_failures"}
_TEMPORARY = re.compile(r"^\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+\"?(\w+)", re.IGNORECASE)
_MUTATION = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


class WriteLog:
    """Every API request of a test that changed the database must have left an audit record.

    SQL statements are attributed to requests through the request-id context variable that the
    middleware sets, so a write that changed nothing (a replay, an unchanged re-import) is not
    required to be audited, and one that changed anything is. The check runs as each response
    arrives, before the test can roll anything back.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self.mutating: set[str] = set()
        self.unaudited: list[str] = []
        self.temporary: set[str] = set()

    def on_statement(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        temporary = _TEMPORARY.match(statement)
        if temporary:
            self.temporary.add(temporary.group(1).lower())
            return
        match = _MUTATION.match(statement)
        request_id = request_id_var.get()
        if not match or not request_id:
            return
        table = match.group(1).lower()
        if table not in UNAUDITED_TABLES and table not in self.temporary:
            self.mutating.add(request_id)

    async def __call__(self, response: Response) -> None:
        request = response.request
        request_id = response.headers.get("x-request-id")
        if request.method not in WRITE_METHODS or request_id not in self.mutating:
            return
        if not 200 <= response.status_code < 300:
            return  # refused: the request's transaction was rolled back
        if request.url.params.get("dry_run", "").lower() in {"true", "1"}:
            return  # validated in a savepoint that is rolled back
        if response.status_code == 202:
            return  # accepted as a job, which audits its own work later on its own session
        async with self.database.session() as session:
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.request_id == request_id)
            )
        if not audited:
            self.unaudited.append(f"{request.method} {request.url.path} -> {response.status_code}")

    def assert_all_audited(self) -> None:
        assert not self.unaudited, (
            f"writes that changed data without an audit record: {self.unaudited}"
        )


@pytest.fixture(scope="session")
def contract() -> ContractHook:
    """Checks every JSON body the test clients receive against openapi/openapi.json."""
    return ContractHook(Contract.load())


@pytest.fixture
async def client(
    app: FastAPI, database: Database, write_log: WriteLog, contract: ContractHook
) -> AsyncIterator[AsyncClient]:
    app.state.database = database
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(
        transport=transport,
        base_url="http://testserver",
        event_hooks={"response": [write_log, contract]},
    ) as client:
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
    app: FastAPI,
    client: AsyncClient,
    admin: TestPrincipal,
    write_log: WriteLog,
    contract: ContractHook,
) -> AsyncIterator[AsyncClient]:
    """A client acting as a system administrator: use it for every write in feature tests.

    A separate client from ``client``, which stays anonymous.
    """
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers=admin.headers,
        event_hooks={"response": [write_log, contract]},
    ) as admin_client:
        yield admin_client
