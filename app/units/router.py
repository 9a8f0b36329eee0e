"""HTTP layer of the units feature: parse, declare responses, commit once, answer.

Hot reads build plain dicts from Core rows and answer with ``FastJSONResponse``; their
``response_model`` is declared for the OpenAPI document only.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from app.audit.service import AuditContextDep
from app.core import authz
from app.core.clock import today
from app.core.errors import problem_responses
from app.core.http import FastJSONResponse, IfMatch, cached_json, etag_for
from app.core.pagination import CursorQuery, IncludeTotalQuery, page_response, tagged_json
from app.core.permissions import Action
from app.core.security import PUBLIC, Principal, require
from app.core.types import Instant, IsoDate
from app.core.uploads import receive_upload
from app.db.session import SessionDep, reads_per_statement
from app.exports import (
    EXPORT_RESPONSES,
    FILE_RESPONSES,
    ExcelQuery,
    FormatQuery,
    export_response,
    file_format,
    requested_format,
)
from app.models.enums import ExportFormat, UnitLevel
from app.units import classifications, events, exports, imports, lineage, service
from app.units.errors import unit_not_found
from app.units.schemas import (
    AncestorList,
    BulkClassifications,
    ClassificationAssign,
    ClassificationHistory,
    ClassificationResult,
    History,
    ImportResult,
    Lineage,
    Tree,
    UnitCreate,
    UnitDetail,
    UnitEventIn,
    UnitEventOut,
    UnitList,
    UnitPatch,
)

router = APIRouter(tags=["units"])
IMPORT_STATUS_RULE = (
    "\n\nStatus (the rule of every import): a dry run answers 200 with the summary; a real run "
    "201 when it created a village, else 200 (a file sent again); refused rows answer 422 "
    "`import_rejected` in both modes, with the same summary."
)

AsOf = Annotated[
    IsoDate | None,
    Query(description="The date the map is read at (ISO date). Default: today in Viet Nam."),
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (default 50, max 500).")]
MAX_IMPORT_BYTES = 10 * 1024 * 1024
# The map is public to read; changing it needs units:write over every unit a change touches
# (a unit's subtree as it stands today, app.core.authz); None stands for "national" (a new
# province, a unit without parent).
Editor = Annotated[Principal, require(Action.UNITS_WRITE)]


async def _may_change(
    session: SessionDep, principal: Principal, unit_ids: list[uuid.UUID | None]
) -> None:
    await authz.require_all(
        session, principal, Action.UNITS_WRITE, unit_ids, missing=unit_not_found
    )


def _event_units(body: Any) -> list[uuid.UUID | None]:
    """Every existing unit an event names, and the parent of every unit it creates."""
    found: list[uuid.UUID | None] = []
    for name in ("unit_id", "source_id", "move_children_to", "parent_id"):
        if (value := getattr(body, name, None)) is not None:
            found.append(value)
    found += list(getattr(body, "unit_ids", []))
    found += [source.unit_id for source in getattr(body, "sources", [])]
    targets = [*getattr(body, "parts", []), *[t for t in [getattr(body, "target", None)] if t]]
    new_units = [t.new_unit for t in targets if t.new_unit is not None]
    found += [t.into_id for t in targets if t.into_id is not None]
    if (unit := getattr(body, "unit", None)) is not None:
        new_units.append(unit)
    found += [new.parent_id for new in new_units]
    return found


def _unit_response(body: dict[str, Any], etag: str, status: int = 200) -> Response:
    return FastJSONResponse(body, status_code=status, headers={"ETag": etag})


@router.get(
    "/units",
    response_model=UnitList,
    summary="List units valid on a date",
    description="`format=csv|xlsx` (or `Accept: text/csv`, the XLSX media type) answers every "
    "unit the filters select as a file: one row per unit with its parents' codes and names on "
    "`as_of` (columns described in the XLSX's `columns` sheet and in `docs/exports.md`).",
    openapi_extra=PUBLIC,
    responses={**EXPORT_RESPONSES, **problem_responses(422)},
)
@reads_per_statement
async def list_units(
    request: Request,
    session: SessionDep,
    as_of: AsOf = None,
    level: UnitLevel | None = None,
    parent_id: uuid.UUID | None = None,
    within: Annotated[
        uuid.UUID | None,
        Query(
            description="Only units under this one on `as_of`, at any depth (not the unit "
            "itself): `within=<province id>&level=commune` lists a province's communes on the "
            "date, whatever districts stood between them."
        ),
    ] = None,
    code: Annotated[
        str | None,
        Query(max_length=20, description="Official code; leading zeros optional (7444 = 07444)."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Name or code; case- and diacritic-insensitive (`luc nam` finds Lục "
            "Nam, `d` matches `đ`). Exact code matches come first.",
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        Query(
            description="Yes/no classification held on `as_of`: `especially_difficult`, "
            "`safe_zone` (or any `kind:value`)."
        ),
    ] = None,
    classification: Annotated[
        list[str] | None,
        Query(
            description="`kind:value` held on `as_of`, e.g. `ntm_region:TDMNPB`, "
            "`commune_group:1`. Repeat to combine."
        ),
    ] = None,
    updated_since: Annotated[
        Instant | None,
        Query(
            description="Only units changed at or after this instant; ordered by (updated_at, id)."
        ),
    ] = None,
    limit: Limit = 50,
    cursor: CursorQuery = None,
    include_total: IncludeTotalQuery = False,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    service.known_date(as_of)
    fmt = requested_format(request, format)
    pairs = [service.parse_classification(t, ["query", "tag"]) for t in tag or []]
    pairs += [
        service.parse_classification(c, ["query", "classification"]) for c in classification or []
    ]
    filters = service.UnitFilters(
        as_of=as_of or today(),
        level=level,
        parent_id=parent_id,
        within=within,
        code=code,
        q=q if q and q.strip() else None,
        classifications=pairs,
        updated_since=updated_since,
    )
    if fmt != ExportFormat.JSON:
        return await export_response(
            exports.UNITS_TABLE,
            exports.unit_rows(session, filters),
            fmt,
            query={**request.query_params, "as_of": filters.as_of},
            excel=excel,
            filename=f"units-{filters.as_of.isoformat()}",
        )
    items, next_cursor = await service.list_units(session, filters, limit, cursor)
    total = await service.count_units(session, filters) if include_total else None
    return page_response(request, items, next_cursor, total=total)


@router.post(
    "/units",
    response_model=UnitDetail,
    status_code=201,
    summary="Create a unit (e.g. a village under its commune)",
    responses={
        200: {"model": UnitDetail, "description": "The same id and body again: the unit."},
        **problem_responses(409, 422),
    },
)
async def create_unit(
    session: SessionDep, audit: AuditContextDep, principal: Editor, body: UnitCreate
) -> Response:
    await _may_change(session, principal, [body.parent_id])
    unit, etag, created = await service.create_unit(session, audit, body)
    await session.commit()
    response = _unit_response(unit, etag, 201 if created else 200)
    response.headers["Location"] = f"/api/v1/units/{unit['id']}"
    return response


@router.get(
    "/units/tree",
    response_model=Tree,
    summary="A subtree in one response (e.g. a province with all its communes)",
    openapi_extra=PUBLIC,
    responses=problem_responses(404, 422),
)
async def unit_tree(
    request: Request,
    session: SessionDep,
    root_id: Annotated[
        uuid.UUID | None, Query(description="Default: every province (the whole map).")
    ] = None,
    depth: Annotated[int, Query(ge=0, le=service.MAX_TREE_DEPTH)] = service.MAX_TREE_DEPTH,
    as_of: AsOf = None,
) -> Response:
    service.known_date(as_of)
    return tagged_json(request, await service.tree(session, root_id, depth, as_of))


@router.post(
    "/units/import",
    response_model=ImportResult,
    status_code=201,
    summary="Import villages from CSV (all or nothing)",
    description=(imports.__doc__ or "") + IMPORT_STATUS_RULE,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
    responses={
        200: {"model": ImportResult, "description": "A dry run, or nothing was created."},
        **problem_responses(413, 422),
    },
)
async def import_units(
    request: Request,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    as_of: AsOf = None,
    dry_run: Annotated[bool, Query(description="Validate only; write nothing.")] = False,
) -> Response:
    service.known_date(as_of)
    content = await _upload(request)
    result = await imports.import_villages(session, audit, content, as_of, dry_run, principal)
    if not dry_run:
        await session.commit()
    body = ImportResult.model_validate(result).model_dump(mode="json")
    created = not dry_run and result["created"] > 0
    return FastJSONResponse(body, status_code=201 if created else 200)


async def _upload(request: Request) -> bytes:
    async with receive_upload(request, limit=MAX_IMPORT_BYTES, what="CSV") as upload:
        return await asyncio.to_thread(upload.path.read_bytes)


# `:uuid`: a static sibling (`/units/tree, /units/import`) is never taken for an id,
# whatever the method (405 with `Allow`, not 422).
@router.get(
    "/units/{unit_id:uuid}",
    response_model=UnitDetail,
    summary="A unit as it was on a date",
    openapi_extra=PUBLIC,
    description="Without `as_of`: today's version, or for a unit that no longer exists its last "
    "one (see `valid_to`). With `as_of` on a day it did not exist: 404 `unit_not_found`.",
    responses={
        304: {"description": "Not modified (If-None-Match)."},
        **problem_responses(404, 422),
    },
)
@reads_per_statement
async def get_unit(
    request: Request, session: SessionDep, unit_id: uuid.UUID, as_of: AsOf = None
) -> Response:
    service.known_date(as_of)
    unit, etag = await service.get_unit(session, unit_id, as_of)
    return cached_json(request, unit, etag)


@router.patch(
    "/units/{unit_id:uuid}",
    response_model=UnitDetail,
    summary="Change name, type, parent or code from a date (a new version)",
    responses=problem_responses(404, 412, 422),
)
async def patch_unit(
    request: Request,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    unit_id: uuid.UUID,
    body: UnitPatch,
) -> Response:
    unit, etag = await service.patch_unit(
        session, audit, unit_id, body, principal, request.headers.get("if-match")
    )
    await session.commit()
    return _unit_response(unit, etag)


@router.get(
    "/units/{unit_id}/children",
    response_model=UnitList,
    summary="Direct children on a date",
    openapi_extra=PUBLIC,
    responses=problem_responses(404, 422),
)
@reads_per_statement
async def unit_children(
    request: Request,
    session: SessionDep,
    unit_id: uuid.UUID,
    as_of: AsOf = None,
    level: UnitLevel | None = None,
    limit: Limit = 50,
    cursor: CursorQuery = None,
) -> Response:
    service.known_date(as_of)
    items, next_cursor = await service.children(session, unit_id, as_of, level, limit, cursor)
    return page_response(request, items, next_cursor)


@router.get(
    "/units/{unit_id}/ancestors",
    response_model=AncestorList,
    summary="Parents up to the province, on a date",
    openapi_extra=PUBLIC,
    responses=problem_responses(404, 422),
)
@reads_per_statement
async def unit_ancestors(session: SessionDep, unit_id: uuid.UUID, as_of: AsOf = None) -> Response:
    service.known_date(as_of)
    return FastJSONResponse({"items": await service.ancestors(session, unit_id, as_of)})


@router.get(
    "/units/{unit_id}/history",
    response_model=History,
    summary="Every version of the unit over time",
    openapi_extra=PUBLIC,
    responses=problem_responses(404),
)
async def unit_history(session: SessionDep, unit_id: uuid.UUID) -> Response:
    return FastJSONResponse({"unit_id": unit_id, "items": await service.history(session, unit_id)})


@router.get(
    "/units/{unit_id}/lineage",
    response_model=Lineage,
    summary="Predecessors and successors through merges and splits, transitively",
    openapi_extra=PUBLIC,
    responses=problem_responses(404),
)
async def unit_lineage(session: SessionDep, unit_id: uuid.UUID) -> Response:
    return FastJSONResponse(await lineage.lineage(session, unit_id))


@router.get(
    "/units/{unit_id}/classifications",
    response_model=ClassificationHistory,
    summary="Classifications of the unit (all, or those valid on `as_of`)",
    description="Public: no token needed. The `ETag` is the unit's (`GET /units/{unit_id}`): "
    "a unit's classifications are part of it, and every change of them raises its revision.",
    openapi_extra=PUBLIC,
    responses=problem_responses(404, 422),
)
async def unit_classifications(
    request: Request,
    session: SessionDep,
    unit_id: uuid.UUID,
    as_of: Annotated[IsoDate | None, Query(description="Default: the whole history.")] = None,
) -> Response:
    service.known_date(as_of)
    items = await service.unit_classifications(session, unit_id, as_of)
    etag = await service.current_etag(session, unit_id)
    return cached_json(request, {"unit_id": unit_id, "items": items}, etag)


@router.post(
    "/units/{unit_id}/classifications",
    response_model=ClassificationResult,
    summary="Assign a classification from a date (ends the one it replaces)",
    description="Answers with the unit's new `ETag` (a unit's classifications are part of it); "
    "`If-Match` is compared with the unit's current one. Audited; an `Audit-Note` header is "
    "kept with the record.",
    responses=problem_responses(404, 412, 422),
)
async def assign_classification(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    unit_id: uuid.UUID,
    body: ClassificationAssign,
    if_match: IfMatch = None,
) -> Response:
    await _may_change(session, principal, [unit_id])
    outcome = await classifications.assign(
        session, audit, [(unit_id, body, ("body",))], single_unit=unit_id, if_match=if_match
    )
    etag = await service.current_etag(session, unit_id)
    await session.commit()
    result = ClassificationResult(**outcome.as_dict())
    return FastJSONResponse(result.model_dump(mode="json"), headers={"ETag": etag})


@router.post(
    "/unit-classifications/bulk",
    response_model=ClassificationResult,
    summary="Assign many classifications at once (all or nothing)",
    responses=problem_responses(422),
)
async def assign_classifications(
    session: SessionDep, audit: AuditContextDep, principal: Editor, body: BulkClassifications
) -> ClassificationResult:
    await _may_change(session, principal, [item.unit_id for item in body.items])
    items = [(i.unit_id, i, ("body", "items", n)) for n, i in enumerate(body.items)]
    outcome = await classifications.assign(session, audit, items)
    await session.commit()
    return ClassificationResult(**outcome.as_dict())


@router.post(
    "/unit-events",
    response_model=UnitEventOut,
    status_code=201,
    summary="Apply a dated, legally based change of the map (atomic)",
    description="Kinds: `establish`, `dissolve`, `merge`, `split`, `rename`, `reclassify`, "
    "`transfer`. All of it or none of it is applied. The same `id` and body again returns "
    "the event (200); the same `id` with another body is 409.",
    responses={
        200: {"model": UnitEventOut, "description": "Replay of an applied event."},
        **problem_responses(409, 422),
    },
)
async def create_unit_event(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    body: Annotated[UnitEventIn, Body()],
) -> Response:
    await _may_change(session, principal, _event_units(body))
    event, created = await events.apply_event(session, audit, body)
    await session.commit()
    headers = {"ETag": etag_for(event), "Location": f"/api/v1/unit-events/{event['id']}"}
    return FastJSONResponse(event, status_code=201 if created else 200, headers=headers)


@router.get(
    "/unit-events/{event_id}",
    response_model=UnitEventOut,
    summary="An applied change of the map",
    openapi_extra=PUBLIC,
    responses=problem_responses(404),
)
async def get_unit_event(request: Request, session: SessionDep, event_id: uuid.UUID) -> Response:
    # An applied event is a record: nothing but a reload of the bundled dataset rewrites it, so
    # the tag of its representation is cheap and exact.
    return cached_json(request, await events.get_event(session, event_id))


@router.get(
    "/exports/lineage-2025",
    summary="Crosswalk of the 2025 reform: every old commune beside its new commune",
    description="One row per commune of 30/06/2025 (with its district and province then) and "
    "commune of 01/07/2025 it went into (with its province); a commune split between several "
    "new ones has a row for each, flagged `partly`. For reporting across the reform in one "
    "request. CSV (default) or XLSX.",
    openapi_extra=PUBLIC,
    responses={**FILE_RESPONSES, **problem_responses(422)},
    response_class=Response,
)
async def lineage_2025(
    request: Request,
    session: SessionDep,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    fmt = file_format(request, format)
    return await export_response(
        exports.LINEAGE_2025_TABLE,
        exports.lineage_2025_rows(session),
        fmt,
        query=dict(request.query_params),
        excel=excel,
        filename="lineage-2025",
    )
