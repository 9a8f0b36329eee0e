"""HTTP layer of the register of titles: parse, declare responses, commit once, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.audit.service import AuditContextDep
from app.core.clock import today
from app.core.errors import PROBLEM_MEDIA_TYPE, problem_responses
from app.core.http import NOT_MODIFIED, FastJSONResponse, IfMatch, cached_json
from app.core.importing import summary_response
from app.core.pagination import (
    CursorQuery,
    IncludeTotalQuery,
    LimitQuery,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
    model_page_response,
)
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
from app.models.enums import RecognitionSource, RevocationCheck, Title
from app.recognitions import carryover, exports, imports, revocation, service
from app.recognitions.schemas import (
    CarryOverConfirm,
    CarryOverProposalPage,
    RecognitionCreate,
    RecognitionImportRejected,
    RecognitionImportSummary,
    RecognitionOut,
    RecognitionPage,
    RevocationCheckPage,
    RevocationCreate,
    UnitTitles,
)

router = APIRouter(tags=["recognitions"])

Reader = Annotated[Principal, require(Action.RECOGNITIONS_READ)]
Writer = Annotated[Principal, require(Action.RECOGNITIONS_WRITE)]
AsOf = Annotated[
    IsoDate | None,
    Query(description="Only titles held on this day (decision date ≤ day < revocation date)."),
]


def decode_offset_cursor(cursor: str | None) -> int:
    """Lists computed on read (proposals) page by position in their stable order."""
    if cursor is None:
        return 0
    (start,) = decode_cursor(cursor, int)
    if start < 0:
        raise invalid_cursor()
    return int(start)


def written(item: RecognitionOut, status_code: int = 200) -> Response:
    """A write's answer with the recognition's new strong ETag."""
    return FastJSONResponse(
        item.model_dump(mode="json"),
        status_code=status_code,
        headers={
            "ETag": service.etag_of({"id": item.id, "revision": item.revision}),
            "Location": f"/api/v1/recognitions/{item.id}",
        },
    )


@router.get(
    "/recognitions",
    response_model=RecognitionPage,
    summary="The register of titles: recognitions and their revocations",
    description="Titles granted by decisions (from dossiers, historical decisions, imports and "
    "carry-overs after mergers), each with its decision and, once revoked, the revocation. "
    "`within`: a unit's subtree as the map stood on `as_of` (default today; ended units stay "
    "where they last were, their titles as history). `as_of`: only titles held that day. "
    "Ordered by `(updated_at, id)` for sync. `format=csv|xlsx` (or the `Accept` header) "
    "answers every recognition the filters select as a file, one row each with its decision, "
    "revocation and the unit's code, name, type and parents on `as_of` (default today); "
    "columns in the XLSX's `columns` sheet and `docs/exports.md`.",
    responses={**EXPORT_RESPONSES, **problem_responses(422)},
)
async def list_recognitions(
    request: Request,
    session: SessionDep,
    principal: Reader,
    within: Annotated[uuid.UUID | None, Query(description="A unit whose subtree to list.")] = None,
    unit_id: Annotated[uuid.UUID | None, Query(description="One unit only.")] = None,
    title: Title | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description='The year "for".')] = None,
    as_of: AsOf = None,
    source: RecognitionSource | None = None,
    updated_since: Instant | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    include_total: IncludeTotalQuery = False,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    fmt = requested_format(request, format)
    if fmt != ExportFormat.JSON:
        filters = service.list_filters(
            principal=principal,
            within=within,
            unit_id=unit_id,
            title=title,
            year_for=year,
            as_of=as_of,
            source=source,
            updated_since=updated_since,
        )
        day = as_of or today()
        return await export_response(
            exports.RECOGNITIONS_TABLE,
            exports.recognition_rows(session, filters, day),
            fmt,
            query={**request.query_params, "as_of": day},
            excel=excel,
            filename="recognitions",
        )
    page = await service.list_recognitions(
        session,
        principal=principal,
        within=within,
        unit_id=unit_id,
        title=title,
        year_for=year,
        as_of=as_of,
        source=source,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )
    return model_page_response(
        request,
        RecognitionPage(items=page.items, next_cursor=page.next_cursor, total=page.total),
    )


@router.post(
    "/recognitions",
    response_model=RecognitionOut,
    status_code=201,
    summary="Record a decision recognising a unit (e.g. one made before the platform)",
    description="The title is held from `decision_date`; `year_for` is the year it is for. "
    "One recognition per unit, title and year (409 `recognition_exists`). A client-chosen "
    "`id` sent again with the same body answers 200.",
    responses={
        200: {"model": RecognitionOut, "description": "Already recorded (replay)."},
        **problem_responses(404, 409, 422),
    },
)
async def create_recognition(
    session: SessionDep, audit: AuditContextDep, principal: Writer, body: RecognitionCreate
) -> Response:
    item, created = await service.create(session, audit, principal, body)
    await session.commit()
    return written(item, 201 if created else 200)


IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file, as the `file` field of a multipart form, or as the raw body "
        "with its media type.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            imports.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/recognitions/import",
    response_model=RecognitionImportSummary,
    summary="Import a province's history of recognitions from CSV or XLSX",
    description="Columns: `unit_code` (resolved at the title's level on the decision date) or "
    "`unit_id`, `title`, `year_for` (or `year`), `decision_number`, `decision_date` "
    "(YYYY-MM-DD or DD/MM/YYYY), `signer`; optional `issuing_body`, `field`, `note`, and a "
    "revocation (`revocation_decision_number`, `revocation_decision_date`, "
    "`revocation_signer`, `revocation_reason`). A unit, title and year already recorded is "
    "unchanged, or updated when it came from an import or a historical entry. All or nothing "
    "unless `partial=true`; `dry_run=true` counts without writing. Status, as every import: a "
    "dry run 200; a real run 201 when it created recognitions, else 200; refused rows with "
    "nothing (that would be) written 422 `import_rejected` with the summary.",
    openapi_extra=IMPORT_BODY,
    responses={
        201: {"description": "Recognitions were created.", "model": RecognitionImportSummary},
        **problem_responses(400, 413),
        422: {
            "description": "Refused rows (`import_rejected`, with the summary), a file over "
            "the limits, or invalid options.",
            "model": RecognitionImportRejected,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/RecognitionImportRejected"},
                            {"$ref": "#/components/schemas/Problem"},
                        ]
                    }
                }
            },
        },
    },
)
async def import_recognitions(
    request: Request,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    dry_run: Annotated[bool, Query(description="Validate and count; write nothing.")] = False,
    partial: Annotated[bool, Query(description="Write the valid rows even if some fail.")] = False,
) -> Response:
    async with receive_upload(request) as upload:
        params = imports.ImportParams(
            dry_run=dry_run,
            partial=partial,
            declared_format=imports.declared_format(upload.media_type, upload.filename),
            limits=imports.limits_of(request.app.state.settings),
        )
        summary = await imports.run_import(session, audit, upload.path, params, principal)
        if summary["written"]:
            await session.commit()
        return summary_response(summary)


@router.get(
    "/recognitions/carry-over-proposals",
    response_model=CarryOverProposalPage,
    summary="What mergers propose for the units they made (267/BNN-VPĐP)",
    description="For each merge whose new (or extended) unit lies under `within` (on "
    "`effective`, default today): when every predecessor held a title the day before, the "
    "lowest common one (`outcome: carry_over`), recognised without a new dossier once a "
    "provincial user confirms it (`POST /recognitions/carry-over`); otherwise "
    "`procedure_required` and the title to build. Ordered by merger date, event and unit.",
    responses=problem_responses(422),
)
async def carry_over_proposals(
    request: Request,
    session: SessionDep,
    principal: Reader,
    within: Annotated[uuid.UUID | None, Query(description="A unit whose subtree to list.")] = None,
    effective: Annotated[
        IsoDate | None, Query(description="Only the mergers effective that day.")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    found = await carryover.proposals(
        session, principal=principal, within=within, effective=effective
    )
    start = decode_offset_cursor(cursor)
    page = found[start : start + limit]
    following = encode_cursor([start + limit]) if start + limit < len(found) else None
    return model_page_response(request, CarryOverProposalPage(items=page, next_cursor=following))


@router.get(
    "/recognitions/revocation-check",
    response_model=RevocationCheckPage,
    summary="Titled units against their sets' revocation bands (18/2022/QĐ-TTg)",
    description="Each recognition in force on `as_of` (default today) under `within`, against "
    "the latest assessment of its unit (latest year up to `as_of`'s, then appraisal over "
    "review over self-assessment) against a set of its title: `falls_under_band` lists the "
    "failing criteria and the band. `status` (default `falls_under_band`) filters; a set "
    "without bands answers `no_bands`: bands are data an administrator enters.",
    responses=problem_responses(422),
)
async def revocation_check(
    request: Request,
    session: SessionDep,
    principal: Reader,
    within: Annotated[uuid.UUID | None, Query(description="A unit whose subtree to check.")] = None,
    as_of: Annotated[IsoDate | None, Query(description="Default: today in Viet Nam.")] = None,
    title: Title | None = None,
    status: RevocationCheck = RevocationCheck.FALLS_UNDER_BAND,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    day = as_of or today()
    found = await revocation.check(
        session, principal=principal, as_of=day, within=within, title=title, status=status
    )
    start = decode_offset_cursor(cursor)
    following = encode_cursor([start + limit]) if start + limit < len(found) else None
    return model_page_response(
        request,
        RevocationCheckPage(as_of=day, items=found[start : start + limit], next_cursor=following),
    )


@router.post(
    "/recognitions/carry-over",
    response_model=RecognitionOut,
    status_code=201,
    summary="Confirm a carry-over proposal with the provincial decision",
    description="Records a recognition with source `carry_over` for the unit the merge made, "
    "at the proposed (lowest common) title, resting on the predecessors' recognitions, which "
    "stay on them as history.",
    responses=problem_responses(404, 409, 422),
)
async def confirm_carry_over(
    session: SessionDep, audit: AuditContextDep, principal: Writer, body: CarryOverConfirm
) -> Response:
    item = await carryover.confirm(session, audit, principal, body)
    await session.commit()
    return written(item, 201)


@router.get(
    "/recognitions/{recognition_id:uuid}",
    response_model=RecognitionOut,
    summary="A recognition with its decision and revocation",
    responses={**NOT_MODIFIED, **problem_responses(404)},
)
async def get_recognition(
    request: Request, session: SessionDep, principal: Reader, recognition_id: uuid.UUID
) -> Response:
    item, etag = await service.get(session, recognition_id, principal)
    return cached_json(request, item.model_dump(mode="json"), etag)


@router.post(
    "/recognitions/{recognition_id:uuid}/revocation",
    response_model=RecognitionOut,
    summary="Record the decision revoking a recognition (thu hồi)",
    description="The title is no longer held from the revocation's `decision_date`, which must "
    "come after the grant's. `assessment_id`: the assessment it rests on (e.g. found by the "
    "revocation check); its failing criteria and band are kept with the decision. `If-Match` "
    "(the recognition's ETag) is honoured: 412 when stale.",
    responses=problem_responses(404, 409, 412, 422),
)
async def revoke_recognition(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    recognition_id: uuid.UUID,
    body: RevocationCreate,
    if_match: IfMatch = None,
) -> Response:
    item = await revocation.revoke(session, audit, principal, recognition_id, body, if_match)
    await session.commit()
    return written(item)


@router.get(
    "/units/{unit_id:uuid}/recognitions",
    response_model=UnitTitles,
    summary="What a unit held on a day",
    description="The titles the unit held on `as_of` (default today), with their decisions. "
    "A dissolved unit keeps its titles as history: ask with a day it existed. "
    "`format=csv|xlsx` (or the `Accept` header): those recognitions as a file, the rows and "
    "columns of `GET /recognitions?format=csv` (the unit placed on `as_of`), by decision date.",
    responses={**EXPORT_RESPONSES, **problem_responses(404, 422)},
)
async def unit_recognitions(
    request: Request,
    session: SessionDep,
    principal: Reader,
    unit_id: uuid.UUID,
    as_of: Annotated[IsoDate | None, Query(description="Default: today in Viet Nam.")] = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    day = as_of or today()
    fmt = requested_format(request, format)
    if fmt != ExportFormat.JSON:
        await service.require_unit_readable(session, unit_id, principal)
        filters = service.list_filters(principal=None, unit_id=unit_id, as_of=day)
        return await export_response(
            exports.RECOGNITIONS_TABLE,
            exports.recognition_rows(session, filters, day, by_decision=True),
            fmt,
            query={**request.query_params, "as_of": day},
            excel=excel,
            filename=f"recognitions-{day.isoformat()}",
        )
    found = await service.unit_titles(session, unit_id, day, principal)
    return FastJSONResponse(found.model_dump(mode="json"))
