"""Schemas of the audit feature."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditRecordOut(BaseModel):
    """One write, as the append-only audit trail keeps it: who changed what, when, from which
    request, the state before and after, and the reason given (`Audit-Note`)."""

    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="Position in the trail: increases with every record.")
    occurred_at: datetime
    actor_id: uuid.UUID | None = Field(description="The person or client; null: the system.")
    actor_kind: str | None = Field(
        description="user, client, token (a personal access token) or system."
    )
    actor_name: str | None = Field(description="Username, client name, or the system's command.")
    client_id: str | None = Field(description="The integration client's id, when a client wrote.")
    request_id: str | None = Field(description="The `X-Request-ID` of the HTTP request.")
    entity: str = Field(description="What was written, e.g. `unit`, `assessment`, `user`.")
    entity_id: str
    action: str = Field(
        description="create, update, delete, apply, publish, retire, import, login, revoke, …"
    )
    unit_id: uuid.UUID | None = Field(description="The unit the record belongs to, for scoping.")
    before: dict[str, Any] | None = Field(description="The fields changed, before; null: created.")
    after: dict[str, Any] | None = Field(description="The fields changed, after; null: deleted.")
    reason: str | None = Field(description="The `Audit-Note` sent with the write, if any.")
