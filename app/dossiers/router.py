"""HTTP layer of recognition dossiers: parse, declare responses, commit once, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.audit.service import AuditContextDep
from app.core.errors import problem_responses
from app.core.http import FastJSONResponse, IfMatch, cached_json, revision_etag
from app.core.pagination import CursorQuery, LimitQuery, page_response
from app.core.permissions import Action
from app.core.security import PUBLIC, CurrentPrincipal, Principal, forbidden, require
from app.core.types import Instant
from app.core.uploads import receive_upload
from app.db.session import SessionDep
from app.dossiers.schemas import (
    DocumentList,
    DocumentOut,
    Dossier,
    DossierCreate,
    DossierPage,
    History,
    ProcedureList,
    TransitionRequest,
)
from app.dossiers.service import documents as documents_service
from app.dossiers.service import dossiers as service
from app.dossiers.service import transitions as transitions_service
from app.models.enums import DossierStatus, Title

router = APIRouter(tags=["dossiers"])

Reader = Annotated[Principal, require(Action.DOSSIERS_READ)]
Writer = Annotated[Principal, require(Action.DOSSIERS_WRITE)]
_ACTING = (Action.DOSSIERS_WRITE, Action.DOSSIERS_APPRAISE, Action.DOSSIERS_DECIDE)


async def _acting(principal: CurrentPrincipal) -> Principal:
    """Someone who acts on dossiers somewhere (applicant, appraiser or decision maker); the
    service then checks the step: who acts there comes from the role assignments."""
    if not any(principal.allows(action) for action in _ACTING):
        raise forbidden(Action.DOSSIERS_WRITE)
    return principal


Actor = Annotated[Principal, Depends(_acting)]
DossierId = Annotated[uuid.UUID, "the dossier"]


def _json(model: type[Any], body: dict[str, Any], etag: str | None, status: int = 200) -> Response:
    content = model.model_validate(body).model_dump(mode="json")
    headers = {"ETag": etag} if etag else None
    return FastJSONResponse(content, status_code=status, headers=headers)


@router.get(
    "/dossier-procedures",
    response_model=ProcedureList,
    summary="The recognition procedures: steps, actors, documents, checks, durations",
    openapi_extra=PUBLIC,
)
async def list_procedures(request: Request) -> Response:
    body = ProcedureList.model_validate({"items": service.list_procedures()})
    return cached_json(request, body.model_dump(mode="json"))


@router.post(
    "/dossiers",
    response_model=Dossier,
    status_code=201,
    summary="Open a recognition dossier for a unit, a title and a year",
    description="The dossier rests on assessments of the unit, the criteria set and the year; "
    "it follows the procedure named, or the one in force today for the unit's level and the "
    "title (`GET /dossier-procedures`). A client may supply `id`: the same id and body again "
    "answers 200 with the existing dossier.",
    responses={200: {"model": Dossier, "description": "Already created (replay)."}},
)
async def create_dossier(
    body: DossierCreate,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
) -> Response:
    item, created = await service.create(session, audit, body, principal)
    await session.commit()
    response = _json(
        Dossier, item, revision_etag(item["id"], item["revision"]), 201 if created else 200
    )
    if created:
        response.headers["Location"] = f"/api/v1/dossiers/{item['id']}"
    return response


@router.get(
    "/dossiers",
    response_model=DossierPage,
    summary="List dossiers",
    description="Filters: `status`, `title`, `year`, `unit_id` (with its subtree), "
    "`updated_since`; ordered by `(updated_at, id)`.",
)
async def list_dossiers(
    request: Request,
    session: SessionDep,
    principal: Reader,
    status: DossierStatus | None = None,
    title: Title | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    unit_id: uuid.UUID | None = None,
    updated_since: Annotated[Instant | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    items, next_cursor = await service.list_dossiers(
        session,
        principal,
        status=status,
        title=title,
        year=year,
        unit_id=unit_id,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    page = DossierPage.model_validate({"items": items, "next_cursor": next_cursor})
    body = page.model_dump(mode="json")
    return page_response(request, body["items"], body["next_cursor"])


@router.get(
    "/dossiers/{dossier_id}",
    response_model=Dossier,
    summary="A dossier: its state, step, what the caller may do next, snapshot differences",
)
async def get_dossier(
    request: Request, dossier_id: DossierId, session: SessionDep, principal: Reader
) -> Response:
    item = await service.detail(session, dossier_id, principal)
    body = Dossier.model_validate(item).model_dump(mode="json")
    return cached_json(request, body, revision_etag(item["id"], item["revision"]))


@router.post(
    "/dossiers/{dossier_id}/transitions",
    response_model=Dossier,
    summary="Move a dossier: submit, forward, appraise, recognise, return, reject, withdraw",
    description="The only way a dossier's status changes. Requires `If-Match` with the "
    "dossier's ETag (428 `precondition_required` without it, 412 when stale): of two people "
    "acting at once, one wins. 409 `dossier_transition_not_allowed` (with `allowed`) when the "
    "state does not allow the action; 403 when the caller does not act at the step; 422 "
    "`dossier_preconditions_failed` lists every failing precondition in `failed`.",
    responses=problem_responses(428),
)
async def record_transition(
    dossier_id: DossierId,
    body: TransitionRequest,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Actor,
    if_match: IfMatch = None,
) -> Response:
    item = await transitions_service.transition(
        session, audit, dossier_id, body, principal, if_match
    )
    await session.commit()
    return _json(Dossier, item, revision_etag(item["id"], item["revision"]))


@router.get(
    "/dossiers/{dossier_id}/history",
    response_model=History,
    summary="The dossier's transitions: actor, time, from, to, action, reasons, votes",
)
async def get_history(dossier_id: DossierId, session: SessionDep, principal: Reader) -> Response:
    items = await service.history(session, dossier_id, principal)
    return _json(History, {"items": items}, None)


@router.post(
    "/dossiers/{dossier_id}/documents",
    response_model=DocumentOut,
    status_code=201,
    summary="Add a document to a dossier (multipart: `file`, `document_type`, `note`)",
    description="The type is found in the content (PDF, PNG, JPEG, Word, Excel, OpenDocument), "
    "not in the name: anything else is 415 `dossier_document_content_not_allowed`. Over "
    "`NTM_DOSSIER_DOCUMENT_MAX_BYTES` (default 50 MB): 413. Added by the actors of the step the "
    "dossier is at; the step is recorded with the document. The answer's ETag is the dossier's "
    "new one. When the file storage refuses the file: 507 `storage_full`, 500 "
    "`storage_not_writable` (nothing written).",
    responses=problem_responses(413, 415, 500, 507),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "document_type"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "document_type": {"$ref": "#/components/schemas/DossierDocumentType"},
                            "note": {"type": "string", "maxLength": 5000},
                        },
                    }
                }
            },
        }
    },
)
async def add_document(
    request: Request,
    dossier_id: DossierId,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Actor,
) -> Response:
    settings = request.app.state.settings
    async with receive_upload(request, limit=settings.dossier_document_max_bytes) as upload:
        storage = request.app.state.storage
        item = await documents_service.add(session, audit, storage, dossier_id, upload, principal)
        try:
            await session.commit()
        except BaseException:
            # Not committed (the database went away): the stored file has no row, remove it.
            await storage.delete(documents_service.document_key(dossier_id, item["id"]))
            raise
    response = _json(DocumentOut, item, revision_etag(dossier_id, item["revision"]), 201)
    response.headers["Location"] = f"/api/v1/dossiers/{dossier_id}/documents/{item['id']}/content"
    return response


@router.get(
    "/dossiers/{dossier_id}/documents",
    response_model=DocumentList,
    summary="The documents of a dossier",
)
async def list_documents(dossier_id: DossierId, session: SessionDep, principal: Reader) -> Response:
    items = await documents_service.list_documents(session, dossier_id, principal)
    return _json(DocumentList, {"items": items}, None)


@router.get(
    "/dossiers/{dossier_id}/documents/{document_id}/content",
    summary="Download a document (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file."}},
)
async def get_document_content(
    request: Request,
    dossier_id: DossierId,
    document_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
) -> Response:
    row = await documents_service.for_download(session, dossier_id, document_id, principal)
    storage = request.app.state.storage
    if not await storage.exists(row["storage_key"]):
        raise documents_service.document_not_found(document_id)
    filename = row["filename"] or f"{document_id}"
    headers = {
        "Content-Length": str(row["size"]),
        "ETag": f'"{row["sha256"]}"',
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        storage.iter_bytes(row["storage_key"]), media_type=row["media_type"], headers=headers
    )
