"""Principals (people, integration clients, personal access tokens), role assignments scoped to a
unit's subtree, and the bookkeeping of logins (failed attempts, revoked access tokens).

No column holds a password, secret or token in clear: passwords are Argon2 hashes; client secrets
and personal access tokens are random 256-bit values, kept as SHA-256 digests (a slow hash adds
nothing to a value that cannot be guessed).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.intervals import BEGINNING_OF_TIME, END_OF_TIME
from app.db.types import JSONType, utcnow
from app.models.system import BigIntId


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    # Stored lower-case: usernames are compared without regard to case.
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Raised when the password changes or is reset: access tokens carry the value they were
    # issued under, and an older one no longer authenticates.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Raised by every write of the person (fields, password, role assignments): with the id, it
    # names the version an ETag stands for (app.identity.service.accounts.user_etag).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Client(IdMixin, TimestampMixin, Base):
    """An integration client; its ``id`` is the OAuth2 ``client_id``."""

    __tablename__ = "clients"

    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_rotated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Raised by every write of the client (fields, secret, role assignments).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class PersonalAccessToken(IdMixin, Base):
    __tablename__ = "personal_access_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # The first characters of the token (``ntm_pat_`` and 8 more), enough to recognise it.
    prefix: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    read_only: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleAssignment(IdMixin, Base):
    """A role held by a user or a client over a unit's subtree (``unit_id`` null: national)."""

    __tablename__ = "role_assignments"

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    valid_from: Mapped[date] = mapped_column(Date, default=BEGINNING_OF_TIME)
    valid_to: Mapped[date] = mapped_column(Date, default=END_OF_TIME)
    # Appraisers: the procedure step they act at (e.g. "review", "appraisal").
    step: Mapped[str | None] = mapped_column(String(64))
    # Integration clients: {resource: "read" | "write"}.
    resources: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    granted_by: Mapped[uuid.UUID | None]
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None]

    __table_args__ = (
        CheckConstraint("valid_from < valid_to", name="valid_interval"),
        CheckConstraint("(user_id IS NULL) <> (client_id IS NULL)", name="one_principal"),
        Index(None, "user_id", "valid_from"),
        Index(None, "client_id", "valid_from"),
        Index(None, "unit_id"),
    )


class LoginFailure(Base):
    """A failed login, counted per account and per address; kept in the database so that every
    worker of the service sees the same counts."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (Index(None, "scope", "key", "failed_at"),)


class RevokedToken(Base):
    """An access token revoked before it expired (RFC 7009); kept until then."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
