"""Every write appends an audit record in the same transaction (who, when, what, before, after)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.core.logging import request_id_var
from app.db.types import utcnow

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class AuditContext:
    """Who is writing, taken from the request: the principal, the request id, an Audit-Note."""

    actor_id: uuid.UUID | None = None
    actor_kind: str | None = None
    actor_name: str | None = None
    client_id: str | None = None
    request_id: str | None = None
    reason: str | None = None

    @classmethod
    def system(cls, name: str, reason: str | None = None) -> AuditContext:
        return cls(actor_kind="system", actor_name=name, reason=reason)


def audit_context(request: Request) -> AuditContext:
    principal = getattr(request.state, "principal", None)
    note = request.headers.get("audit-note")
    reason = unquote(note)[:MAX_REASON_LENGTH] if note else None
    return AuditContext(
        actor_id=getattr(principal, "id", None),
        actor_kind=getattr(principal, "kind", None),
        actor_name=getattr(principal, "name", None),
        client_id=getattr(principal, "client_id", None),
        request_id=request_id_var.get(),
        reason=reason,
    )


AuditContextDep = Annotated[AuditContext, Depends(audit_context)]


def snapshot(value: Any) -> Any:
    """A JSON-safe copy of a value for the before/after columns."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [snapshot(v) for v in value]
    if hasattr(value, "model_dump"):
        return snapshot(value.model_dump(mode="json"))
    return str(value)


def entry(
    context: AuditContext,
    *,
    entity: str,
    entity_id: uuid.UUID | str,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    unit_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "occurred_at": utcnow(),
        "actor_id": context.actor_id,
        "actor_kind": context.actor_kind,
        "actor_name": context.actor_name,
        "client_id": context.client_id,
        "request_id": context.request_id,
        "entity": entity,
        "entity_id": str(entity_id),
        "action": str(action),
        "unit_id": unit_id,
        "before": snapshot(before) if before is not None else None,
        "after": snapshot(after) if after is not None else None,
        "reason": context.reason,
    }


async def record(
    session: AsyncSession,
    context: AuditContext,
    *,
    entity: str,
    entity_id: uuid.UUID | str,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    unit_id: uuid.UUID | None = None,
) -> None:
    row = entry(
        context,
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
        unit_id=unit_id,
    )
    await repository.insert_records(session, [row])


async def record_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk writes: build rows with :func:`entry` and insert them in one statement."""
    await repository.insert_records(session, rows)
