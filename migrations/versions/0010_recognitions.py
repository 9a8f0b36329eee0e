"""the register of titles: recognitions by decision, and their revocations

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recognitions",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("year_for", sa.Integer(), nullable=False),
        sa.Column("decision_number", sa.String(length=100), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("signer", sa.String(length=200), nullable=False),
        sa.Column("issuing_unit_id", sa.Uuid(), nullable=True),
        sa.Column("issuing_body", sa.String(length=300), nullable=True),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("dossier_id", sa.Uuid(), nullable=True),
        sa.Column("unit_event_id", sa.Uuid(), nullable=True),
        sa.Column(
            "carried_from", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("import_ref", sa.String(length=64), nullable=True),
        sa.Column("held_until", sa.Date(), nullable=False),
        sa.Column("revocation_decision_number", sa.String(length=100), nullable=True),
        sa.Column("revocation_decision_date", sa.Date(), nullable=True),
        sa.Column("revocation_signer", sa.String(length=200), nullable=True),
        sa.Column("revocation_issuing_body", sa.String(length=300), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column(
            "revocation_basis",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('dossier', 'historical', 'import', 'carry_over')",
            name=op.f("ck_recognitions_source"),
        ),
        sa.CheckConstraint(
            "title IN ('ntm_commune', 'advanced_ntm_commune', 'model_ntm_commune', 'modern_ntm_commune', 'ntm_district', 'advanced_ntm_district', 'completed_ntm_town', 'completed_ntm_province', 'ntm_village', 'model_village', 'smart_village')",
            name=op.f("ck_recognitions_title"),
        ),
        sa.CheckConstraint(
            "decision_date < held_until", name=op.f("ck_recognitions_held_interval")
        ),
        sa.ForeignKeyConstraint(
            ["issuing_unit_id"], ["units.id"], name=op.f("fk_recognitions_issuing_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["unit_event_id"],
            ["unit_events.id"],
            name=op.f("fk_recognitions_unit_event_id_unit_events"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_recognitions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognitions")),
    )
    with op.batch_alter_table("recognitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recognitions_title_year_for"), ["title", "year_for"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recognitions_unit_id_decision_date_held_until"),
            ["unit_id", "decision_date", "held_until"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_recognitions_unit_id_title_year_for"),
            ["unit_id", "title", "year_for"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_recognitions_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recognitions_updated_at_id"), ["updated_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("recognitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recognitions_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_recognitions_updated_at"))
        batch_op.drop_index(batch_op.f("ix_recognitions_unit_id_title_year_for"))
        batch_op.drop_index(batch_op.f("ix_recognitions_unit_id_decision_date_held_until"))
        batch_op.drop_index(batch_op.f("ix_recognitions_title_year_for"))

    op.drop_table("recognitions")
