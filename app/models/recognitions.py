"""The register of titles: every recognition (công nhận đạt chuẩn) by its decision, and its
revocation (thu hồi).

A recognition gives a unit a title "for" a year by a decision (number, date, signer, issuing
body); the decision can come much later than the year (Lục Nam district, NTM "for 2023", by
37/QĐ-TTg of 11/01/2024). Both facts are kept. A title is held from the decision date until the
date of the decision that revokes it: ``[decision_date, held_until)``, half-open like every dated
row (``app.db.intervals``), ``held_until`` being the sentinel end of time while not revoked.
Nothing is deleted: a revoked title, and the titles of dissolved units, stay as history.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.intervals import END_OF_TIME
from app.db.types import JSONType
from app.models.enums import RecognitionSource, Title


def _in(column: str, values: type[Title] | type[RecognitionSource]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in values)})"


class Recognition(IdMixin, TimestampMixin, Base):
    __tablename__ = "recognitions"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(32))
    # The year the title is "for" (công nhận đạt chuẩn năm …), not the year of the decision.
    year_for: Mapped[int] = mapped_column(Integer)
    decision_number: Mapped[str] = mapped_column(String(100))
    decision_date: Mapped[date] = mapped_column(Date)
    signer: Mapped[str] = mapped_column(String(200))
    # The body that decided: a unit (the province whose chairman signs) and/or its name as
    # written (e.g. "Thủ tướng Chính phủ" for district titles, which is no unit).
    issuing_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    issuing_body: Mapped[str | None] = mapped_column(String(300))
    # Model NTM communes are recognised for excellence in a field the province defines (319/QĐ-TTg).
    field: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    # The dossier that led to the decision (source dossier); no foreign key so that the register
    # does not depend on the order in which the two features' tables are made.
    dossier_id: Mapped[uuid.UUID | None] = mapped_column()
    # Carry-over after a merger: the map event and the predecessors' recognitions it rests on.
    unit_event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit_events.id"))
    carried_from: Mapped[list[str] | None] = mapped_column(JSONType)
    # "import:<import id>" for rows written by a bulk import.
    import_ref: Mapped[str | None] = mapped_column(String(64))
    # First day the title is no longer held: the revocation decision's date, else END_OF_TIME.
    held_until: Mapped[date] = mapped_column(Date, default=END_OF_TIME)
    revocation_decision_number: Mapped[str | None] = mapped_column(String(100))
    revocation_decision_date: Mapped[date | None] = mapped_column(Date)
    revocation_signer: Mapped[str | None] = mapped_column(String(200))
    revocation_issuing_body: Mapped[str | None] = mapped_column(String(300))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    # The revocation check's finding the decision rests on (failing criteria), if any.
    revocation_basis: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    revoked_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[uuid.UUID | None]
    updated_by_name: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(_in("title", Title), name="title"),
        CheckConstraint(_in("source", RecognitionSource), name="source"),
        CheckConstraint("decision_date < held_until", name="held_interval"),
        # The natural key: one recognition of a title for a unit and year (a duplicate is 409).
        Index(None, "unit_id", "title", "year_for", unique=True),
        Index(None, "unit_id", "decision_date", "held_until"),
        Index(None, "title", "year_for"),
        Index(None, "updated_at", "id"),
    )
