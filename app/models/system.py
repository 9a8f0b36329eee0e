"""Cross-cutting tables: the audit trail, the outbox, idempotency records and loaded reference
datasets."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONType, utcnow

# BIGINT on PostgreSQL; INTEGER on SQLite so that it is the rowid alias and autoincrements.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class AuditRecord(Base):
    """Append-only: no API updates or deletes a row (see app/audit)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None]
    actor_kind: Mapped[str | None] = mapped_column(String(16))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    client_id: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[uuid.UUID | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(None, "entity", "entity_id"),
        Index(None, "actor_id", "occurred_at"),
        Index(None, "unit_id", "occurred_at"),
    )


class OutboxEvent(Base):
    """One event per audit record, inserted in the same transaction; its ``position`` is given at
    commit, in commit order, and the feed is read by position (see app/outbox)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None]
    request_id: Mapped[str | None] = mapped_column(String(128))
    # What the change feed tells about the change (app/outbox/describe.py, migration 0012): the
    # entity's version and strong ETag after it, the date it takes effect (a map change), whether
    # the entity is gone (a tombstone) and small facts such as an import's counts.
    version: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(200))
    effective_date: Mapped[date | None]
    tombstone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # AUTOINCREMENT on SQLite: an id is never handed out twice (there, ids are the positions).
    __table_args__ = (
        Index(None, "occurred_at"),
        {"sqlite_autoincrement": True},
    )


class OutboxRetention(Base):
    """One row: the feed's events up to ``pruned_through`` were removed by retention, so a
    poller asking for anything after an older position gets 410 (it missed events)."""

    __tablename__ = "outbox_retention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pruned_through: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(2000))
    body_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ReferenceDataset(Base):
    """Which bundled dataset was loaded, so that `ntm seed` can skip or apply differences."""

    __tablename__ = "reference_datasets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    checksum: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
