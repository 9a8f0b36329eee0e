"""``GET /api/v1/audit``: the trail, read-only. No route updates or deletes a record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.audit import service
from app.audit.repository import AuditFilter
from app.audit.schemas import AuditRecordOut
from app.core.errors import problem_responses
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    IncludeTotalQuery,
    LimitQuery,
    Page,
    model_page_response,
)
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import INT64_MAX, Instant
from app.db.session import SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])

Auditor = Annotated[Principal, require(Action.AUDIT_READ)]
Text = Annotated[str | None, Query(max_length=200)]


@router.get(
    "",
    response_model=Page[AuditRecordOut],
    summary="The audit trail, newest first, within the caller's audit:read scope",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_audit(
    request: Request,
    session: SessionDep,
    principal: Auditor,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    entity: Text = None,
    entity_id: Text = None,
    action: Text = None,
    actor_id: Annotated[uuid.UUID | None, Query(description="Who acted (user or client).")] = None,
    client_id: Text = None,
    request_id: Text = None,
    unit_id: Annotated[
        uuid.UUID | None, Query(description="Records about this unit and its subtree.")
    ] = None,
    since: Annotated[Instant | None, Query(description="From this time (included).")] = None,
    until: Annotated[Instant | None, Query(description="Until this time (excluded).")] = None,
    include_total: IncludeTotalQuery = False,
) -> Response:
    where = AuditFilter(
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor_id=actor_id,
        client_id=client_id,
        request_id=request_id,
        since=since,
        until=until,
    )
    page = await service.list_records(
        session,
        principal,
        where,
        unit_id=unit_id,
        limit=limit,
        cursor=cursor,
        include_total=include_total,
    )
    return model_page_response(request, page)


@router.get(
    "/{seq}",
    response_model=AuditRecordOut,
    summary="One audit record",
    responses=problem_responses(401, 403, 404),
)
async def get_audit_record(
    seq: Annotated[int, Path(ge=1, le=INT64_MAX)], session: SessionDep, principal: Auditor
) -> AuditRecordOut:
    return await service.get_record(session, principal, seq)
