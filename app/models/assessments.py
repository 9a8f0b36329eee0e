"""Assessments of a unit against a criteria set for a year, their values, history and imports.

An assessment is one party's view (the commune's self-assessment, the district's review, the
provincial council's appraisal, an annual review): several may exist for one unit and year.
``indicator_values`` holds the current value of each indicator; every value it replaces or
deletes is appended to ``indicator_value_history`` (never updated), so the whole timeline of a
value is the history rows plus the current row. Evaluation is computed from these rows on read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
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
from app.models.enums import (
    AssessmentKind,
    AssessmentStatus,
    ConditionStatus,
    CriterionStatus,
    ImportJobStatus,
    IndicatorStatus,
    Judgement,
    PrerequisiteStatus,
    ValueChange,
)
from app.models.system import BigIntId

# The vocabularies live in app.models.enums; importing them from here keeps working.
__all__ = [
    "AssessmentKind",
    "AssessmentStatus",
    "ConditionStatus",
    "CriterionStatus",
    "ImportJobStatus",
    "IndicatorStatus",
    "Judgement",
    "PrerequisiteStatus",
    "ValueChange",
]


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class ActorMixin:
    """Who made or last changed a row, as the audit context names them."""

    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[uuid.UUID | None]
    updated_by_name: Mapped[str | None] = mapped_column(String(200))


class Assessment(IdMixin, TimestampMixin, ActorMixin, Base):
    __tablename__ = "assessments"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    criteria_set_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("criteria_sets.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=AssessmentStatus.DRAFT.value)
    note: Mapped[str | None] = mapped_column(Text)
    # Bumped on every change of the assessment or of anything it holds (values, judgements,
    # conditions): the ETag and any cached evaluation are keyed by it.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("kind", AssessmentKind), name="kind"),
        CheckConstraint(_in("status", AssessmentStatus), name="status"),
        Index(None, "unit_id", "year"),
        # The natural key (API.md): one assessment per unit, set, year and kind. A second one
        # made imports for the unit ambiguous and the template blank; its index also serves the
        # lookups by set and year that the old non-unique index served.
        UniqueConstraint("criteria_set_id", "year", "kind", "unit_id"),
        Index(None, "updated_at", "id"),
    )


class ValueColumns:
    value_number: Mapped[float | None] = mapped_column(Double)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    judgement: Mapped[str | None] = mapped_column(String(16))
    judgement_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Document references: [{"title": …, "url": …, "document_id": …}].
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    entered_by: Mapped[uuid.UUID | None]
    entered_by_name: Mapped[str | None] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "api", or "import:<import id>" for values written by a bulk import.
    source: Mapped[str | None] = mapped_column(String(64))


class IndicatorValue(ValueColumns, Base):
    __tablename__ = "indicator_values"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    indicator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("indicators.id"), primary_key=True)

    __table_args__ = (
        CheckConstraint(_in("judgement", Judgement), name="judgement"),
        Index(None, "indicator_id"),
    )


class IndicatorValueHistory(ValueColumns, Base):
    """A version of a value that is no longer current: replaced (update) or removed (delete)."""

    __tablename__ = "indicator_value_history"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE")
    )
    indicator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("indicators.id"))
    change: Mapped[str] = mapped_column(String(8))
    superseded_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_by: Mapped[uuid.UUID | None]
    superseded_by_name: Mapped[str | None] = mapped_column(String(200))
    superseded_source: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(_in("change", ValueChange), name="change"),
        Index("ix_indicator_value_history_lookup", "assessment_id", "indicator_id", "id"),
        Index(None, "indicator_id"),
    )


class CriterionJudgement(Base):
    """A reviewer's recorded judgement of a whole criterion, with reasons (cơ bản đạt, …)."""

    __tablename__ = "criterion_judgements"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("criteria.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    judged_by: Mapped[uuid.UUID | None]
    judged_by_name: Mapped[str | None] = mapped_column(String(200))
    judged_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(_in("status", Judgement), name="status"),
        Index(None, "criterion_id"),
    )


class ConditionValue(Base):
    """The value of a recognition condition of the set (18/2022/QĐ-TTg art. 4), by its code."""

    __tablename__ = "assessment_conditions"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_number: Mapped[float | None] = mapped_column(Double)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    entered_by: Mapped[uuid.UUID | None]
    entered_by_name: Mapped[str | None] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssessmentResult(Base):
    """An assessment's evaluation as reports need it, kept under what makes it exact: the
    assessment's ``revision`` (bumped by every write of it or of what it holds), the criteria
    set's ``version`` and ``updated_at`` (a published set's content never changes under them)
    and the map's token (``map_revision``, drawn anew by every committed change of the map, which
    thresholds depend on). A row whose key differs from the current one is stale and never read
    as a result. ``statuses`` holds one letter per criterion in the set's order
    (``app.assessments.service.results``); ``evaluable`` false: the assessment could not be
    evaluated under that key (its unit is not on the map of its year)."""

    __tablename__ = "assessment_results"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    set_version: Mapped[int] = mapped_column(Integer)
    set_updated_at: Mapped[datetime]
    map_token: Mapped[str] = mapped_column(String(36))
    evaluable: Mapped[bool] = mapped_column(Boolean)
    criteria_total: Mapped[int] = mapped_column(Integer)
    criteria_met: Mapped[int] = mapped_column(Integer)
    statuses: Mapped[str] = mapped_column(String(200))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportJob(IdMixin, TimestampMixin, Base):
    """A bulk import run in the background: its parameters, progress and final summary."""

    __tablename__ = "import_jobs"

    status: Mapped[str] = mapped_column(String(16), default=ImportJobStatus.QUEUED.value)
    criteria_set_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("criteria_sets.id"))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    filename: Mapped[str | None] = mapped_column(String(300))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    rows_estimated: Mapped[int | None] = mapped_column(Integer)
    rows_processed: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str | None] = mapped_column(String(200))
    # What a worker needs to run the job after a restart: the upload's key in the file storage,
    # who asked (their grants are loaded again when the job runs) and the audit context.
    upload_key: Mapped[str | None] = mapped_column(String(300))
    requested_by: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The worker running it and its last sign of life; a stale heartbeat means the worker died.
    worker_id: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        CheckConstraint(_in("status", ImportJobStatus), name="status"),
        Index(None, "status", "created_at"),
    )
