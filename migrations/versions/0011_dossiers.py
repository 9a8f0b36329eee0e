"""recognition dossiers: dossiers, the assessments they rest on, documents, transition history

Revision ID: 0011
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "snapshot", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column(
            "override", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("decision_number", sa.String(length=64), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("decision_signer", sa.String(length=200), nullable=True),
        sa.Column("recognition_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=True),
        sa.Column("updated_by_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'district_review', 'provincial_review', 'provincial_appraisal', 'provincial_decision', 'central_appraisal', 'prime_minister_decision', 'recognised', 'rejected', 'withdrawn')",
            name=op.f("ck_dossiers_status"),
        ),
        sa.CheckConstraint(
            "title IN ('ntm_commune', 'advanced_ntm_commune', 'model_ntm_commune', 'modern_ntm_commune', 'ntm_district', 'advanced_ntm_district', 'completed_ntm_town', 'completed_ntm_province', 'ntm_village', 'model_village', 'smart_village')",
            name=op.f("ck_dossiers_title"),
        ),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_sets.id"],
            name=op.f("fk_dossiers_criteria_set_id_criteria_sets"),
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_dossiers_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
    )
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossiers_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dossiers_unit_id_year"), ["unit_id", "year"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dossiers_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dossiers_updated_at_id"), ["updated_at", "id"], unique=False
        )

    op.create_table(
        "dossier_assessments",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_dossier_assessments_assessment_id_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_assessments_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dossier_id", "assessment_id", name=op.f("pk_dossier_assessments")),
    )
    with op.batch_alter_table("dossier_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_assessments_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "dossier_documents",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("document_type", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("uploaded_by_name", sa.String(length=200), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "document_type IN ('submission', 'results_report', 'opinions_report', 'satisfaction_survey', 'meeting_minutes', 'evidence', 'decision')",
            name=op.f("ck_dossier_documents_document_type"),
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_documents_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_documents")),
    )
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_documents_dossier_id_uploaded_at"),
            ["dossier_id", "uploaded_at"],
            unique=False,
        )

    op.create_table(
        "dossier_transitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("votes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.CheckConstraint(
            "action IN ('submit', 'forward', 'appraise', 'recognise', 'return', 'reject', 'withdraw')",
            name=op.f("ck_dossier_transitions_action"),
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_transitions_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_transitions")),
        sa.UniqueConstraint(
            "dossier_id", "seq", name=op.f("uq_dossier_transitions_dossier_id_seq")
        ),
    )


def downgrade() -> None:
    op.drop_table("dossier_transitions")
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_documents_dossier_id_uploaded_at"))

    op.drop_table("dossier_documents")
    with op.batch_alter_table("dossier_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_assessments_assessment_id"))

    op.drop_table("dossier_assessments")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossiers_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_dossiers_updated_at"))
        batch_op.drop_index(batch_op.f("ix_dossiers_unit_id_year"))
        batch_op.drop_index(batch_op.f("ix_dossiers_status"))

    op.drop_table("dossiers")
