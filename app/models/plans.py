"""Plans of the programme: a province's period and yearly plans, their targets, roadmap and tasks.

A plan is never overwritten once in force: an adjustment is a new row (``version`` + 1,
``supersedes_id``) that holds from ``effective_from``; the old one becomes ``superseded`` with
``effective_to`` and stays readable with its own targets, roadmap and tasks (DOMAIN.md §6).
Every target keeps the document that set it (``source_document``): sources disagree on targets.
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
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import JSONType, utcnow
from app.models.enums import (
    PlanDocumentKind,
    PlanKind,
    PlanStatus,
    TargetMetric,
    TaskStatus,
    Title,
)


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class _Actor:
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[uuid.UUID | None]
    updated_by_name: Mapped[str | None] = mapped_column(String(200))
    # Bumped on every write: the strong ETag is (id, revision).
    revision: Mapped[int] = mapped_column(Integer, default=1)


class Plan(IdMixin, TimestampMixin, _Actor, Base):
    __tablename__ = "plans"

    number: Mapped[str] = mapped_column(String(100))  # e.g. 2831/KH-UBND
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    issuing_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    issue_date: Mapped[date] = mapped_column(Date)
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.DRAFT.value)
    legal_reference: Mapped[str | None] = mapped_column(Text)
    # The day the plan's scope (the issuing unit's subtree) is read: a 2021-2025 plan of a
    # province that merged in 2025 keeps answering for the map it was written for.
    scope_as_of: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"))
    superseded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    # "At risk" thresholds of this plan (configuration, not law): more than this many criteria
    # unmet with fewer than this many months left. Null: the settings' value, if any.
    at_risk_criteria_unmet: Mapped[int | None] = mapped_column(Integer)
    at_risk_months_left: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("status", PlanStatus), name="status"),
        CheckConstraint(_in("kind", PlanKind), name="kind"),
        CheckConstraint("start_year <= end_year", name="period"),
        Index(None, "issuing_unit_id"),
        Index(None, "parent_id"),
        Index(None, "updated_at", "id"),
    )


class PlanTarget(IdMixin, TimestampMixin, _Actor, Base):
    __tablename__ = "plan_targets"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(32))
    scope_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    scope_as_of: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    planned_value: Mapped[float] = mapped_column(Double)
    # communes_below_criteria: "fewer than N criteria met".
    criteria_threshold: Mapped[int | None] = mapped_column(Integer)
    # The document that set the target (a plan number, a resolution, an adjustment).
    source_document: Mapped[str] = mapped_column(Text)
    # Budget figures as reported: [{"on": date, "value": VND, "document": …}].
    reported: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("metric", TargetMetric), name="metric"),
        CheckConstraint(f"title IS NULL OR {_in('title', Title)}", name="title"),
        Index(None, "plan_id"),
    )


class PlanRoadmapItem(IdMixin, TimestampMixin, _Actor, Base):
    """Lộ trình: which unit aims for which title by which year, and who answers for it."""

    __tablename__ = "plan_roadmap_items"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(32))
    target_year: Mapped[int] = mapped_column(Integer)
    # Model communes: the field of excellence the title names (education, tourism, …).
    field: Mapped[str | None] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("title", Title), name="title"),
        Index(None, "plan_id"),
        Index(None, "unit_id"),
    )


class PlanTask(IdMixin, TimestampMixin, _Actor, Base):
    __tablename__ = "plan_tasks"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(300))
    deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.NOT_STARTED.value)
    # Progress notes, oldest first: [{"on": date, "text": …, "by": name, "at": instant}].
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    __table_args__ = (
        CheckConstraint(_in("status", TaskStatus), name="status"),
        Index(None, "plan_id"),
    )


class PlanDocument(IdMixin, Base):
    """The plan's own file (the signed KH) and its adjustments, kept in the file storage."""

    __tablename__ = "plan_documents"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str | None] = mapped_column(String(300))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[uuid.UUID | None]
    uploaded_by_name: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(_in("kind", PlanDocumentKind), name="kind"),
        Index(None, "plan_id"),
    )
