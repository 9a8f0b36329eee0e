"""HTTP layer of the criteria feature: ``/api/v1/criteria-sets``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.audit.service import AuditContextDep
from app.core.errors import problem_responses
from app.core.http import (
    ACCEPT_LANGUAGE,
    VARY_LANGUAGE,
    FastJSONResponse,
    IfMatch,
    Language,
    LanguageDep,
    cached_json,
    not_modified,
)
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    IncludeTotalQuery,
    LimitQuery,
    page_response,
)
from app.core.permissions import Action
from app.core.security import PUBLIC, OptionalPrincipal, Principal, require
from app.core.types import Instant, IsoDate
from app.criteria.document import CriteriaSetDocument, IndicatorDocument
from app.criteria.schemas import (
    CriteriaSetCreate,
    CriteriaSetOut,
    CriteriaSetPage,
    CriteriaSetPatch,
    DeriveRequest,
    ImportCheck,
    IndicatorCreate,
    ResolvedThresholds,
    Status,
    ThresholdsReplace,
)
from app.criteria.service import authoring, reading, resolution
from app.criteria.tree import Tree, export_document, render
from app.db.session import SessionDep, reads_per_statement
from app.models.enums import Title, UnitLevel

router = APIRouter(prefix="/criteria-sets", tags=["criteria"])

# Reads are public for published and retired sets; a draft is shown only to a caller with
# criteria:read over its scope, and is 404 to anyone else (app.criteria.service.reading).
DRAFTS_ARE_PRIVATE = (
    "Published and retired sets are public (no token needed). A draft is visible only with a "
    "token holding `criteria:read` over its scope (nationally for a national draft, over the "
    "province for a province's); to anyone else it is 404 `criteria_set_not_found`."
)
# Writing needs criteria:write over the set's scope: a province's sets in its subtree, national
# sets nationally (app.core.authz).
Editor = Annotated[Principal, require(Action.CRITERIA_WRITE)]


def _set_response(
    tree: Tree, lang: Language, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return FastJSONResponse(
        render(tree, lang),
        status_code=status_code,
        headers={"ETag": reading.etag(tree.head), **VARY_LANGUAGE, **(headers or {})},
    )


def _location(request: Request, tree: Tree) -> dict[str, str]:
    return {"Location": str(request.url_for("get_criteria_set", criteria_set_id=tree.head["id"]))}


@router.get(
    "",
    response_model=CriteriaSetPage,
    summary="List criteria sets",
    description="Published and retired sets are public (no token needed). Drafts are listed "
    "only with a token, those the caller may read (`criteria:read` over the draft's scope: "
    "nationally for a national draft, over the province for a province's).",
    openapi_extra=PUBLIC,
    responses=problem_responses(422),
)
async def list_criteria_sets(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    lang: LanguageDep,
    level: UnitLevel | None = None,
    title: Title | None = None,
    year: Annotated[int | None, Query(ge=1990, le=2100, description="Period contains it.")] = None,
    scope_unit_id: uuid.UUID | None = None,
    national: Annotated[
        bool | None, Query(description="Only national (or provincial) sets.")
    ] = None,
    status: Status | None = None,
    code: Annotated[str | None, Query(max_length=100)] = None,
    updated_since: Instant | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    include_total: IncludeTotalQuery = False,
) -> Response:
    items, next_cursor, total = await reading.list_sets(
        session,
        principal,
        lang,
        level=level,
        title=title,
        year=year,
        scope_unit_id=scope_unit_id,
        national=national,
        status=status,
        code=code,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )
    return page_response(request, items, next_cursor, VARY_LANGUAGE, total=total)


@router.post(
    "",
    response_model=CriteriaSetOut,
    status_code=201,
    summary="Create a draft criteria set from a whole document",
    responses={
        200: {"model": CriteriaSetOut, "description": "The same id and body again"},
        **problem_responses(409, 422),
    },
)
async def create_criteria_set(
    request: Request,
    body: CriteriaSetCreate,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
) -> Response:
    doc = CriteriaSetDocument.model_validate(body.model_dump(exclude={"id"}, exclude_unset=True))
    tree, created = await authoring.create(session, audit, doc, set_id=body.id, principal=principal)
    await session.commit()
    return _set_response(tree, lang, 201 if created else 200, _location(request, tree))


@router.post(
    "/import",
    response_model=CriteriaSetOut,
    status_code=201,
    summary="Import a document (as exported) as a new draft",
    description="Status (the rule of every import): a dry run answers 200 with the checks' "
    "summary; a real run 201 with the new draft (it always creates one: a code that exists "
    "answers 409); a document that fails a check answers 422 in both modes, with the same "
    "errors.",
    responses={
        200: {"model": ImportCheck, "description": "dry_run: every check passed"},
        **problem_responses(409, 413, 422),
    },
)
async def import_criteria_set(
    request: Request,
    document: CriteriaSetDocument,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
    dry_run: Annotated[bool, Query(description="Check without writing.")] = False,
) -> Response:
    if dry_run:
        prepared = await authoring.check_import(session, document, principal)
        return FastJSONResponse(
            {
                "valid": True,
                "code": document.code,
                "criteria_count": len(document.criteria),
                "indicator_count": sum(len(c.indicators) for c in document.criteria),
                "complete": prepared.complete,
                "missing": prepared.missing,
            }
        )
    tree, _ = await authoring.create(session, audit, document, action="import", principal=principal)
    await session.commit()
    return _set_response(tree, lang, 201, _location(request, tree))


# `:uuid`: a static sibling (`/criteria-sets/import`) is never taken for an id,
# whatever the method (405 with `Allow`, not 422).
@router.get(
    "/{criteria_set_id:uuid}",
    response_model=CriteriaSetOut,
    summary="A criteria set with its groups, criteria, indicators and thresholds",
    description=DRAFTS_ARE_PRIVATE,
    openapi_extra=PUBLIC,
    responses={304: {"description": "Not modified"}, **problem_responses(404)},
)
@reads_per_statement
async def get_criteria_set(
    request: Request,
    criteria_set_id: uuid.UUID,
    session: SessionDep,
    principal: OptionalPrincipal,
    lang: LanguageDep,
) -> Response:
    head = await reading.readable_head(session, principal, criteria_set_id)
    tag = reading.etag(head)
    cached = not_modified(request, tag, vary=ACCEPT_LANGUAGE)
    if cached is not None:
        return cached
    return Response(
        await reading.rendered(session, head, lang),
        media_type="application/json",
        headers={"ETag": tag, **VARY_LANGUAGE},
    )


@router.patch(
    "/{criteria_set_id:uuid}",
    response_model=CriteriaSetOut,
    summary="Edit a draft (each key given replaces that part)",
    responses=problem_responses(404, 409, 412, 422),
)
async def update_criteria_set(
    criteria_set_id: uuid.UUID,
    body: CriteriaSetPatch,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
    if_match: IfMatch = None,
) -> Response:
    changes: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True)
    tree = await authoring.update(session, audit, criteria_set_id, changes, if_match, principal)
    await session.commit()
    return _set_response(tree, lang)


@router.post(
    "/{criteria_set_id}/publish",
    response_model=CriteriaSetOut,
    summary="Publish a draft; it is immutable from then on",
    responses=problem_responses(404, 409, 412, 422),
)
async def publish_criteria_set(
    criteria_set_id: uuid.UUID,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
    if_match: IfMatch = None,
) -> Response:
    tree = await authoring.publish(session, audit, criteria_set_id, if_match, principal)
    await session.commit()
    return _set_response(tree, lang)


@router.post(
    "/{criteria_set_id}/retire",
    response_model=CriteriaSetOut,
    summary="Retire a published set",
    responses=problem_responses(404, 409, 412),
)
async def retire_criteria_set(
    criteria_set_id: uuid.UUID,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
    if_match: IfMatch = None,
) -> Response:
    tree = await authoring.retire(session, audit, criteria_set_id, if_match, principal)
    await session.commit()
    return _set_response(tree, lang)


@router.post(
    "/{criteria_set_id}/derive",
    response_model=CriteriaSetOut,
    status_code=201,
    summary="Start a province's specification of a published set (a draft inheriting everything)",
    responses={
        200: {"model": CriteriaSetOut, "description": "The same id again"},
        **problem_responses(404, 409, 422),
    },
)
async def derive_criteria_set(
    request: Request,
    criteria_set_id: uuid.UUID,
    body: DeriveRequest,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
) -> Response:
    tree, created = await authoring.derive(
        session,
        audit,
        criteria_set_id,
        code=body.code,
        name=body.name,
        legal_basis=body.legal_basis,
        unit_id=body.unit_id,
        unit_code=body.unit_code,
        as_of=body.as_of,
        period=body.period,
        set_id=body.id,
        principal=principal,
    )
    await session.commit()
    return _set_response(tree, lang, 201 if created else 200, _location(request, tree))


@router.post(
    "/{criteria_set_id}/indicators",
    response_model=CriteriaSetOut,
    status_code=201,
    summary="Add an indicator to a criterion of a draft",
    responses=problem_responses(404, 409, 412, 422),
)
async def add_indicator(
    criteria_set_id: uuid.UUID,
    body: IndicatorCreate,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
    if_match: IfMatch = None,
) -> Response:
    indicator = IndicatorDocument.model_validate(
        body.model_dump(exclude={"criterion"}, exclude_unset=True)
    )
    tree = await authoring.add_indicator(
        session, audit, criteria_set_id, body.criterion, indicator, if_match, principal
    )
    await session.commit()
    return _set_response(tree, lang, 201)


@router.put(
    "/{criteria_set_id}/indicators/{code}/thresholds",
    response_model=CriteriaSetOut,
    summary="Replace the set's own thresholds of an indicator (a province's overrides)",
    responses=problem_responses(404, 409, 412, 422),
)
async def replace_thresholds(
    criteria_set_id: uuid.UUID,
    code: str,
    body: ThresholdsReplace,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Editor,
    lang: LanguageDep,
    if_match: IfMatch = None,
) -> Response:
    tree = await authoring.replace_thresholds(
        session, audit, criteria_set_id, code, body.thresholds, if_match, principal
    )
    await session.commit()
    return _set_response(tree, lang)


@router.get(
    "/{criteria_set_id}/thresholds",
    response_model=ResolvedThresholds,
    summary="Each indicator's threshold as it applies to a unit in a year, with the reason",
    description=DRAFTS_ARE_PRIVATE,
    openapi_extra=PUBLIC,
    responses={304: {"description": "Not modified"}, **problem_responses(404, 422)},
)
@reads_per_statement
async def resolve_thresholds(
    request: Request,
    criteria_set_id: uuid.UUID,
    session: SessionDep,
    principal: OptionalPrincipal,
    unit_id: uuid.UUID,
    year: Annotated[int, Query(ge=1990, le=2100)],
    lang: LanguageDep,
    as_of: Annotated[
        IsoDate | None,
        Query(description="Date the unit is read at (default: 31 December of year)."),
    ] = None,
) -> Response:
    body = await resolution.resolve_for(
        session, principal, criteria_set_id, unit_id, year, as_of, lang
    )
    return cached_json(request, body, vary=ACCEPT_LANGUAGE)


@router.get(
    "/{criteria_set_id}/export",
    response_model=CriteriaSetDocument,
    summary="The set as an ntm.criteria-set/1 document (import it elsewhere)",
    description=DRAFTS_ARE_PRIVATE + " The document is the same in every language (both "
    "names are in it), so it does not vary with `Accept-Language`.",
    openapi_extra=PUBLIC,
    responses={304: {"description": "Not modified"}, **problem_responses(404)},
)
async def export_criteria_set(
    request: Request,
    criteria_set_id: uuid.UUID,
    session: SessionDep,
    principal: OptionalPrincipal,
) -> Response:
    head = await reading.readable_head(session, principal, criteria_set_id)
    current = reading.etag(head)
    cached = not_modified(request, current)
    if cached is not None:
        return cached
    tree = await reading.build_tree(session, head)
    return FastJSONResponse(
        export_document(tree),
        headers={
            "ETag": current,
            "Content-Disposition": f'attachment; filename="{head["code"]}.json"',
        },
    )
