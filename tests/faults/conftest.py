"""Fault tests: each module starts its own PostgreSQL (``tests/faults/pgcluster.py``) on a
loopback port, because they stop, crash and replicate it. PostgreSQL only, a few seconds each:
excluded from ``make test`` (marker ``faults``) and run by ``make faults`` (and ``.ci/run``).

Without the PostgreSQL server programs they fail, never skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.core.permissions import Role
from app.core.security import PrincipalKind, issue_access_token
from app.db import migrate
from app.db.engine import Database, build_engine
from app.identity.passwords import hash_password
from app.models.identity import RoleAssignment, User
from tests.dbutil import recreate_database
from tests.faults.pgcluster import PgCluster, PostgresMissing, find_bin

SECRET = "fault-tests-secret-key-long-enough-for-hs256"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def pg_bin() -> Path:
    try:
        return find_bin()
    except PostgresMissing as missing:
        ci = " (CI=true)" if os.environ.get("CI") == "true" else ""
        pytest.fail(f"the fault tests need PostgreSQL{ci}: {missing}", pytrace=False)


@pytest.fixture(scope="module")
def primary(pg_bin: Path) -> Iterator[PgCluster]:
    """A primary that can feed a streaming replica, for one test module."""
    cluster = PgCluster.create(replication=True, lifetime=900)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def fault_settings(url: str, tmp: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "secret_key": SECRET,
        "var_dir": tmp,
        "data_dir": tmp / "files",
        "log_level": "WARNING",
        "worker_in_process": False,
        "bootstrap_admin": False,
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


async def prepare(settings: Settings) -> tuple[AsyncEngine, uuid.UUID]:
    """An empty database at the latest migration, with one system administrator."""
    await recreate_database(settings.database_url)
    engine = build_engine(settings)
    await migrate.upgrade(engine)
    admin = uuid.uuid4()
    async with Database(engine).session() as session:
        session.add(
            User(
                id=admin,
                username=f"admin-{admin.hex[:6]}",
                display_name="admin",
                password_hash=hash_password("Fault-tests-1"),
            )
        )
        await session.flush()
        session.add(RoleAssignment(user_id=admin, role=str(Role.SYSTEM_ADMIN), unit_id=None))
        await session.commit()
    return engine, admin


def bearer(settings: Settings, user_id: uuid.UUID) -> dict[str, str]:
    token = issue_access_token(settings, subject=user_id, kind=PrincipalKind.USER).token
    return {"Authorization": f"Bearer {token}"}
