"""assessment results: each assessment's evaluation as reports need it, under an exact key

Revision ID: 0016
Revises: 0015

One row per assessment: criteria met and each criterion's status, kept under the assessment's
revision, the criteria set's version and ``updated_at`` and the map token (0015). Reports read
the rows whose key is the current one and evaluate the others with the engine; the worker fills
what is missing or stale (``app.assessments.service.results``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_results",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("set_version", sa.Integer(), nullable=False),
        sa.Column("set_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("map_token", sa.String(length=36), nullable=False),
        sa.Column("evaluable", sa.Boolean(), nullable=False),
        sa.Column("criteria_total", sa.Integer(), nullable=False),
        sa.Column("criteria_met", sa.Integer(), nullable=False),
        sa.Column("statuses", sa.String(length=200), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_results_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessment_results")),
    )


def downgrade() -> None:
    op.drop_table("assessment_results")
