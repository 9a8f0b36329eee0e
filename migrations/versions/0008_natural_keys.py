"""natural keys: one assessment per unit, criteria set, year and kind

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The unique constraint's index covers the same columns in the same order, so the old
    # non-unique index goes.
    with op.batch_alter_table("assessments") as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_criteria_set_id_year_kind_unit_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_assessments_criteria_set_id_year_kind_unit_id"),
            ["criteria_set_id", "year", "kind", "unit_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_assessments_criteria_set_id_year_kind_unit_id"), type_="unique"
        )
        batch_op.create_index(
            batch_op.f("ix_assessments_criteria_set_id_year_kind_unit_id"),
            ["criteria_set_id", "year", "kind", "unit_id"],
            unique=False,
        )
