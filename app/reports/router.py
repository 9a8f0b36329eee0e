"""HTTP layer of the reports: parse, authorise (``reports:read`` over the unit), answer JSON or,
with ``format``/``Accept``, a flat file of the same figures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.core.errors import Unprocessable, field_error, problem_responses
from app.core.http import VARY_LANGUAGE, FastJSONResponse, LanguageDep
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import IsoDate
from app.db.session import SessionDep
from app.exports import (
    EXPORT_RESPONSES,
    Chunk,
    ExcelQuery,
    ExportFormat,
    FormatQuery,
    Table,
    export_response,
    integer,
    number,
    requested_format,
    text,
)
from app.models.enums import UnitLevel
from app.reports import schemas, service
from app.reports.figures import DENOMINATOR_RULE
from app.units.query import DatedUnit

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, require(Action.REPORTS_READ)]
UnitQuery = Annotated[
    uuid.UUID | None,
    Query(description="The unit whose subtree is reported on; omitted: the whole country "
          "(needs a national grant of reports:read)."),
]  # fmt: skip
YearQuery = Annotated[int, Query(ge=2000, le=2100, description="The year reported on.")]
AsOf = Annotated[
    IsoDate | None,
    Query(description="The map and the register on this day. Default: the last day of `year` "
          "(today while it runs)."),
]  # fmt: skip


def _unit(unit: DatedUnit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {
        "id": unit.unit_id,
        "code": unit.code,
        "name": unit.name,
        "type": unit.type,
        "level": unit.level,
    }


def _communes(figs: service.CommuneFigures) -> dict[str, Any]:
    return {
        "denominator": figs.denominator,
        "denominator_rule": DENOMINATOR_RULE,
        "excluded": dict(figs.excluded),
        "titles": [asdict(t) for t in figs.titles],
    }


def _summary(found: service.Summary) -> dict[str, Any]:
    done = found.attainment
    return {
        "unit": _unit(found.unit),
        "year": found.year,
        "as_of": found.as_of,
        "communes": _communes(found.communes),
        "districts": {
            "count": found.districts.count,
            "titles": [asdict(t) for t in found.districts.titles],
        },
        "villages": {
            "count": found.villages.count,
            "titles": [asdict(t) for t in found.villages.titles],
        },
        "computed_attainment": {
            "assessed": done.assessed,
            "not_assessed": done.not_assessed,
            "average_criteria_met": done.average_criteria_met,
            "criteria_total": done.criteria_total,
            "bands": [asdict(b) for b in done.bands],
            "criteria": [asdict(c) for c in done.criteria],
        },
        "criteria_sets": [asdict(s) for s in found.criteria_sets],
        "freshness": asdict(found.freshness),
    }


SUMMARY_TABLE = Table(
    "report_summary",
    "Summary report: one row per figure",
    (
        text("section", "communes, districts, villages, computed_attainment, bands, criteria."),
        text("key", "The title, band or criterion (and its status) the row counts."),
        number("value", "The count, or the average for average_criteria_met."),
        number("share", "value ÷ denominator, where one applies."),
        integer("denominator", "What the share is of (communes: rural communes on as_of)."),
    ),
)


def _summary_rows(found: service.Summary) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    denominator = found.communes.denominator
    rows.append(("communes", "rural_communes", denominator, None, None))
    for kind, count in found.communes.excluded.items():
        rows.append(("communes", f"excluded_{kind}", count, None, None))
    rows += [
        ("communes", t.title.value, t.count, t.share, denominator) for t in found.communes.titles
    ]
    for section, level in (("districts", found.districts), ("villages", found.villages)):
        rows.append((section, "count", level.count, None, None))
        rows += [(section, t.title.value, t.count, t.share, level.count) for t in level.titles]
    done = found.attainment
    rows.append(("computed_attainment", "assessed", done.assessed, None, denominator))
    rows.append(("computed_attainment", "average_criteria_met", done.average_criteria_met, None,
                 done.assessed))  # fmt: skip
    rows += [
        ("bands", f"{b.min_met}-{b.max_met}", b.count, None, done.assessed) for b in done.bands
    ]
    for c in done.criteria:
        for status in ("met", "basically_met", "not_met", "undetermined"):
            rows.append(("criteria", f"{c.number}:{status}", getattr(c, status), None,
                         done.assessed))  # fmt: skip
    return rows


async def _one(rows: Sequence[tuple[Any, ...]]) -> AsyncIterator[Chunk]:
    yield rows


@router.get(
    "/reports/summary",
    response_model=schemas.Summary,
    summary="Summary of a unit's subtree: titles with their denominators, computed attainment",
    description="Communes per title (count and share of the rural communes in scope on "
    "`as_of`: wards, towns and special zones excluded), districts and villages per title, from "
    "the register; beside them, under `computed_attainment`, what the assessments of `year` "
    "compute (average criteria met, bands, attainment per criterion). States the criteria sets "
    "used with their legal basis and the newest change reflected. `format=csv|xlsx`: one row "
    "per figure.",
    responses={**EXPORT_RESPONSES, **problem_responses(404, 422)},
)
async def summary_report(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    year: YearQuery,
    unit_id: UnitQuery = None,
    as_of: AsOf = None,
    criteria_set_id: Annotated[
        uuid.UUID | None,
        Query(description="Computed attainment against this set (default: NTM commune sets)."),
    ] = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    fmt = requested_format(request, format)
    found = await service.summary(session, principal, unit_id, year, as_of, lang, criteria_set_id)
    if fmt != ExportFormat.JSON:
        return await export_response(
            SUMMARY_TABLE, _one(_summary_rows(found)), fmt,
            query={**request.query_params, "as_of": found.as_of}, excel=excel,
            filename=f"report-summary-{year}",
        )  # fmt: skip
    return FastJSONResponse(_summary(found), headers=VARY_LANGUAGE)


ATTAINMENT_TABLE = Table(
    "criteria_attainment",
    "Computed attainment: one row per commune and criterion",
    (
        text("unit_id", "Id of the commune."),
        text("unit_code", "Code of the commune on as_of."),
        text("unit_name", "Name of the commune on as_of."),
        text("unit_type", "Type of the commune (xa, phuong, thi_tran)."),
        text("province_code", "Code of its province on as_of."),
        text("district_code", "Code of its district on as_of (empty from 2025-07-01)."),
        text("assessment_id", "The assessment evaluated."),
        text("assessment_kind", "appraisal, review, annual_review or self_assessment."),
        text("criteria_set_code", "The criteria set."),
        integer("criterion_number", "Number of the criterion."),
        text("criterion_name", "Name of the criterion."),
        text("status", "met, basically_met, not_met or undetermined."),
    ),
)


def _attainment_row(row: service.CriterionRow) -> dict[str, Any]:
    unit = row.placed.unit
    province = row.placed.parents.get(UnitLevel.PROVINCE.value)
    district = row.placed.parents.get(UnitLevel.DISTRICT.value)
    return {
        "unit_id": unit.unit_id,
        "unit_code": unit.code,
        "unit_name": unit.name,
        "unit_type": unit.type,
        "province_code": province.code if province else None,
        "district_code": district.code if district else None,
        "assessment_id": row.attained.assessment_id,
        "assessment_kind": row.attained.kind.value,
        "criteria_set_code": row.attained.criteria_set_code,
        "criterion_number": row.number,
        "criterion_name": row.name,
        "status": row.status,
    }


@router.get(
    "/reports/criteria-attainment",
    response_model=schemas.CriteriaAttainment,
    summary="Computed attainment: one row per commune and criterion",
    description="Each commune of the subtree with an assessment of `year` (its most "
    "authoritative: appraisal, review, annual review, self-assessment), each criterion's "
    "status. Computed attainment, never a title. `format=csv|xlsx` for a file.",
    responses={**EXPORT_RESPONSES, **problem_responses(404, 422)},
)
async def criteria_attainment_report(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    year: YearQuery,
    unit_id: UnitQuery = None,
    as_of: AsOf = None,
    criteria_set_id: uuid.UUID | None = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    fmt = requested_format(request, format)
    day, rows = await service.criteria_attainment(
        session, principal, unit_id, year, as_of, lang, criteria_set_id
    )
    items = [_attainment_row(row) for row in rows]
    if fmt != ExportFormat.JSON:
        names = ATTAINMENT_TABLE.names
        return await export_response(
            ATTAINMENT_TABLE, _one([tuple(i[n] for n in names) for i in items]), fmt,
            query={**request.query_params, "as_of": day}, excel=excel,
            filename=f"criteria-attainment-{year}",
        )  # fmt: skip
    return FastJSONResponse({"year": year, "as_of": day, "items": items}, headers=VARY_LANGUAGE)


SERIES_TABLE = Table(
    "report_series",
    "Series: one row per year and group",
    (
        integer("year", "The year."),
        text("as_of", "The day of that year's map and register (its last day, or today)."),
        text("group_code", "Code of the group's unit that year (empty: the whole scope)."),
        text("group_name", "Name of the group's unit."),
        text("group_level", "Level of the group's unit."),
        integer("rural_communes", "The denominator: rural communes of the group that day."),
        integer("ntm_commune", "Rural communes holding the NTM title that day (register)."),
        integer("advanced_ntm_commune", "… the advanced NTM title."),
        integer("model_ntm_commune", "… the model NTM title."),
        number("ntm_commune_share", "ntm_commune ÷ rural_communes."),
        integer("assessed", "Rural communes with an assessment of the year."),
        number("average_criteria_met", "Computed: average criteria met per assessed commune."),
    ),
)


def _group(group: service.SeriesGroup) -> dict[str, Any]:
    return {
        "unit": _unit(group.unit),
        "communes": _communes(group.communes),
        "assessed": group.assessed,
        "average_criteria_met": group.average_criteria_met,
    }


def _series_rows(years: list[service.SeriesYear]) -> list[tuple[Any, ...]]:
    rows = []
    for year in years:
        for group in [year.total, *year.groups]:
            titles = {t.title.value: t for t in group.communes.titles}
            ntm = titles.get("ntm_commune")
            rows.append(
                (
                    year.year,
                    year.as_of.isoformat(),
                    group.unit.code if group.unit else None,
                    group.unit.name if group.unit else None,
                    group.unit.level if group.unit else None,
                    group.communes.denominator,
                    ntm.count if ntm else 0,
                    titles["advanced_ntm_commune"].count if "advanced_ntm_commune" in titles else 0,
                    titles["model_ntm_commune"].count if "model_ntm_commune" in titles else 0,
                    ntm.share if ntm else None,
                    group.assessed,
                    group.average_criteria_met,
                )
            )
    return rows


@router.get(
    "/reports/series",
    response_model=schemas.Series,
    summary="The summary's headline figures per year, each year on its own map",
    description="For each year from `from` to `to`: the map and the register on its last day "
    "(today while it runs), the rural communes then as the denominator, communes per title, "
    "and the computed average criteria met; with `group_by` (province, or district until "
    "2025-06-30) the same per unit of that level in that year's map. `format=csv|xlsx`: one "
    "row per year and group.",
    responses={**EXPORT_RESPONSES, **problem_responses(404, 422)},
)
async def series_report(
    request: Request,
    session: SessionDep,
    principal: Reader,
    lang: LanguageDep,
    from_: Annotated[int, Query(alias="from", ge=2000, le=2100)],
    to: Annotated[int, Query(ge=2000, le=2100)],
    unit_id: UnitQuery = None,
    group_by: Annotated[
        UnitLevel | None, Query(description="province or district (a level of each year's map).")
    ] = None,
    format: FormatQuery = None,
    excel: ExcelQuery = False,
) -> Response:
    fmt = requested_format(request, format)
    if group_by is not None and group_by not in service.GROUP_LEVELS:
        raise Unprocessable(
            "Group by province or district.",
            code="level_not_groupable",
            errors=[field_error(["query", "group_by"], "province or district",
                                "level_not_groupable")],
        )  # fmt: skip
    years = await service.series(session, principal, unit_id, from_, to, group_by, lang)
    if fmt != ExportFormat.JSON:
        return await export_response(
            SERIES_TABLE, _one(_series_rows(years)), fmt, query=dict(request.query_params),
            excel=excel, filename=f"report-series-{from_}-{to}",
        )  # fmt: skip
    body = {
        "items": [
            {
                "year": y.year,
                "as_of": y.as_of,
                "root_on_map": y.root_on_map,
                "total": _group(y.total),
                "groups": [_group(g) for g in y.groups],
            }
            for y in years
        ]
    }
    return FastJSONResponse(body, headers=VARY_LANGUAGE)
