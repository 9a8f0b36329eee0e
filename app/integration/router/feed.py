"""``GET /api/v1/events``: the change feed."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.errors import problem_responses
from app.core.http import dumps
from app.core.pagination import DEFAULT_LIMIT, LimitQuery
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import INT64_MAX
from app.db.session import SessionDep
from app.integration.schemas import FeedPage
from app.integration.service import feed

router = APIRouter(prefix="/events", tags=["integration"])


@router.get(
    "",
    response_model=FeedPage,
    summary="The change feed: every committed change after a position, within the caller's scope",
    description=(
        "Keep `next_after` and ask again: a position is never skipped (positions are handed out "
        "in commit order). Removals come as tombstones (`tombstone: true`, e.g. "
        "`unit.dissolved`). `after` older than the retention answers 410 "
        "`feed_position_expired`; beyond the newest event, 422 `feed_position_beyond_head`."
    ),
    responses=problem_responses(401, 403, 404, 410, 422),
)
async def read_events(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(Action.EVENTS_READ)],
    after: Annotated[
        int | None,
        Query(ge=0, le=INT64_MAX, description="The last position seen; default: the oldest kept."),
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    types: Annotated[
        list[str] | None,
        Query(
            max_length=50,
            description="Event types (`unit`, `unit.dissolved`, comma-separated or repeated).",
        ),
    ] = None,
    unit_id: Annotated[
        uuid.UUID | None, Query(description="Only events about this unit's subtree.")
    ] = None,
) -> Response:
    page = await feed.read(
        session, principal, after=after, limit=limit, types=types, unit_id=unit_id
    )
    response = Response(dumps(page.model_dump(mode="json")), media_type="application/json")
    url = request.url.include_query_params(after=page.next_after)
    response.headers["Link"] = f'<{url}>; rel="next"'
    return response
