"""Administrative units over time: stable identities, dated versions, classifications and lineage.

Validity intervals are half-open, ``[valid_from, valid_to)`` (``app.db.intervals``). Only
``app.units`` reads these tables; other features ask it (``app.units.query``).
A code means nothing without a date: official codes are reused (DOMAIN.md §5).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.intervals import BEGINNING_OF_TIME as BEGINNING_OF_TIME
from app.db.intervals import END_OF_TIME as END_OF_TIME
from app.db.types import JSONType, utcnow


class LegalBasisMixin:
    """The document a dated fact rests on (number, date, issuer), e.g. 202/2025/QH15."""

    legal_basis_number: Mapped[str | None] = mapped_column(String(100))
    legal_basis_date: Mapped[date | None] = mapped_column(Date)
    legal_basis_issuer: Mapped[str | None] = mapped_column(String(300))
    legal_basis_title: Mapped[str | None] = mapped_column(Text)


class Unit(IdMixin, TimestampMixin, Base):
    """The stable identity of a unit; what it is called and where it sits lives in versions."""

    __tablename__ = "units"

    level: Mapped[str] = mapped_column(String(16), index=True)
    # Key in the bundled national dataset (e.g. "commune:07444:2025"); null for units made by users.
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Bumped with ``updated_at`` by every change of the unit (a version, a classification, an
    # event): its ETag is made of it, so If-Match compares a number, not a rebuilt response.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class UnitVersion(IdMixin, Base):
    __tablename__ = "unit_versions"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    valid_from: Mapped[date] = mapped_column(Date, default=BEGINNING_OF_TIME)
    valid_to: Mapped[date] = mapped_column(Date, default=END_OF_TIME)
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    # Lower-case, diacritics folded (đ → d), spaces collapsed: what `q=` searches.
    name_folded: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit_events.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("valid_from < valid_to", name="valid_interval"),
        Index(None, "unit_id", "valid_from", unique=True),
        Index(None, "parent_id", "valid_from", "valid_to"),
        Index(None, "level", "code", "valid_from"),
        Index(None, "code", "valid_from"),
        Index(None, "updated_at", "unit_id"),
        # `q=` substring search: GIN trigram on PostgreSQL (migration 0017), plain on SQLite.
        Index(
            None,
            "name_folded",
            postgresql_using="gin",
            postgresql_ops={"name_folded": "gin_trgm_ops"},
        ),
    )


class UnitClassification(IdMixin, LegalBasisMixin, Base):
    __tablename__ = "unit_classifications"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date, default=BEGINNING_OF_TIME)
    valid_to: Mapped[date] = mapped_column(Date, default=END_OF_TIME)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("valid_from < valid_to", name="valid_interval"),
        Index(None, "unit_id", "kind", "valid_from", unique=True),
        Index(None, "kind", "value"),
    )


class UnitEvent(IdMixin, LegalBasisMixin, Base):
    """A dated, legally based change of the map, applied atomically."""

    __tablename__ = "unit_events"

    kind: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    # The request as given, so that the event can be shown and audited as the user stated it.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnitLink(IdMixin, Base):
    """Lineage: ``predecessor`` gave all (or, if ``partly``, part) of itself to ``successor``."""

    __tablename__ = "unit_links"

    event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("unit_events.id", ondelete="CASCADE"), index=True
    )
    effective_date: Mapped[date] = mapped_column(Date)
    predecessor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    successor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    partly: Mapped[bool] = mapped_column(Boolean, default=False)
    # ``stated`` when a source names the link (a resolution, the 2025 conversion table, the
    # user recording it); ``inferred`` when a documented rule derived it (``rule`` names it,
    # docs/units-dataset.md).
    confidence: Mapped[str] = mapped_column(String(16), default="stated", server_default="stated")
    rule: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index(None, "predecessor_id", "successor_id", unique=True),
        Index(None, "successor_id"),
    )


class MapRevision(Base):
    """One row: the state of the map, changed by the database itself on every write.

    Triggers (migration 0014) on ``units``, ``unit_versions``, ``unit_classifications`` and
    ``unit_links`` bump ``revision`` and draw a new random ``token`` in the same transaction as
    any change, whoever makes it. A reader that sees the same ``token`` sees the same map: what
    was computed from the map (threshold resolution) can be kept under the token it was read
    with, in any process. A rolled-back change's token is never seen again.
    """

    __tablename__ = "map_revision"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    token: Mapped[str] = mapped_column(String(36))
