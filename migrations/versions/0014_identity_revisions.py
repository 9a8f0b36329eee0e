"""identity revisions: users.revision and clients.revision, the counters their ETags are made of

Revision ID: 0014
Revises: 0013

Every write of a person or an integration client (its fields, its password or secret, its role
assignments) raises the counter, as units and assessments do with theirs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("users", "clients"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
            )


def downgrade() -> None:
    for table in ("clients", "users"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("revision")
