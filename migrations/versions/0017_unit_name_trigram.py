"""unit name search: a trigram index on the folded name (PostgreSQL)

Revision ID: 0017
Revises: 0015

``GET /units?q=`` matches ``name_folded LIKE '%…%'``, which no B-tree can serve: every version
row was read (issue 16). On PostgreSQL a GIN index with ``pg_trgm``'s ``gin_trgm_ops`` serves
substring patterns of three characters or more; shorter ones still read the table, as before.
SQLite has no trigram index: it gets a plain index on the column (so that both schemas declare
the same index, the model's) and keeps scanning for substrings, which is correct there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_unit_versions_name_folded"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX {INDEX} ON unit_versions USING gin (name_folded gin_trgm_ops)")
        return
    op.create_index(INDEX, "unit_versions", ["name_folded"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="unit_versions")
    # The extension stays: other objects may have come to use it.
