"""Evaluation on read: always computed from the stored rows, so it cannot drift from them.

One assessment costs a handful of queries: the assessment, its unit in the year, its values,
judgements and condition values, the set (cached per process once published) and the criteria
feature's threshold resolution for the unit and year. Many assessments are loaded together:
values, judgements and conditions in one query each for all of them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import engine
from app.assessments.repository import assessments as repo
from app.assessments.repository import values as values_repo
from app.assessments.service import criteria as criteria_port
from app.assessments.service import titles as titles_port
from app.assessments.service.common import (
    UnitInYear,
    assessment_not_found,
    authorize,
    invalid,
    load_or_404,
    units_in_years,
)
from app.core.errors import Unprocessable, field_error
from app.core.http import Language
from app.core.permissions import Action
from app.core.security import Principal
from app.models.enums import (
    AssessmentKind,
    AssessmentStatus,
    ConditionStatus,
    CriterionStatus,
    Direction,
    IndicatorStatus,
    PrerequisiteStatus,
)


@dataclass(frozen=True)
class Loaded:
    row: RowMapping
    spec: engine.SetSpec
    unit: UnitInYear
    thresholds: Mapping[uuid.UUID, engine.Threshold]
    context: criteria_port.ThresholdContext
    values: Mapping[uuid.UUID, engine.StoredValue]
    judgements: Mapping[uuid.UUID, engine.StoredJudgement]
    conditions: Mapping[str, engine.StoredCondition]
    register: engine.RegisterFacts | None = None


def stored_value(row: Mapping[Any, Any]) -> engine.StoredValue:
    return engine.StoredValue(
        indicator_id=row["indicator_id"],
        value_number=row["value_number"],
        value_bool=row["value_bool"],
        judgement=row["judgement"],
        judgement_reason=row["judgement_reason"],
        note=row["note"],
        entered_at=row["entered_at"],
    )


def _stored_judgement(row: Mapping[Any, Any]) -> engine.StoredJudgement:
    return engine.StoredJudgement(
        criterion_id=row["criterion_id"],
        status=row["status"],
        reason=row["reason"],
        judged_by_name=row["judged_by_name"],
        judged_at=row["judged_at"],
    )


def _stored_condition(row: Mapping[Any, Any]) -> engine.StoredCondition:
    return engine.StoredCondition(
        code=row["code"], value_number=row["value_number"], value_bool=row["value_bool"]
    )


def _unit_gone(row: Mapping[Any, Any]) -> Unprocessable:
    return Unprocessable(
        f"Unit {row['unit_id']} has no version in {row['year']}: the map changed after the "
        "assessment was made.",
        code="unit_not_valid_in_year",
    )


async def load_many(
    session: AsyncSession, rows: Sequence[RowMapping], language: Language = "vi"
) -> list[Loaded]:
    """Everything the engine needs for several assessments, with set-based reads."""
    ids = [row["id"] for row in rows]
    values: dict[uuid.UUID, dict[uuid.UUID, engine.StoredValue]] = defaultdict(dict)
    for value in await values_repo.values_of(session, ids):
        values[value["assessment_id"]][value["indicator_id"]] = stored_value(value)
    judgements: dict[uuid.UUID, dict[uuid.UUID, engine.StoredJudgement]] = defaultdict(dict)
    for judgement in await values_repo.judgements_of(session, ids):
        judgements[judgement["assessment_id"]][judgement["criterion_id"]] = _stored_judgement(
            judgement
        )
    conditions: dict[uuid.UUID, dict[str, engine.StoredCondition]] = defaultdict(dict)
    for condition in await values_repo.conditions_of(session, ids):
        conditions[condition["assessment_id"]][condition["code"]] = _stored_condition(condition)
    units = await units_in_years(session, [(row["unit_id"], row["year"]) for row in rows])
    specs: dict[uuid.UUID, engine.SetSpec] = {}
    for row in rows:
        if row["unit_id"] is not None and (row["unit_id"], row["year"]) not in units:
            raise _unit_gone(row)
        set_id = row["criteria_set_id"]
        if set_id not in specs:
            specs[set_id] = await criteria_port.load_set(session, set_id, language)
    thresholds_by_row = await criteria_port.thresholds_for_many(
        session,
        [
            (
                row["id"],
                specs[row["criteria_set_id"]],
                units[(row["unit_id"], row["year"])],
                row["year"],
            )
            for row in rows
        ],
    )
    register = await titles_port.facts(
        session,
        [
            (
                row["unit_id"],
                units[(row["unit_id"], row["year"])].as_of,
                specs[row["criteria_set_id"]],
            )
            for row in rows
        ],
    )
    out = []
    for row in rows:
        set_id = row["criteria_set_id"]
        unit = units[(row["unit_id"], row["year"])]
        resolved = thresholds_by_row[row["id"]]
        out.append(
            Loaded(
                row=row,
                spec=specs[set_id],
                unit=unit,
                thresholds=resolved.by_indicator,
                context=resolved.context,
                values=values.get(row["id"], {}),
                judgements=judgements.get(row["id"], {}),
                conditions=conditions.get(row["id"], {}),
                register=register.get((row["unit_id"], unit.as_of)),
            )
        )
    return out


async def load(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    language: Language = "vi",
    principal: Principal | None = None,
) -> Loaded:
    row = await load_or_404(session, assessment_id, principal)
    return (await load_many(session, [row], language))[0]


@dataclass(frozen=True, slots=True)
class AssessmentEvaluation:
    """An assessment's evaluation with what it was computed for."""

    assessment_id: uuid.UUID
    revision: int
    unit: UnitInYear
    year: int
    kind: AssessmentKind
    status: AssessmentStatus
    thresholds_context: criteria_port.ThresholdContext
    result: engine.Evaluation


@dataclass(frozen=True, slots=True)
class Gaps:
    assessment_id: uuid.UUID
    title: str | None
    summary: engine.Summary
    criteria: tuple[engine.Gap, ...]
    conditions: tuple[engine.ConditionResult, ...]
    prerequisites: tuple[engine.PrerequisiteResult, ...]


@dataclass(frozen=True, slots=True)
class IndicatorSide:
    value: float | bool | str | None
    status: IndicatorStatus


@dataclass(frozen=True, slots=True)
class IndicatorChange:
    code: str
    a: IndicatorSide | None
    b: IndicatorSide | None


@dataclass(frozen=True, slots=True)
class CriterionChange:
    number: int
    name: str
    a: CriterionStatus | None
    b: CriterionStatus | None
    direction: Direction
    indicators: tuple[IndicatorChange, ...]

    @property
    def changed(self) -> bool:
        return self.a != self.b


@dataclass(frozen=True, slots=True)
class Comparison:
    unit: UnitInYear
    same_criteria_set: bool
    a: AssessmentEvaluation
    b: AssessmentEvaluation
    criteria: tuple[CriterionChange, ...]

    @property
    def changed(self) -> int:
        return sum(1 for c in self.criteria if c.changed)


def evaluate(loaded: Loaded) -> AssessmentEvaluation:
    row = loaded.row
    return AssessmentEvaluation(
        assessment_id=row["id"],
        revision=row["revision"],
        unit=loaded.unit,
        year=row["year"],
        kind=AssessmentKind(row["kind"]),
        status=AssessmentStatus(row["status"]),
        thresholds_context=loaded.context,
        result=engine.evaluate(
            loaded.spec,
            loaded.thresholds,
            loaded.values,
            loaded.judgements,
            loaded.conditions,
            loaded.register,
        ),
    )


async def evaluation(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    language: Language = "vi",
    principal: Principal | None = None,
) -> AssessmentEvaluation:
    return evaluate(await load(session, assessment_id, language, principal))


async def gaps(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    language: Language = "vi",
    principal: Principal | None = None,
) -> Gaps:
    result = (await evaluation(session, assessment_id, language, principal)).result
    return Gaps(
        assessment_id=assessment_id,
        title=result.title.title,
        summary=result.summary,
        criteria=engine.gaps(result),
        conditions=tuple(c for c in result.conditions if c.status != ConditionStatus.MET),
        prerequisites=tuple(p for p in result.prerequisites if p.status != PrerequisiteStatus.MET),
    )


async def evaluate_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], language: Language = "vi"
) -> dict[uuid.UUID, AssessmentEvaluation]:
    """Full evaluations of several assessments (reports, re-evaluation of a district)."""
    rows = await repo.get_many(session, list(ids))
    found = {row["id"] for row in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise assessment_not_found(missing[0])
    return {item.row["id"]: evaluate(item) for item in await load_many(session, rows, language)}


# Of two assessments of the same year, the later step of the procedure speaks last: the
# provincial council's appraisal over the district's review over the commune's own.
_KIND_WEIGHT = {
    AssessmentKind.APPRAISAL: 3,
    AssessmentKind.REVIEW: 2,
    AssessmentKind.ANNUAL_REVIEW: 1,
    AssessmentKind.SELF_ASSESSMENT: 0,
}


async def latest_evaluations(
    session: AsyncSession,
    unit_ids: Sequence[uuid.UUID],
    *,
    up_to_year: int,
    language: Language = "vi",
) -> dict[tuple[uuid.UUID, str], AssessmentEvaluation]:
    """(unit, title of the set) → the evaluation of the unit's latest assessment against a set
    of that title: the latest year up to ``up_to_year``, then the later step of the procedure,
    then the last changed. What the revocation check applies the set's bands to."""
    rows = await repo.of_units(session, unit_ids, up_to_year=up_to_year)
    titles: dict[uuid.UUID, str | None] = {}
    for set_id in {row["criteria_set_id"] for row in rows}:
        titles[set_id] = (await criteria_port.load_set(session, set_id, language)).title
    latest: dict[tuple[uuid.UUID, str], RowMapping] = {}
    for row in rows:
        title = titles[row["criteria_set_id"]]
        if title is None:
            continue
        key = (row["unit_id"], title)
        rank = (row["year"], _KIND_WEIGHT[AssessmentKind(row["kind"])], row["updated_at"])
        held = latest.get(key)
        if held is None or rank > (
            held["year"],
            _KIND_WEIGHT[AssessmentKind(held["kind"])],
            held["updated_at"],
        ):
            latest[key] = row
    if not latest:
        return {}
    chosen = list(latest.values())
    evaluated = {
        item.row["id"]: evaluate(item) for item in await load_many(session, chosen, language)
    }
    return {key: evaluated[row["id"]] for key, row in latest.items()}


_RANK = {
    CriterionStatus.NOT_MET: 0,
    CriterionStatus.UNDETERMINED: 1,
    CriterionStatus.BASICALLY_MET: 2,
    CriterionStatus.MET: 3,
}


def _direction(a: CriterionStatus | None, b: CriterionStatus | None) -> Direction:
    if a == b:
        return Direction.UNCHANGED
    if (
        a is None
        or b is None
        or a == CriterionStatus.UNDETERMINED
        or b == CriterionStatus.UNDETERMINED
    ):
        return Direction.CHANGED
    return Direction.IMPROVED if _RANK[b] > _RANK[a] else Direction.WORSENED


def _indicator_changes(
    a: engine.CriterionResult | None, b: engine.CriterionResult | None
) -> tuple[IndicatorChange, ...]:
    a_ind = {i.code: i for i in a.indicators} if a else {}
    b_ind = {i.code: i for i in b.indicators} if b else {}
    out = []
    for code in sorted(set(a_ind) | set(b_ind)):
        ai, bi = a_ind.get(code), b_ind.get(code)
        if (ai and ai.status) != (bi and bi.status) or (ai and ai.value) != (bi and bi.value):
            out.append(
                IndicatorChange(
                    code=code,
                    a=IndicatorSide(ai.value, ai.status) if ai else None,
                    b=IndicatorSide(bi.value, bi.status) if bi else None,
                )
            )
    return tuple(out)


async def compare(
    session: AsyncSession,
    a_id: uuid.UUID,
    b_id: uuid.UUID,
    language: Language = "vi",
    principal: Principal | None = None,
) -> Comparison:
    """Which criteria changed status between two assessments of the same unit."""
    if a_id == b_id:
        raise invalid(["query", "b"], "same_assessment", "Compare two different assessments.")
    rows = {row["id"]: row for row in await repo.get_many(session, [a_id, b_id])}
    for wanted in (a_id, b_id):
        if wanted not in rows:
            raise assessment_not_found(wanted)
        await authorize(session, principal, Action.ASSESSMENTS_READ, rows[wanted])
    if rows[a_id]["unit_id"] != rows[b_id]["unit_id"]:
        raise Unprocessable(
            "The two assessments are of different units.",
            code="assessments_not_comparable",
            errors=[field_error(["query", "b"], "another unit", "assessments_not_comparable")],
        )
    loaded = await load_many(session, [rows[a_id], rows[b_id]], language)
    a, b = evaluate(loaded[0]), evaluate(loaded[1])
    # Criteria are matched by number: a province's derived set keeps the national numbering.
    a_criteria = {c.number: c for c in a.result.criteria}
    b_criteria = {c.number: c for c in b.result.criteria}
    changes = []
    for number in sorted(set(a_criteria) | set(b_criteria)):
        ca, cb = a_criteria.get(number), b_criteria.get(number)
        a_status = ca.status if ca else None
        b_status = cb.status if cb else None
        named = cb or ca
        changes.append(
            CriterionChange(
                number=number,
                name=named.name if named else "",
                a=a_status,
                b=b_status,
                direction=_direction(a_status, b_status),
                indicators=_indicator_changes(ca, cb),
            )
        )
    return Comparison(
        unit=b.unit,
        same_criteria_set=rows[a_id]["criteria_set_id"] == rows[b_id]["criteria_set_id"],
        a=a,
        b=b,
        criteria=tuple(changes),
    )
