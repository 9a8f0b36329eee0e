"""assessments

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _value_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("value_number", sa.Double(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("judgement", sa.String(length=16), nullable=True),
        sa.Column("judgement_reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", JSON, nullable=True),
        sa.Column("entered_by", sa.Uuid(), nullable=True),
        sa.Column("entered_by_name", sa.String(length=200), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by_name", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('self_assessment', 'review', 'appraisal', 'annual_review')",
            name=op.f("ck_assessments_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'locked')", name=op.f("ck_assessments_status")
        ),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_sets.id"],
            name=op.f("fk_assessments_criteria_set_id_criteria_sets"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_assessments_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessments_criteria_set_id_year_kind_unit_id"),
            ["criteria_set_id", "year", "kind", "unit_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_assessments_unit_id_year"), ["unit_id", "year"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assessments_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assessments_updated_at_id"), ["updated_at", "id"], unique=False
        )

    op.create_table(
        "import_jobs",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("rows_estimated", sa.Integer(), nullable=True),
        sa.Column("rows_processed", sa.Integer(), nullable=False),
        sa.Column("summary", JSON, nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_import_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_sets.id"],
            name=op.f("fk_import_jobs_criteria_set_id_criteria_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_jobs_status_created_at"), ["status", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_import_jobs_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "assessment_conditions",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("value_number", sa.Double(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", JSON, nullable=True),
        sa.Column("entered_by", sa.Uuid(), nullable=True),
        sa.Column("entered_by_name", sa.String(length=200), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_conditions_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", "code", name=op.f("pk_assessment_conditions")),
    )

    op.create_table(
        "criterion_judgements",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("judged_by", sa.Uuid(), nullable=True),
        sa.Column("judged_by_name", sa.String(length=200), nullable=True),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('met', 'basically_met', 'not_met')",
            name=op.f("ck_criterion_judgements_status"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_criterion_judgements_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["criteria.id"],
            name=op.f("fk_criterion_judgements_criterion_id_criteria"),
        ),
        sa.PrimaryKeyConstraint(
            "assessment_id", "criterion_id", name=op.f("pk_criterion_judgements")
        ),
    )
    with op.batch_alter_table("criterion_judgements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_criterion_judgements_criterion_id"), ["criterion_id"], unique=False
        )

    op.create_table(
        "indicator_value_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("superseded_by_name", sa.String(length=200), nullable=True),
        sa.Column("superseded_source", sa.String(length=64), nullable=True),
        *_value_columns(),
        sa.CheckConstraint(
            "change IN ('update', 'delete')", name=op.f("ck_indicator_value_history_change")
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_indicator_value_history_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_value_history_indicator_id_indicators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_value_history")),
    )
    with op.batch_alter_table("indicator_value_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_indicator_value_history_lookup",
            ["assessment_id", "indicator_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_indicator_value_history_indicator_id"), ["indicator_id"], unique=False
        )

    op.create_table(
        "indicator_values",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        *_value_columns(),
        sa.CheckConstraint(
            "judgement IN ('met', 'basically_met', 'not_met')",
            name=op.f("ck_indicator_values_judgement"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_indicator_values_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_values_indicator_id_indicators"),
        ),
        sa.PrimaryKeyConstraint("assessment_id", "indicator_id", name=op.f("pk_indicator_values")),
    )
    with op.batch_alter_table("indicator_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_values_indicator_id"), ["indicator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("indicator_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_values_indicator_id"))
    op.drop_table("indicator_values")

    with op.batch_alter_table("indicator_value_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_value_history_indicator_id"))
        batch_op.drop_index("ix_indicator_value_history_lookup")
    op.drop_table("indicator_value_history")

    with op.batch_alter_table("criterion_judgements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criterion_judgements_criterion_id"))
    op.drop_table("criterion_judgements")

    op.drop_table("assessment_conditions")

    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_jobs_updated_at"))
        batch_op.drop_index(batch_op.f("ix_import_jobs_status_created_at"))
    op.drop_table("import_jobs")

    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_assessments_updated_at"))
        batch_op.drop_index(batch_op.f("ix_assessments_unit_id_year"))
        batch_op.drop_index(batch_op.f("ix_assessments_criteria_set_id_year_kind_unit_id"))
    op.drop_table("assessments")
