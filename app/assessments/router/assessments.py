"""HTTP layer of assessments: parse, declare responses, commit once, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from app.assessments import exports, present
from app.assessments.router.exports import ExportAsOf, export_day
from app.assessments.schemas import (
    Assessment,
    AssessmentCreate,
    AssessmentDetail,
    AssessmentPage,
    AssessmentPatch,
    Comparison,
    ConditionsPut,
    Evaluation,
    Gaps,
    History,
    JudgementsPut,
    ValuesPut,
    ValuesResult,
)
from app.assessments.service import assessments as service
from app.assessments.service import evaluation as evaluation_service
from app.assessments.service import values as values_service
from app.audit.service import AuditContextDep
from app.core.errors import problem_responses
from app.core.http import (
    ACCEPT_LANGUAGE,
    NOT_MODIFIED,
    VARY_LANGUAGE,
    FastJSONResponse,
    IfMatch,
    LanguageDep,
    cached_json,
    revision_etag,
)
from app.core.pagination import CursorQuery, IncludeTotalQuery, LimitQuery, page_response
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import Instant
from app.db.session import SessionDep, reads_per_statement
from app.exports import (
    EXPORT_RESPONSES,
    ExcelQuery,
    ExportFormat,
    FormatQuery,
    export_response,
    requested_format,
)
from app.models.assessments import AssessmentKind, AssessmentStatus

router = APIRouter(tags=["assessments"])

# Route-level: the caller holds the action somewhere (401/403); the service then checks the
# assessment's unit (404 outside every scope, 403 where only visible).
Reader = Annotated[Principal, require(Action.ASSESSMENTS_READ)]
Writer = Annotated[Principal, require(Action.ASSESSMENTS_WRITE)]
Reviewer = Annotated[Principal, require(Action.ASSESSMENTS_REVIEW)]

AssessmentId = Annotated[uuid.UUID, "the assessment"]


def _written(body: dict[str, Any], assessment_id: uuid.UUID, status_code: int = 200) -> Response:
    """A write's answer with the assessment's new strong ETag (for the next If-Match)."""
    etag = revision_etag(assessment_id, body["revision"])
    return FastJSONResponse(body, status_code=status_code, headers={"ETag": etag})


@router.post(
    "/assessments",
    response_model=Assessment,
    status_code=201,
    summary="Create an assessment of a unit against a criteria set for a year",
    description="A client may supply `id` (offline creation): the same id and body again answers "
    "200 with the existing assessment; the same id with another body is 409 "
    "`assessment_id_conflict`. The set must be published, the year inside its period and the "
    "unit of the set's level in that year.",
    responses={
        200: {"model": Assessment, "description": "Already created (replay)."},
        **problem_responses(409, 422),
    },
)
async def create_assessment(
    session: SessionDep, audit: AuditContextDep, principal: Writer, body: AssessmentCreate
) -> Response:
    item, created = await service.create(session, audit, body, principal)
    await session.commit()
    response = _written(item, item["id"], 201 if created else 200)
    response.headers["Location"] = f"/api/v1/assessments/{item['id']}"
    return response


@router.get(
    "/assessments",
    response_model=AssessmentPage,
    summary="List assessments",
    description="Ordered by `(updated_at, id)` for sync. `include=evaluation` adds each one's "
    "evaluation summary (computed set-based for the page). `format=csv|xlsx` (or the `Accept` "
    "header) answers every assessment the filters select as a file, one row each with the "
    "unit's code, name, type and parents on `as_of` (default: the last day of `year`, or "
    "today); `/exports/evaluation-results` has the evaluations.",
    responses={**EXPORT_RESPONSES, **problem_responses(422)},
)
async def list_assessments(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    unit_id: uuid.UUID | None = None,
    within: Annotated[
        uuid.UUID | None,
        Query(
            description="Only assessments of units under this one (any depth, not the unit "
            "itself), under it at any date: `within=<province id>`."
        ),
    ] = None,
    criteria_set_id: uuid.UUID | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: AssessmentKind | None = None,
    status: AssessmentStatus | None = None,
    updated_since: Instant | None = None,
    include: Literal["evaluation"] | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    include_total: IncludeTotalQuery = False,
    as_of: ExportAsOf = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    fmt = requested_format(request, format)
    if fmt != ExportFormat.JSON:
        day = export_day(as_of, year)
        filters = exports.filters_for(
            principal,
            on=day,
            unit_id=unit_id,
            criteria_set_id=criteria_set_id,
            year=year,
            kind=kind.value if kind else None,
            status=status.value if status else None,
            updated_since=updated_since,
        )
        return await export_response(
            exports.ASSESSMENTS_TABLE,
            exports.assessment_rows(session, filters, lang),
            fmt,
            query={**request.query_params, "as_of": day},
            excel=excel,
            filename="assessments",
        )
    page = await service.list_assessments(
        session,
        unit_id=unit_id,
        within=within,
        criteria_set_id=criteria_set_id,
        year=year,
        kind=kind.value if kind else None,
        status=status.value if status else None,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
        with_evaluation=include == "evaluation",
        language=lang,
        principal=principal,
        include_total=include_total,
    )
    return page_response(request, page.items, page.next_cursor, VARY_LANGUAGE, total=page.total)


@router.get(
    "/assessments/compare",
    response_model=Comparison,
    summary="Which criteria changed status between two assessments of the same unit",
    description="Two years, or the commune's self-assessment against the council's appraisal. "
    "Criteria are matched by number.",
    responses=problem_responses(404, 422),
)
async def compare_assessments(
    session: SessionDep, principal: Reader, lang: LanguageDep, a: uuid.UUID, b: uuid.UUID
) -> Response:
    result = await evaluation_service.compare(session, a, b, lang, principal)
    return FastJSONResponse(present.comparison(result, lang), headers=VARY_LANGUAGE)


# `:uuid`: a static sibling (`/assessments/compare`) is never taken for an id,
# whatever the method (405 with `Allow`, not 422).
@router.get(
    "/assessments/{assessment_id:uuid}",
    response_model=AssessmentDetail,
    summary="An assessment with its values and evaluation summary",
    responses={**NOT_MODIFIED, **problem_responses(404)},
)
async def get_assessment(
    request: Request,
    session: SessionDep,
    principal: Reader,
    assessment_id: uuid.UUID,
    lang: LanguageDep,
) -> Response:
    body, etag = await service.detail(session, assessment_id, lang, principal)
    return cached_json(request, body, etag, vary=ACCEPT_LANGUAGE)


@router.patch(
    "/assessments/{assessment_id:uuid}",
    response_model=Assessment,
    summary="Change the status (draft → submitted → locked) or the note",
    responses=problem_responses(404, 409, 412, 422),
)
async def patch_assessment(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    assessment_id: uuid.UUID,
    body: AssessmentPatch,
    if_match: IfMatch = None,
) -> Response:
    item = await service.patch(session, audit, assessment_id, body, principal, if_match)
    await session.commit()
    return _written(item, assessment_id)


@router.put(
    "/assessments/{assessment_id}/values",
    response_model=ValuesResult,
    summary="Upsert many indicator values at once",
    description="Each value is validated against its indicator (kind, range); `value: null` "
    "removes one. Every replaced or removed value is kept in the history. A locked assessment "
    "refuses changes (409 `assessment_locked`).",
    responses=problem_responses(404, 409, 412, 422),
)
async def put_values(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    assessment_id: uuid.UUID,
    body: ValuesPut,
    if_match: IfMatch = None,
) -> Response:
    result = await values_service.put_values(
        session, audit, assessment_id, body, principal, if_match
    )
    await session.commit()
    return _written(result, assessment_id)


@router.put(
    "/assessments/{assessment_id}/judgements",
    summary="Record reviewers' judgements of whole criteria (with reasons)",
    description="The only way a criterion becomes *cơ bản đạt* (basically met). `status: null` "
    "withdraws a judgement.",
    responses=problem_responses(404, 409, 412, 422),
)
async def put_judgements(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Reviewer,
    assessment_id: uuid.UUID,
    body: JudgementsPut,
    if_match: IfMatch = None,
) -> Response:
    result = await values_service.put_judgements(
        session, audit, assessment_id, body, principal, if_match
    )
    await session.commit()
    return _written(result, assessment_id)


@router.put(
    "/assessments/{assessment_id}/conditions",
    summary="Record the values of the set's recognition conditions",
    description="Residents' satisfaction (%), no outstanding construction debt, not a complex "
    "security area (18/2022/QĐ-TTg art. 4), by the codes the set defines.",
    responses=problem_responses(404, 409, 412, 422),
)
async def put_conditions(
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    assessment_id: uuid.UUID,
    body: ConditionsPut,
    if_match: IfMatch = None,
) -> Response:
    result = await values_service.put_conditions(
        session, audit, assessment_id, body, principal, if_match
    )
    await session.commit()
    return _written(result, assessment_id)


@router.get(
    "/assessments/{assessment_id}/values/history",
    response_model=History,
    summary="Every version of the assessment's values",
    responses=problem_responses(404, 422),
)
async def values_history(
    session: SessionDep,
    principal: Reader,
    assessment_id: uuid.UUID,
    indicator_id: uuid.UUID | None = None,
    indicator_code: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    body = await values_service.history(
        session, assessment_id, indicator_id, indicator_code, principal
    )
    return FastJSONResponse(body)


@router.get(
    "/assessments/{assessment_id}/evaluation",
    response_model=Evaluation,
    summary="Evaluation: indicators, criteria, conditions, prerequisites, revocation",
    description="Computed from the stored values on every read. Each indicator carries the "
    "threshold that applies to the unit that year and the reason (from the criteria feature).",
    responses={**NOT_MODIFIED, **problem_responses(404, 422)},
)
@reads_per_statement
async def get_evaluation(
    request: Request,
    session: SessionDep,
    principal: Reader,
    assessment_id: uuid.UUID,
    lang: LanguageDep,
) -> Response:
    result = await evaluation_service.evaluation(session, assessment_id, lang, principal)
    return cached_json(request, present.evaluation(result, lang), vary=ACCEPT_LANGUAGE)


@router.get(
    "/assessments/{assessment_id}/gaps",
    response_model=Gaps,
    summary="What is missing for the title, by criterion, with the distance to each threshold",
    responses={**NOT_MODIFIED, **problem_responses(404, 422)},
)
async def get_gaps(
    request: Request,
    session: SessionDep,
    principal: Reader,
    assessment_id: uuid.UUID,
    lang: LanguageDep,
) -> Response:
    result = await evaluation_service.gaps(session, assessment_id, lang, principal)
    return cached_json(request, present.gaps(result, lang), vary=ACCEPT_LANGUAGE)
