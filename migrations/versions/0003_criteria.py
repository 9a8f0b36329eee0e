"""criteria: sets, groups, criteria, indicators and dimensioned thresholds

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "criteria_sets",
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("period_start_year", sa.Integer(), nullable=False),
        sa.Column("period_end_year", sa.Integer(), nullable=False),
        sa.Column("legal_basis_number", sa.String(length=100), nullable=False),
        sa.Column("legal_basis_date", sa.Date(), nullable=True),
        sa.Column("legal_basis_issuer", sa.String(length=300), nullable=True),
        sa.Column("legal_basis_signer", sa.String(length=300), nullable=True),
        sa.Column("legal_basis_title", sa.Text(), nullable=True),
        sa.Column("legal_basis_url", sa.String(length=2000), nullable=True),
        sa.Column("scope_unit_id", sa.Uuid(), nullable=True),
        sa.Column("scope_unit_code", sa.String(length=20), nullable=True),
        sa.Column("scope_as_of", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("derived_from_id", sa.Uuid(), nullable=True),
        sa.Column("derived_from_version", sa.Integer(), nullable=True),
        sa.Column("amends_id", sa.Uuid(), nullable=True),
        sa.Column("declared_complete", sa.Boolean(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column(
            "missing", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "applicability_rules",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "conditions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "prerequisites",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "revocation", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column(
            "sources", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bundled_checksum", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'retired')", name=op.f("ck_criteria_sets_status")
        ),
        sa.CheckConstraint(
            "period_start_year <= period_end_year", name=op.f("ck_criteria_sets_period")
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["criteria_sets.id"],
            name=op.f("fk_criteria_sets_amends_id_criteria_sets"),
        ),
        sa.ForeignKeyConstraint(
            ["derived_from_id"],
            ["criteria_sets.id"],
            name=op.f("fk_criteria_sets_derived_from_id_criteria_sets"),
        ),
        sa.ForeignKeyConstraint(
            ["scope_unit_id"], ["units.id"], name=op.f("fk_criteria_sets_scope_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria_sets")),
        sa.UniqueConstraint("code", name=op.f("uq_criteria_sets_code")),
    )
    with op.batch_alter_table("criteria_sets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_criteria_sets_derived_from_id"), ["derived_from_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_criteria_sets_level_title_period_start_year_period_end_year"),
            ["level", "title", "period_start_year", "period_end_year"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_criteria_sets_scope_unit_id"), ["scope_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_criteria_sets_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_criteria_sets_updated_at_id"), ["updated_at", "id"], unique=False
        )

    op.create_table(
        "criteria_groups",
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_sets.id"],
            name=op.f("fk_criteria_groups_criteria_set_id_criteria_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria_groups")),
        sa.UniqueConstraint(
            "criteria_set_id", "code", name=op.f("uq_criteria_groups_criteria_set_id_code")
        ),
    )
    op.create_table(
        "criteria",
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("rule_kind", sa.String(length=16), nullable=False),
        sa.Column("rule_k", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_sets.id"],
            name=op.f("fk_criteria_criteria_set_id_criteria_sets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["criteria_groups.id"],
            name=op.f("fk_criteria_group_id_criteria_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria")),
        sa.UniqueConstraint(
            "criteria_set_id", "number", name=op.f("uq_criteria_criteria_set_id_number")
        ),
    )
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_criteria_group_id"), ["group_id"], unique=False)

    op.create_table(
        "indicators",
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=True),
        sa.Column("comparator", sa.String(length=4), nullable=True),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.Column("left_to_province", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("inherited", sa.Boolean(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_sets.id"],
            name=op.f("fk_indicators_criteria_set_id_criteria_sets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["criteria.id"],
            name=op.f("fk_indicators_criterion_id_criteria"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint(
            "criteria_set_id", "code", name=op.f("uq_indicators_criteria_set_id_code")
        ),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicators_criterion_id"), ["criterion_id"], unique=False
        )

    op.create_table(
        "indicator_thresholds",
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("value_number", sa.Float(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("commune_group", sa.Integer(), nullable=True),
        sa.Column("classification", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("inherited", sa.Boolean(), nullable=False),
        sa.Column("legal_basis_number", sa.String(length=100), nullable=True),
        sa.Column("legal_basis_date", sa.Date(), nullable=True),
        sa.Column("legal_basis_issuer", sa.String(length=300), nullable=True),
        sa.Column("legal_basis_signer", sa.String(length=300), nullable=True),
        sa.Column("legal_basis_title", sa.Text(), nullable=True),
        sa.Column("legal_basis_url", sa.String(length=2000), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(value_number IS NULL) <> (value_bool IS NULL)",
            name=op.f("ck_indicator_thresholds_one_value"),
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_thresholds_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_thresholds")),
    )
    with op.batch_alter_table("indicator_thresholds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_thresholds_indicator_id"), ["indicator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("indicator_thresholds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_thresholds_indicator_id"))

    op.drop_table("indicator_thresholds")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_criterion_id"))

    op.drop_table("indicators")
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criteria_group_id"))

    op.drop_table("criteria")
    op.drop_table("criteria_groups")
    with op.batch_alter_table("criteria_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criteria_sets_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_criteria_sets_updated_at"))
        batch_op.drop_index(batch_op.f("ix_criteria_sets_scope_unit_id"))
        batch_op.drop_index(
            batch_op.f("ix_criteria_sets_level_title_period_start_year_period_end_year")
        )
        batch_op.drop_index(batch_op.f("ix_criteria_sets_derived_from_id"))

    op.drop_table("criteria_sets")
