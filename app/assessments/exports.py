"""Flat exports of assessments for reporting tools: one row per assessment, per stored indicator
value (unit × indicator), per criterion evaluated (unit × criterion) and per evaluation.

Values stream by chunks of assessments (a server-side cursor over the assessments, their values
by primary key); evaluations are computed by the same
engine as ``GET /assessments/{id}/evaluation``, a chunk of assessments at a time (read by keyset),
so memory holds one chunk whatever the size of the export.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import engine
from app.assessments.repository import exports as repo
from app.assessments.service import criteria as criteria_port
from app.assessments.service.evaluation import Loaded, evaluate, load_many
from app.core import authz
from app.core.errors import ProblemError
from app.core.http import Language
from app.core.permissions import Action
from app.core.security import Principal
from app.db.dialect import for_session
from app.exports import (
    UNIT_COLUMNS,
    Chunk,
    Table,
    boolean,
    identifier,
    instant,
    integer,
    number,
    stream_rows,
    text,
)
from app.exports.copy import copied, table_sql
from app.models.enums import IndicatorStatus

ExportFilters = repo.ExportFilters
# Assessments evaluated per chunk: a few MB of values and results at most.
EVALUATION_CHUNK = 500
# Assessments per chunk of the values export: about 13,000 values (66 per assessment) a chunk.
VALUE_CHUNK_ASSESSMENTS = 200

_HEAD = (
    identifier("assessment_id", "Id of the assessment."),
    *UNIT_COLUMNS,
    integer("year", "Year assessed."),
    text("kind", "Whose view: self_assessment, review, appraisal, annual_review."),
    text("assessment_status", "draft, submitted or locked."),
    identifier("criteria_set_id", "Id of the criteria set."),
    text("criteria_set_code", "Code of the criteria set."),
)

ASSESSMENTS_TABLE = Table(
    "assessments",
    "Assessments",
    (
        *_HEAD,
        integer("revision", "Revision of the assessment (its ETag counts it)."),
        instant("created_at", "Created (UTC)."),
        instant("updated_at", "Last change of the assessment or anything it holds (UTC)."),
        instant("submitted_at", "Submitted (UTC)."),
        instant("locked_at", "Locked (UTC)."),
    ),
)

INDICATOR_VALUES_TABLE = Table(
    "indicator_values",
    "Indicator values: one row per unit (assessment) and indicator with a stored value",
    (
        *_HEAD,
        integer("criterion_number", "Number of the criterion the indicator belongs to."),
        identifier("indicator_id", "Id of the indicator."),
        text("indicator_code", "Code of the indicator within the set (e.g. 17.8)."),
        text("indicator_name", "Name of the indicator."),
        text("indicator_unit", "Unit of measure of a number (%, km, …)."),
        number("value_number", "The value, when a number."),
        boolean("value_bool", "The value, when yes/no."),
        text("judgement", "The appraiser's judgement, for a judged indicator."),
        text("judgement_reason", "The reasons given with the judgement."),
        text("note", "Note entered with the value."),
        text("source", "Where the value came from: api, or import:<id>."),
        instant("entered_at", "When the value was entered (UTC)."),
        text("entered_by_name", "Who entered it."),
    ),
)

CRITERION_RESULTS_TABLE = Table(
    "criterion_results",
    "Criteria evaluated: one row per unit (assessment) and criterion (computed attainment)",
    (
        *_HEAD,
        integer("criterion_number", "Number of the criterion (1–19 in 2021–2025)."),
        text("criterion_name", "Name of the criterion."),
        text("criterion_group", "Group of the criterion."),
        text("rule", "How the criterion is met: all, any, at_least_<k>, judgement."),
        text(
            "criterion_status",
            "met, basically_met, not_met or undetermined (a reviewer's judgement wins over the "
            "computed status).",
        ),
        text("computed_status", "The status computed from the indicators alone."),
        text("judgement_status", "A reviewer's recorded judgement of the criterion, if any."),
        text("judgement_reason", "The reasons recorded with that judgement."),
        integer("indicators_total", "Indicators of the criterion."),
        integer("indicators_met", "Indicators met."),
        integer("indicators_missing", "Indicators without a value."),
    ),
)

EVALUATION_RESULTS_TABLE = Table(
    "evaluation_results",
    "Evaluation results: one row per assessment (computed attainment, not a recognition)",
    (
        *_HEAD,
        text("title", "The title the set is for (computed attainment, never the official title)."),
        integer("criteria_total", "Criteria of the set."),
        integer("criteria_met", 'Criteria met: the headline "đạt N/M tiêu chí".'),
        integer("criteria_basically_met", "Criteria basically met (cơ bản đạt)."),
        integer("criteria_not_met", "Criteria not met."),
        integer("criteria_undetermined", "Criteria that cannot be decided yet."),
        integer("indicators_total", "Indicators of the set."),
        integer("indicators_met", "Indicators met."),
        integer("indicators_missing", "Indicators without a value."),
        boolean(
            "title_attainable",
            "Whether everything checkable for the title is met (empty: met as far as it can be "
            "checked, but a condition or prerequisite is not verified yet).",
        ),
        boolean("revocation_band", "Whether the failing criteria fall under a revocation band."),
        text(
            "error",
            "Why the assessment could not be evaluated (its unit is not on the map of "
            "its year), empty otherwise.",
        ),
    ),
)


def filters_for(principal: Principal | None, **given: Any) -> ExportFilters:
    """The export's filters, restricted to the units the caller may read assessments of."""
    visible = authz.scope(principal, Action.ASSESSMENTS_READ).clause(repo.ASSESSMENTS.c.unit_id)
    return ExportFilters(visible=visible, **given)


@dataclass
class _Sets:
    """The criteria sets an export meets, loaded once each (cached per process once published)."""

    session: AsyncSession
    language: Language
    specs: dict[uuid.UUID, engine.SetSpec]

    async def load(self, filters: ExportFilters) -> None:
        statement = (
            repo.assessments_select(filters)
            .with_only_columns(repo.ASSESSMENTS.c.criteria_set_id)
            .order_by(None)
            .distinct()
        )
        for set_id in (await self.session.execute(statement)).scalars().all():
            self.specs[set_id] = await criteria_port.load_set(self.session, set_id, self.language)

    def code(self, set_id: uuid.UUID) -> str | None:
        spec = self.specs.get(set_id)
        return spec.code if spec else None


async def _sets(session: AsyncSession, filters: ExportFilters, language: Language) -> _Sets:
    sets = _Sets(session, language, {})
    await sets.load(filters)
    return sets


_PLACED = len(UNIT_COLUMNS)


def _head(row: Sequence[Any], sets: _Sets) -> list[Any]:
    """assessment id, placement, year, kind, status, set id, set code (from a row that starts
    with the first ``_PLACED + 5`` columns of ``repo.assessments_select``)."""
    head = list(row[: _PLACED + 5])
    head.append(sets.code(row[_PLACED + 4]))
    return head


async def assessment_rows(
    session: AsyncSession, filters: ExportFilters, language: Language
) -> AsyncIterator[Chunk]:
    sets = await _sets(session, filters, language)
    tail = slice(_PLACED + 5, _PLACED + 10)
    async for chunk in stream_rows(session, repo.assessments_select(filters)):
        yield [(*_head(row, sets), *row[tail]) for row in chunk]


def _indicators(sets: _Sets) -> dict[uuid.UUID, tuple[Any, ...]]:
    """Each indicator of the sets met: criterion number, id, code, name, unit."""
    indicators: dict[uuid.UUID, tuple[Any, ...]] = {}
    for spec in sets.specs.values():
        numbers = {criterion.id: criterion.number for criterion in spec.criteria}
        for indicator in spec.indicators:
            indicators[indicator.id] = (
                numbers.get(indicator.criterion_id),
                indicator.id,
                indicator.code,
                indicator.name,
                indicator.unit,
            )
    return indicators


async def _value_chunks(
    session: AsyncSession, filters: ExportFilters, language: Language
) -> AsyncIterator[Chunk]:
    """The assessments stream from one statement (placed on the export's day, filtered, by id);
    for each chunk of them, their values come from one statement by primary key. A value row is
    its assessment's head (read once, not once per value) + its indicator's columns + its own
    fields: what crosses from the database per value is only what the value holds."""
    sets = await _sets(session, filters, language)
    indicators = _indicators(sets)
    assessments = repo.assessments_select(filters)
    async for chunk in stream_rows(session, assessments, chunk_rows=VALUE_CHUNK_ASSESSMENTS):
        heads = {row[0]: tuple(_head(row, sets)) for row in chunk}
        found = await repo.values_of(session, list(heads))
        if found:
            yield [
                heads[row[0]]
                + indicators.get(row[1], (None, row[1], None, None, None))
                + tuple(row[2:])
                for row in found
            ]


# The columns of INDICATOR_VALUES_TABLE over the COPY statement's relations (see
# ``repo.values_copy_query``), in the table's order.
_VALUE_CELLS = (
    "a.id",
    *(f"a.{column.name}" for column in UNIT_COLUMNS),
    "a.year",
    "a.kind",
    "a.status",
    "a.criteria_set_id",
    "sets.code",
    "ind.number",
    "v.indicator_id",
    "ind.code",
    "ind.name",
    "ind.unit",
    "v.value_number",
    "v.value_bool",
    "v.judgement",
    "v.judgement_reason",
    "v.note",
    "v.source",
    "v.entered_at",
    "v.entered_by_name",
)


@dataclass
class ValueRows:
    """The values export: chunks of rows (any database), or on PostgreSQL its CSV written by
    ``COPY`` (``export_response`` asks :meth:`copy_csv` first), 15 times faster than Python can
    render it and byte for byte the same (``tests/exports/test_csv_copy.py``)."""

    session: AsyncSession
    filters: ExportFilters
    language: Language
    _chunks: AsyncIterator[Chunk] | None = None

    def __aiter__(self) -> ValueRows:
        return self

    async def __anext__(self) -> Chunk:
        if self._chunks is None:
            self._chunks = _value_chunks(self.session, self.filters, self.language)
        return await anext(self._chunks)

    async def copy_csv(self, *, excel: bool) -> AsyncGenerator[bytes, None] | None:
        if not for_session(self.session).copy_out:
            return None
        sets = await _sets(self.session, self.filters, self.language)
        indicators = list(_indicators(sets).values())
        lookups = repo.CopyLookups(
            indicator_ids=[row[1] for row in indicators],
            criterion_numbers=[row[0] for row in indicators],
            indicator_codes=[row[2] for row in indicators],
            indicator_names=[row[3] for row in indicators],
            indicator_units=[row[4] for row in indicators],
            set_ids=list(sets.specs),
            set_codes=[spec.code for spec in sets.specs.values()],
        )
        dialect = (await self.session.connection()).dialect
        cells = table_sql(INDICATOR_VALUES_TABLE, _VALUE_CELLS, excel=excel)
        query = repo.values_copy_query(self.filters, dialect, cells)
        return copied(self.session, query, lookups.args(), excel=excel)


def value_rows(session: AsyncSession, filters: ExportFilters, language: Language) -> ValueRows:
    return ValueRows(session, filters, language)


async def _evaluated(
    session: AsyncSession, filters: ExportFilters, language: Language
) -> AsyncIterator[tuple[_Sets, list[tuple[RowMapping, engine.Evaluation | None]]]]:
    """Chunks of assessments with their evaluation (None when it cannot be computed)."""
    sets = await _sets(session, filters, language)
    after: uuid.UUID | None = None
    while True:
        rows = list(await repo.assessments_after(session, filters, after, EVALUATION_CHUNK))
        if not rows:
            return
        after = rows[-1]["id"]
        yield sets, [(row, result) for row, result in await _evaluate(session, rows, language)]


async def _evaluate(
    session: AsyncSession, rows: list[RowMapping], language: Language
) -> list[tuple[RowMapping, engine.Evaluation | None]]:
    try:
        loaded: list[Loaded | None] = list(await load_many(session, rows, language))
    except ProblemError:
        # One assessment whose unit left the map of its year: evaluate the others one by one.
        loaded = []
        for row in rows:
            try:
                loaded.extend(await load_many(session, [row], language))
            except ProblemError:
                loaded.append(None)
    return [
        (row, evaluate(one).result if one is not None else None)
        for row, one in zip(rows, loaded, strict=True)
    ]


def _mapping_head(row: RowMapping, sets: _Sets) -> list[Any]:
    return [
        row["id"],
        *[row[name] for name in UNIT_NAMES],
        row["year"],
        row["kind"],
        row["status"],
        row["criteria_set_id"],
        sets.code(row["criteria_set_id"]),
    ]


UNIT_NAMES = tuple(column.name for column in UNIT_COLUMNS)


async def criterion_rows(
    session: AsyncSession, filters: ExportFilters, language: Language
) -> AsyncIterator[Chunk]:
    async for sets, evaluated in _evaluated(session, filters, language):
        out: list[tuple[Any, ...]] = []
        for row, result in evaluated:
            if result is None:
                continue
            head = _mapping_head(row, sets)
            for criterion in result.criteria:
                judged = criterion.judgement
                out.append(
                    (
                        *head,
                        criterion.number,
                        criterion.name,
                        criterion.group,
                        criterion.rule,
                        criterion.status.value,
                        criterion.computed_status.value,
                        judged.status if judged else None,
                        judged.reason if judged else None,
                        len(criterion.indicators),
                        sum(1 for i in criterion.indicators if i.status == IndicatorStatus.MET),
                        sum(1 for i in criterion.indicators if i.status == IndicatorStatus.MISSING),
                    )
                )
        yield out


async def evaluation_rows(
    session: AsyncSession, filters: ExportFilters, language: Language
) -> AsyncIterator[Chunk]:
    async for sets, evaluated in _evaluated(session, filters, language):
        out: list[tuple[Any, ...]] = []
        for row, result in evaluated:
            head = _mapping_head(row, sets)
            if result is None:
                out.append((*head, *([None] * 11), "unit_not_valid_in_year"))
                continue
            summary = result.summary
            out.append(
                (
                    *head,
                    result.title.title,
                    summary.criteria_total,
                    summary.criteria_met,
                    summary.criteria_basically_met,
                    summary.criteria_not_met,
                    summary.criteria_undetermined,
                    summary.indicators_total,
                    summary.indicators_met,
                    summary.indicators_missing,
                    result.title.attainable,
                    result.revocation.falls_under_band,
                    None,
                )
            )
        yield out


__all__ = [
    "ASSESSMENTS_TABLE",
    "CRITERION_RESULTS_TABLE",
    "EVALUATION_RESULTS_TABLE",
    "INDICATOR_VALUES_TABLE",
    "ExportFilters",
    "ValueRows",
    "assessment_rows",
    "criterion_rows",
    "evaluation_rows",
    "filters_for",
    "value_rows",
]
