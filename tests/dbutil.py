"""Creating and emptying test databases on either backend."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import normalise_database_url

_TMP = Path(tempfile.gettempdir()) / f"ntm-tests-{os.getpid()}"


def database_url_for_tests(suffix: str = "") -> str:
    """``NTM_TEST_DATABASE_URL`` (PostgreSQL in CI), else a throwaway SQLite file."""
    configured = os.environ.get("NTM_TEST_DATABASE_URL")
    if not configured:
        _TMP.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{_TMP}/ntm{suffix}.db"
    url = make_url(normalise_database_url(configured))
    if suffix:
        url = url.set(database=f"{url.database}{suffix}")
    return url.render_as_string(hide_password=False)


def tmp_dir() -> Path:
    _TMP.mkdir(parents=True, exist_ok=True)
    return _TMP


async def recreate_database(url: str) -> None:
    """Start from an empty database: delete the SQLite file, or drop and create on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = Path(parsed.database or "")
        for candidate in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            candidate.unlink(missing_ok=True)
        return
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            name = parsed.database
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
