"""Every write appends an audit record in the same transaction (who, when, what, before, after),
and an outbox event beside it (app/outbox)."""

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
from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.schemas import AuditRecordOut
from app.core import authz
from app.core.errors import Unprocessable, field_error
from app.core.logging import request_id_var
from app.core.pagination import Page, decode_cursor, page_from_rows
from app.core.permissions import Action
from app.core.security import Principal, authenticate
from app.core.types import CONTROL_MSG, has_control_characters
from app.db.types import utcnow
from app.models.system import AuditRecord
from app.outbox import service as outbox

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


def audit_context(
    request: Request,
    principal: Annotated[Principal | None, Depends(authenticate)] = None,
) -> AuditContext:
    """The writer of this request. Resolving the principal here (the same cached dependency as
    the route's) makes the actor right whatever order the route declares its dependencies in."""
    principal = principal or getattr(request.state, "principal", None)
    note = request.headers.get("audit-note")
    reason = unquote(note)[:MAX_REASON_LENGTH] if note else None
    if reason is not None and has_control_characters(reason, allow_line_breaks=True):
        raise Unprocessable(
            f"The Audit-Note header {CONTROL_MSG}.",
            errors=[field_error(["header", "Audit-Note"], CONTROL_MSG, "string_control")],
        )
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
    await outbox.publish(session, [row])


async def record_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk writes: build rows with :func:`entry` and insert them in one statement."""
    await repository.insert_records(session, rows)
    await outbox.publish(session, rows)


# --- reading the trail ---------------------------------------------------------------------------


async def list_records(
    session: AsyncSession,
    principal: Principal,
    where: repository.AuditFilter,
    *,
    unit_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    include_total: bool = False,
) -> Page[AuditRecordOut]:
    """Records the auditor may see (their audit:read scope), newest first; ``unit_id`` narrows
    to the records about that unit's subtree."""
    visible = authz.scope(principal, Action.AUDIT_READ).clause(AuditRecord.unit_id)
    if unit_id is not None:
        await authz.require(session, principal, Action.AUDIT_READ, unit_id=unit_id, entity="unit")
        visible = and_(visible, AuditRecord.unit_id.in_(authz.subtree_select([unit_id])))
    before_seq = None
    if cursor is not None:
        (before_seq,) = decode_cursor(cursor, int)
    rows = await repository.list_records(
        session, where, visible=visible, limit=limit, before_seq=before_seq
    )
    kept, next_cursor = page_from_rows(rows, limit, lambda r: (r.seq,))
    total = None
    if include_total:
        total = await repository.count_records(session, where, visible=visible)
    items = [AuditRecordOut.model_validate(row) for row in kept]
    return Page(items=items, next_cursor=next_cursor, total=total)


async def get_record(session: AsyncSession, principal: Principal, seq: int) -> AuditRecordOut:
    found = await repository.get_record(session, seq)
    if found is None:
        raise authz.not_found("audit_record", seq)
    await authz.require(
        session,
        principal,
        Action.AUDIT_READ,
        unit_id=found.unit_id,
        entity="audit_record",
        entity_id=seq,
    )
    return AuditRecordOut.model_validate(found)
