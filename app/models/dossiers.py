"""Recognition dossiers (hồ sơ đề nghị xét, công nhận): a unit's application for a title, the
documents it carries and the immutable history of its transitions.

A dossier follows one procedure version (``procedure``, a code of ``app/dossiers/data``) whose
steps are its states. ``snapshot`` keeps the assessment's values as they were on submission;
``dossier_transitions`` is append-only (never updated, never deleted).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import JSONType, utcnow
from app.models.enums import DossierAction, DossierDocumentType, DossierStatus, Title
from app.models.system import BigIntId


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class Dossier(IdMixin, TimestampMixin, Base):
    __tablename__ = "dossiers"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(32))
    # The year the title is "for" (a decision may come the next year: DOMAIN.md §3).
    year: Mapped[int] = mapped_column(Integer)
    criteria_set_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("criteria_sets.id"))
    procedure: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default=DossierStatus.DRAFT.value)
    note: Mapped[str | None] = mapped_column(Text)
    # Bumped by every change of the dossier, its documents included: the ETag.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None]
    # {"taken_at", "assessments": {id: {"revision", "values": {code: value},
    #  "conditions": {code: value}, "criteria": {number: status}}}}
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # An appraiser's recorded override of "the assessment meets the set": {by, by_name, at,
    # reasons, step}.
    override: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    decision_number: Mapped[str | None] = mapped_column(String(64))
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_signer: Mapped[str | None] = mapped_column(String(200))
    # The register entry the decision created (app.recognitions).
    recognition_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str | None] = mapped_column(String(200))
    updated_by_name: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(_in("status", DossierStatus), name="status"),
        CheckConstraint(_in("title", Title), name="title"),
        Index(None, "unit_id", "year"),
        Index(None, "status"),
        Index(None, "updated_at", "id"),
    )


class DossierAssessment(Base):
    """The assessments a dossier rests on."""

    __tablename__ = "dossier_assessments"

    dossier_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True
    )
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"), primary_key=True)

    __table_args__ = (Index(None, "assessment_id"),)


class DossierDocument(IdMixin, Base):
    __tablename__ = "dossier_documents"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    document_type: Mapped[str] = mapped_column(String(32))
    # The dossier's status when the document was added: a step's required documents are the
    # ones added at that step.
    step: Mapped[str] = mapped_column(String(32))
    storage_key: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(255))
    # The type found in the content (magic bytes), not the one the client declared.
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[uuid.UUID | None]
    uploaded_by_name: Mapped[str | None] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(_in("document_type", DossierDocumentType), name="document_type"),
        Index(None, "dossier_id", "uploaded_at"),
    )


class DossierTransition(Base):
    """One transition of a dossier; append-only."""

    __tablename__ = "dossier_transitions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    # 1, 2, … per dossier: the order of its history.
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reasons: Mapped[str | None] = mapped_column(Text)
    # An appraisal council's vote: {"for": n, "against": n, "abstain": n}.
    votes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The decision (number, date, signer), an override's reasons, …
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        CheckConstraint(_in("action", DossierAction), name="action"),
        UniqueConstraint("dossier_id", "seq"),
    )
