"""HTTP layer of the flat exports of assessments (``/exports/…``: tables that exist only as
files; ``GET /assessments?format=csv`` is in ``router/assessments.py``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import exports
from app.core.clock import today
from app.core.errors import problem_responses
from app.core.http import Language, LanguageDep
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import IsoDate
from app.db.session import SessionDep
from app.exports import (
    FILE_RESPONSES,
    Chunk,
    ExcelQuery,
    FormatQuery,
    Table,
    export_response,
    file_format,
)
from app.models.assessments import AssessmentKind, AssessmentStatus

router = APIRouter(tags=["exports"])
Reader = Annotated[Principal, require(Action.ASSESSMENTS_READ)]

Rows = Callable[[AsyncSession, exports.ExportFilters, Language], AsyncIterator[Chunk]]
WithinQuery = Annotated[
    uuid.UUID | None,
    Query(description="Only units in this unit's subtree on `as_of` (the unit included)."),
]
ExportAsOf = Annotated[
    IsoDate | None,
    Query(
        description="The date units are named and placed at (codes, names, parents). Default: "
        "the last day of `year` (today if earlier), else today."
    ),
]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]

COMMON = (
    " Filters: `unit_id` (a subtree), `criteria_set_id`, `year`, `kind`, `status`; only "
    "assessments of units the caller may read. CSV (default) or XLSX; the columns are described "
    "in the XLSX's `columns` sheet and in `docs/exports.md`."
)


def export_day(as_of: date | None, year: int | None) -> date:
    if as_of is not None:
        return as_of
    now = today()
    if year is not None and year < now.year:
        return date(year, 12, 31)
    return now


async def _export(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    lang: Language,
    table: Table,
    rows: Rows,
    *,
    format: FormatQuery,
    excel: bool,
    unit_id: uuid.UUID | None,
    criteria_set_id: uuid.UUID | None,
    year: int | None,
    kind: AssessmentKind | None,
    status: AssessmentStatus | None,
    as_of: date | None,
) -> Response:
    fmt = file_format(request, format)
    day = export_day(as_of, year)
    filters = exports.filters_for(
        principal,
        on=day,
        within=unit_id,
        criteria_set_id=criteria_set_id,
        year=year,
        kind=kind.value if kind else None,
        status=status.value if status else None,
    )
    suffix = f"-{year}" if year is not None else ""
    return await export_response(
        table,
        rows(session, filters, lang),
        fmt,
        query={**request.query_params, "as_of": day},
        excel=excel,
        filename=f"{table.name.replace('_', '-')}{suffix}",
    )


@router.get(
    "/exports/indicator-values",
    summary="Indicator values as a flat table: one row per unit (assessment) and indicator",
    description="Every stored value, with the unit's code, name, type and parents on `as_of`, "
    "the indicator's code and name." + COMMON,
    responses={**FILE_RESPONSES, **problem_responses(422)},
    response_class=Response,
)
async def export_indicator_values(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    unit_id: WithinQuery = None,
    criteria_set_id: uuid.UUID | None = None,
    year: YearQuery = None,
    kind: AssessmentKind | None = None,
    status: AssessmentStatus | None = None,
    as_of: ExportAsOf = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    return await _export(
        request, session, principal, lang, exports.INDICATOR_VALUES_TABLE, exports.value_rows,
        format=format, excel=excel, unit_id=unit_id, criteria_set_id=criteria_set_id,
        year=year, kind=kind, status=status, as_of=as_of,
    )  # fmt: skip


@router.get(
    "/exports/criterion-results",
    summary="Criteria evaluated as a flat table: one row per unit (assessment) and criterion",
    description="Each criterion's status (met, basically met, not met, undetermined) as the "
    "evaluation computes it: computed attainment, not a recognition." + COMMON,
    responses={**FILE_RESPONSES, **problem_responses(422)},
    response_class=Response,
)
async def export_criterion_results(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    unit_id: WithinQuery = None,
    criteria_set_id: uuid.UUID | None = None,
    year: YearQuery = None,
    kind: AssessmentKind | None = None,
    status: AssessmentStatus | None = None,
    as_of: ExportAsOf = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    return await _export(
        request, session, principal, lang, exports.CRITERION_RESULTS_TABLE,
        exports.criterion_rows, format=format, excel=excel, unit_id=unit_id,
        criteria_set_id=criteria_set_id, year=year, kind=kind, status=status, as_of=as_of,
    )  # fmt: skip


@router.get(
    "/exports/evaluation-results",
    summary="Evaluation results as a flat table: one row per assessment",
    description='Criteria met ("đạt N/M tiêu chí"), basically met, not met, undetermined, '
    "and whether the title is attainable: computed attainment, not a recognition." + COMMON,
    responses={**FILE_RESPONSES, **problem_responses(422)},
    response_class=Response,
)
async def export_evaluation_results(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    unit_id: WithinQuery = None,
    criteria_set_id: uuid.UUID | None = None,
    year: YearQuery = None,
    kind: AssessmentKind | None = None,
    status: AssessmentStatus | None = None,
    as_of: ExportAsOf = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    return await _export(
        request, session, principal, lang, exports.EVALUATION_RESULTS_TABLE,
        exports.evaluation_rows, format=format, excel=excel, unit_id=unit_id,
        criteria_set_id=criteria_set_id, year=year, kind=kind, status=status, as_of=as_of,
    )  # fmt: skip
