"""Criteria sets as versioned data: sets, groups, criteria, indicators and dimensioned thresholds.

A set is a draft until published; from then on it is immutable to users (only the bundled
reference may be re-issued by ``ntm seed``). A province's specification of a national set is a
set of its own (``derived_from``) holding a copy of the parent's tree: rows copied from the parent
are marked ``inherited``, the province's own thresholds take precedence when resolving.
Parts that are data rather than queried (applicability rules, conditions, prerequisites,
revocation bands, sources) are JSON, stored exactly as the document gave them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import JSONType
from app.models.enums import CriteriaSetStatus, CriterionRule


class CriteriaSet(IdMixin, TimestampMixin, Base):
    __tablename__ = "criteria_sets"

    code: Mapped[str] = mapped_column(String(100), unique=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    period_start_year: Mapped[int] = mapped_column(Integer)
    period_end_year: Mapped[int] = mapped_column(Integer)

    legal_basis_number: Mapped[str] = mapped_column(String(100))
    legal_basis_date: Mapped[date | None] = mapped_column(Date)
    legal_basis_issuer: Mapped[str | None] = mapped_column(String(300))
    legal_basis_signer: Mapped[str | None] = mapped_column(String(300))
    legal_basis_title: Mapped[str | None] = mapped_column(Text)
    legal_basis_url: Mapped[str | None] = mapped_column(String(2000))

    # Null scope = national. A provincial scope keeps the code and date it was resolved with, so
    # that the exported document stays portable between installations (codes are reused).
    scope_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    scope_unit_code: Mapped[str | None] = mapped_column(String(20))
    scope_as_of: Mapped[date | None] = mapped_column(Date)

    status: Mapped[str] = mapped_column(String(16), default=CriteriaSetStatus.DRAFT.value)
    derived_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("criteria_sets.id"), index=True
    )
    derived_from_version: Mapped[int | None] = mapped_column(Integer)
    amends_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("criteria_sets.id"))

    # What the document declares (every criterion and indicator of the legal text is present)
    # and what follows from the data (declared and nothing missing), with the missing list.
    declared_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    missing: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    applicability_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    prerequisites: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    revocation: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    version: Mapped[int] = mapped_column(Integer, default=1)
    published_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    # Checksum of the bundled document this set was loaded from; null for sets made by users.
    bundled_checksum: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("period_start_year <= period_end_year", name="period"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
        Index(None, "updated_at", "id"),
        Index(None, "level", "title", "period_start_year", "period_end_year"),
    )


class CriteriaGroup(IdMixin, Base):
    __tablename__ = "criteria_groups"

    criteria_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("criteria_sets.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(20))
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("criteria_set_id", "code"),)


class Criterion(IdMixin, Base):
    __tablename__ = "criteria"

    criteria_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("criteria_sets.id", ondelete="CASCADE")
    )
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("criteria_groups.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    # all | any | at_least (with k) | judgement (assessed as a whole by the appraiser)
    rule_kind: Mapped[str] = mapped_column(String(16), default=CriterionRule.ALL.value)
    rule_k: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("criteria_set_id", "number"),)


class Indicator(IdMixin, Base):
    __tablename__ = "indicators"

    criteria_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("criteria_sets.id", ondelete="CASCADE")
    )
    criterion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(20))
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # number | boolean | judgement
    unit: Mapped[str | None] = mapped_column(String(100))
    comparator: Mapped[str | None] = mapped_column(String(4))  # ge | le | eq
    value_min: Mapped[float | None] = mapped_column(Float)
    value_max: Mapped[float | None] = mapped_column(Float)
    left_to_province: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    # In a derived set: copied unchanged from the parent, or present in the parent but changed
    # (definition or thresholds). Both false: the set's own indicator.
    inherited: Mapped[bool] = mapped_column(Boolean, default=False)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("criteria_set_id", "code"),)


class IndicatorThreshold(IdMixin, Base):
    """One value of an indicator; null dimensions mean "any". The most specific match wins."""

    __tablename__ = "indicator_thresholds"

    indicator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    value_number: Mapped[float | None] = mapped_column(Float)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    region: Mapped[str | None] = mapped_column(String(8))
    year: Mapped[int | None] = mapped_column(Integer)
    commune_group: Mapped[int | None] = mapped_column(Integer)
    classification: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    # In a derived set, false marks the province's own value (an override).
    inherited: Mapped[bool] = mapped_column(Boolean, default=False)
    # The document that set this value (for a province's override, its decision).
    legal_basis_number: Mapped[str | None] = mapped_column(String(100))
    legal_basis_date: Mapped[date | None] = mapped_column(Date)
    legal_basis_issuer: Mapped[str | None] = mapped_column(String(300))
    legal_basis_signer: Mapped[str | None] = mapped_column(String(300))
    legal_basis_title: Mapped[str | None] = mapped_column(Text)
    legal_basis_url: Mapped[str | None] = mapped_column(String(2000))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("(value_number IS NULL) <> (value_bool IS NULL)", name="one_value"),
    )
