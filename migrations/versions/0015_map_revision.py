"""map revision: one row the database changes on every write of the map

Revision ID: 0015
Revises: 0014

Triggers on ``units``, ``unit_versions``, ``unit_classifications`` and ``unit_links`` bump
``map_revision.revision`` and draw a new random ``token`` in the transaction of the change,
whoever makes it (the service, a seed, an import, a hand-written statement). What is computed
from the map (threshold resolution) is kept per process under the token it was read with, and
is used again only while the database still shows that token (``app.units.query``).
PostgreSQL: one statement-level trigger per table and event; SQLite: row-level triggers (it has
no statement-level ones).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("units", "unit_versions", "unit_classifications", "unit_links")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "map_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_map_revision_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_map_revision")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO map_revision (id, revision, token) VALUES (1, 0, gen_random_uuid())"
        )
        op.execute(
            """
            CREATE FUNCTION bump_map_revision() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE map_revision SET revision = revision + 1, token = gen_random_uuid()
                WHERE id = 1;
                RETURN NULL;
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_map_revision "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_map_revision()"
            )
        return
    op.execute(
        "INSERT INTO map_revision (id, revision, token) VALUES (1, 0, lower(hex(randomblob(16))))"
    )
    for table in TABLES:  # constant names, no input
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER {table}_map_revision_{event.lower()} AFTER {event} ON {table} "  # noqa: S608
                "BEGIN UPDATE map_revision SET revision = revision + 1, "
                "token = lower(hex(randomblob(16))) WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_map_revision ON {table}")
        op.execute("DROP FUNCTION bump_map_revision()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_map_revision_{event.lower()}")
    op.drop_table("map_revision")
