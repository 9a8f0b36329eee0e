"""HTTP layer of plans: parse, declare responses, commit once, answer with the new ETag."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.audit.service import AuditContextDep
from app.core.clock import today
from app.core.errors import problem_responses
from app.core.http import (
    NOT_MODIFIED,
    VARY_LANGUAGE,
    FastJSONResponse,
    IfMatch,
    LanguageDep,
    cached_json,
    revision_etag,
)
from app.core.pagination import CursorQuery, LimitQuery, page_response
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import Instant, IsoDate
from app.core.uploads import receive_upload
from app.db.session import SessionDep
from app.exports import (
    EXPORT_RESPONSES,
    ExcelQuery,
    ExportFormat,
    FormatQuery,
    export_response,
    requested_format,
)
from app.models.enums import PlanKind, PlanStatus
from app.plans import present
from app.plans.schemas import (
    Plan,
    PlanAdjust,
    PlanCreate,
    PlanDocument,
    PlanDocumentList,
    PlanPage,
    PlanPatch,
    PlanTarget,
    PlanTargetPage,
    PlanTask,
    PlanTaskPage,
    Progress,
    RoadmapCreate,
    RoadmapItem,
    RoadmapPage,
    RoadmapPatch,
    TargetCreate,
    TargetPatch,
    TaskCreate,
    TaskPatch,
)
from app.plans.service import documents as documents_service
from app.plans.service import items as items_service
from app.plans.service import plans as service
from app.plans.service import progress as progress_service

router = APIRouter(tags=["plans"])

Reader = Annotated[Principal, require(Action.PLANS_READ)]
Writer = Annotated[Principal, require(Action.PLANS_WRITE)]
DOCUMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file as the `file` field of a multipart form; the form field "
        "`kind` says what it is (plan, adjustment, annex, other; default plan).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"$ref": "#/components/schemas/PlanDocumentKind"},
                    },
                    "required": ["file"],
                }
            }
        },
    }
}


def _written(body: dict[str, Any], status_code: int = 200, location: str | None = None) -> Response:
    """A write's answer with the resource's new strong ETag (for the next If-Match)."""
    headers = {"ETag": revision_etag(body["id"], body["revision"])}
    if location is not None:
        headers["Location"] = location
    return FastJSONResponse(body, status_code=status_code, headers=headers)


# --- plans -----------------------------------------------------------------------------------


@router.post(
    "/plans",
    response_model=Plan,
    status_code=201,
    summary="Create a plan (a draft)",
    description="A period plan or a yearly plan under one (`parent_id`). A client may supply "
    "`id`: the same id and body again answers 200 with the existing plan.",
    responses={
        200: {"model": Plan, "description": "Already created (replay)."},
        **problem_responses(404, 409, 422),
    },
)
async def create_plan(
    session: SessionDep, audit: AuditContextDep, principal: Writer, body: PlanCreate
) -> Response:
    item, created = await service.create(session, audit, body, principal)
    await session.commit()
    return _written(item, 201 if created else 200, f"/api/v1/plans/{item['id']}")


@router.get(
    "/plans",
    response_model=PlanPage,
    summary="List plans",
    description="Ordered by `(updated_at, id)` for sync; `year` keeps plans whose period "
    "contains it.",
    responses=problem_responses(422),
)
async def list_plans(
    request: Request,
    session: SessionDep,
    principal: Reader,
    issuing_unit_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    status: PlanStatus | None = None,
    kind: PlanKind | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    updated_since: Instant | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    page = await service.list_plans(
        session,
        principal,
        issuing_unit_id=issuing_unit_id,
        parent_id=parent_id,
        status=status.value if status else None,
        kind=kind.value if kind else None,
        year=year,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return page_response(request, page.items, page.next_cursor)


@router.get(
    "/plans/{plan_id:uuid}",
    response_model=Plan,
    summary="A plan",
    responses={**NOT_MODIFIED, **problem_responses(404)},
)
async def get_plan(
    request: Request, session: SessionDep, principal: Reader, plan_id: uuid.UUID
) -> Response:
    body, etag = await service.detail(session, plan_id, principal)
    return cached_json(request, body, etag)


@router.patch(
    "/plans/{plan_id:uuid}",
    response_model=Plan,
    summary="Edit a draft, or move a plan along its lifecycle",
    description="`status`: draft → in_force → closed. Content fields change only while the plan "
    "is a draft (409 `plan_not_draft`): a plan in force changes by adjustment. A superseded or "
    "closed plan is read-only (409 `plan_read_only`).",
    responses=problem_responses(404, 409, 412, 422),
)
async def patch_plan(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    body: PlanPatch,
    if_match: IfMatch = None,
) -> Response:
    item = await service.patch(session, audit, plan_id, body, principal, if_match)
    await session.commit()
    return _written(item)


@router.post(
    "/plans/{plan_id}/adjustments",
    response_model=Plan,
    status_code=201,
    summary="Adjust a plan in force: a new version superseding it from a date",
    description="The new version starts in force with copies of the old one's targets, roadmap "
    "and tasks; the old one becomes `superseded` (with `effective_to`) and stays readable as it "
    "was. `If-Match` names the old version.",
    responses=problem_responses(404, 409, 412, 422),
)
async def adjust_plan(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    body: PlanAdjust,
    if_match: IfMatch = None,
) -> Response:
    new, _old = await service.adjust(session, audit, plan_id, body, principal, if_match)
    await session.commit()
    return _written(new, 201, f"/api/v1/plans/{new['id']}")


# --- targets, roadmap, tasks -----------------------------------------------------------------


async def _list(
    request: Request,
    session: SessionDep,
    principal: Principal,
    entity: str,
    plan_id: uuid.UUID,
    updated_since: Any,
    limit: int,
    cursor: str | None,
) -> Response:
    items, next_cursor = await items_service.list_items(
        session,
        entity,
        plan_id,
        principal,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return page_response(request, items, next_cursor)


@router.get(
    "/plans/{plan_id}/targets",
    response_model=PlanTargetPage,
    summary="The plan's targets",
    responses=problem_responses(404, 422),
)
async def list_targets(
    request: Request,
    session: SessionDep,
    principal: Reader,
    plan_id: uuid.UUID,
    updated_since: Instant | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    return await _list(
        request, session, principal, "plan_target", plan_id, updated_since, limit, cursor
    )


@router.post(
    "/plans/{plan_id}/targets",
    response_model=PlanTarget,
    status_code=201,
    summary="Add a target",
    description="The year lies in the plan's period; a title some published criteria set "
    "grants at its level; a share at most 100; the scope unit inside the plan's scope on its "
    "scope date; `source_document` names the document that set the target.",
    responses={
        200: {"model": PlanTarget, "description": "Already created (replay)."},
        **problem_responses(404, 409, 422),
    },
)
async def create_target(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    body: TargetCreate,
) -> Response:
    item, created = await items_service.create_target(session, audit, plan_id, body, principal)
    await session.commit()
    return _written(item, 201 if created else 200)


@router.patch(
    "/plans/{plan_id}/targets/{target_id}",
    response_model=PlanTarget,
    summary="Update a target",
    responses=problem_responses(404, 409, 412, 422),
)
async def patch_target(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    target_id: uuid.UUID,
    body: TargetPatch,
    if_match: IfMatch = None,
) -> Response:
    item = await items_service.update_target(
        session, audit, plan_id, target_id, body, principal, if_match
    )
    await session.commit()
    return _written(item)


@router.get(
    "/plans/{plan_id}/roadmap",
    response_model=RoadmapPage,
    summary="The plan's roadmap (lộ trình): which unit aims for which title by when",
    responses=problem_responses(404, 422),
)
async def list_roadmap(
    request: Request,
    session: SessionDep,
    principal: Reader,
    plan_id: uuid.UUID,
    updated_since: Instant | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    return await _list(
        request, session, principal, "plan_roadmap_item", plan_id, updated_since, limit, cursor
    )


@router.post(
    "/plans/{plan_id}/roadmap",
    response_model=RoadmapItem,
    status_code=201,
    summary="Add a roadmap item",
    description="The unit lies inside the plan's scope on the plan's scope date and is of the "
    "title's level; the target year lies in the plan's period; `field` only for a model NTM "
    "commune.",
    responses={
        200: {"model": RoadmapItem, "description": "Already created (replay)."},
        **problem_responses(404, 409, 422),
    },
)
async def create_roadmap_item(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    body: RoadmapCreate,
) -> Response:
    item, created = await items_service.create_roadmap_item(
        session, audit, plan_id, body, principal
    )
    await session.commit()
    return _written(item, 201 if created else 200)


@router.patch(
    "/plans/{plan_id}/roadmap/{item_id}",
    response_model=RoadmapItem,
    summary="Update a roadmap item",
    responses=problem_responses(404, 409, 412, 422),
)
async def patch_roadmap_item(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    item_id: uuid.UUID,
    body: RoadmapPatch,
    if_match: IfMatch = None,
) -> Response:
    item = await items_service.update_roadmap_item(
        session, audit, plan_id, item_id, body, principal, if_match
    )
    await session.commit()
    return _written(item)


@router.get(
    "/plans/{plan_id}/tasks",
    response_model=PlanTaskPage,
    summary="The plan's tasks",
    responses=problem_responses(404, 422),
)
async def list_tasks(
    request: Request,
    session: SessionDep,
    principal: Reader,
    plan_id: uuid.UUID,
    updated_since: Instant | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    return await _list(
        request, session, principal, "plan_task", plan_id, updated_since, limit, cursor
    )


@router.post(
    "/plans/{plan_id}/tasks",
    response_model=PlanTask,
    status_code=201,
    summary="Assign a task",
    description="A deadline before the plan's date is refused (422 `deadline_before_plan`).",
    responses={
        200: {"model": PlanTask, "description": "Already created (replay)."},
        **problem_responses(404, 409, 422),
    },
)
async def create_task(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    body: TaskCreate,
) -> Response:
    item, created = await items_service.create_task(session, audit, plan_id, body, principal)
    await session.commit()
    return _written(item, 201 if created else 200)


@router.patch(
    "/plans/{plan_id}/tasks/{task_id}",
    response_model=PlanTask,
    summary="Update a task, or add a dated progress note",
    responses=problem_responses(404, 409, 412, 422),
)
async def patch_task(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    body: TaskPatch,
    if_match: IfMatch = None,
) -> Response:
    item = await items_service.update_task(
        session, audit, plan_id, task_id, body, principal, if_match
    )
    await session.commit()
    return _written(item)


# --- documents -------------------------------------------------------------------------------


@router.post(
    "/plans/{plan_id}/documents",
    response_model=PlanDocument,
    status_code=201,
    summary="Attach a document to the plan (the signed KH, an adjustment, an annex)",
    openapi_extra=DOCUMENT_BODY,
    responses=problem_responses(404, 409, 413, 422),
)
async def attach_document(
    request: Request,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    plan_id: uuid.UUID,
) -> Response:
    async with receive_upload(request, what="document") as upload:
        item = await documents_service.attach(
            session, audit, request.app.state.storage, plan_id, upload, principal
        )
        await session.commit()
    return FastJSONResponse(
        item,
        status_code=201,
        headers={"Location": f"/api/v1/plans/{plan_id}/documents/{item['id']}/content"},
    )


@router.get(
    "/plans/{plan_id}/documents",
    response_model=PlanDocumentList,
    summary="The plan's documents",
    responses=problem_responses(404),
)
async def list_documents(session: SessionDep, principal: Reader, plan_id: uuid.UUID) -> Response:
    items = await documents_service.list_documents(session, plan_id, principal)
    return FastJSONResponse({"items": items})


@router.get(
    "/plans/{plan_id}/documents/{document_id}/content",
    summary="A document's file",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file."},
        **problem_responses(404),
    },
)
async def document_content(
    request: Request,
    session: SessionDep,
    principal: Reader,
    plan_id: uuid.UUID,
    document_id: uuid.UUID,
) -> Response:
    row = await documents_service.document_row(session, plan_id, document_id, principal)
    media_type = (
        row["media_type"]
        if row["media_type"] in documents_service.SERVED_TYPES
        else "application/octet-stream"
    )
    filename = f"{document_id}"
    return StreamingResponse(
        documents_service.content(request.app.state.storage, row["storage_key"]),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": f'"{row["sha256"]}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- progress --------------------------------------------------------------------------------


@router.get(
    "/plans/{plan_id}/progress",
    response_model=Progress,
    summary="Progress of the plan on a date: every target and roadmap item, with the reason",
    description="Targets: planned and achieved on `as_of` over their own denominator (units "
    "that merged away, were dissolved or became wards leave it), status achieved, on_track, "
    "at_risk, missed or unknown. Roadmap items: recognised, left_scope, missed, "
    "dossier_in_progress, not_assessed, criteria_met, at_risk, assessment_gap. Rolled up by "
    "district and for the plan's unit. Every rule in docs/plans.md. `format=csv|xlsx`: the same "
    "as flat rows (codes and names as of the date; text cells neutralised).",
    responses={**EXPORT_RESPONSES, **problem_responses(404, 422)},
)
async def plan_progress(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    plan_id: uuid.UUID,
    as_of: Annotated[
        IsoDate | None, Query(description="The date progress is read on; default today.")
    ] = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    on = as_of or today()
    fmt = requested_format(request, format)
    result = await progress_service.progress(
        session, plan_id, on, request.app.state.settings, principal
    )
    if fmt != ExportFormat.JSON:
        return await export_response(
            present.PROGRESS_TABLE,
            present.progress_rows(result, lang),
            fmt,
            query={"plan_id": str(plan_id), "as_of": on.isoformat()},
            excel=excel,
            filename=f"plan-progress-{on.isoformat()}",
        )
    return FastJSONResponse(present.progress(result, lang), headers=VARY_LANGUAGE)
