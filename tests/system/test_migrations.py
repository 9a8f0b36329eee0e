"""Migrations on the same backend as the suite: one head, up from empty, down to base, up again."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from app.db import migrate
from app.db.engine import build_engine
from app.models import Base
from tests.dbutil import recreate_database


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def test_single_head() -> None:
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1


async def test_upgrade_downgrade_upgrade_and_models_in_sync(settings: Any) -> None:
    url = settings.database_url.replace("ntm.db", "ntm-migrations.db")
    if not settings.is_sqlite:
        url = settings.database_url + "_migrations"
    await recreate_database(url)
    engine = build_engine(settings.model_copy(update={"database_url": url}))
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            assert await migrate.current_revision(connection) == migrate.head_revision()
            assert await connection.run_sync(_diff) == []
            assert await connection.run_sync(_tables) == set(Base.metadata.tables)

        await migrate.downgrade(engine, "base")
        async with engine.connect() as connection:
            assert await migrate.current_revision(connection) is None
            assert await connection.run_sync(_tables) == set()

        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
