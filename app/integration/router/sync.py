"""``GET /api/v1/sync/bundle``: one commune for a field app, offline."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.core.errors import problem_responses
from app.core.http import ACCEPT_LANGUAGE, FastJSONResponse, LanguageDep, not_modified
from app.core.permissions import Action
from app.core.security import Principal, require
from app.db.session import SessionDep
from app.integration.schemas import SyncBundle
from app.integration.service import sync

router = APIRouter(prefix="/sync", tags=["integration"])


@router.get(
    "/bundle",
    response_model=SyncBundle,
    summary="What a field app needs offline for one commune, and the feed position to go on from",
    description=(
        "The commune and its villages today, the published commune-level criteria sets that "
        "apply to it in `year` (default: this year) with their thresholds as they apply to it, "
        "its open assessments (draft, submitted) with values, and `position`: poll "
        "`/events?after=<position>` next. `ETag` / `If-None-Match` (304); gzip when accepted."
    ),
    responses={
        304: {"description": "Not modified (If-None-Match)."},
        **problem_responses(401, 403, 404, 422),
    },
)
async def sync_bundle(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(Action.ASSESSMENTS_READ)],
    language: LanguageDep,
    unit_id: Annotated[uuid.UUID, Query(description="The commune.")],
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> Response:
    body, etag = await sync.bundle(session, principal, unit_id, year, language)
    cached = not_modified(request, etag, vary=ACCEPT_LANGUAGE)
    if cached is not None:
        return cached
    headers: dict[str, Any] = {"ETag": etag, "Vary": ACCEPT_LANGUAGE}
    return FastJSONResponse(body, headers=headers)
