"""Schemas of the audit feature."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_kind: str | None
    actor_name: str | None
    client_id: str | None
    request_id: str | None
    entity: str
    entity_id: str
    action: str
    unit_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
