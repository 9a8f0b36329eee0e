"""lineage confidence: each link says whether a source states it or a rule inferred it

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing links (the 2025 conversion table, links recorded through the API) are stated.
    with op.batch_alter_table("unit_links") as batch_op:
        batch_op.add_column(
            sa.Column("confidence", sa.String(length=16), nullable=False, server_default="stated")
        )
        batch_op.add_column(sa.Column("rule", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unit_links") as batch_op:
        batch_op.drop_column("rule")
        batch_op.drop_column("confidence")
