"""Typed evaluation results as JSON bodies, in the caller's language.

The edge of the evaluation: the routers (and the assessment rows that embed a summary) call
these with the negotiated language; the shapes are those of the response models in
``app.assessments.schemas``. Plain dicts, sent with orjson, because these are hot reads.
"""

from __future__ import annotations

from typing import Any

from app.assessments import engine
from app.assessments.messages import render, render_optional
from app.assessments.service.common import UnitInYear
from app.assessments.service.criteria import ThresholdContext
from app.assessments.service.evaluation import AssessmentEvaluation, Comparison, Gaps, IndicatorSide
from app.core.http import Language


def unit(value: UnitInYear) -> dict[str, Any]:
    return {"id": value.id, "code": value.code, "name": value.name, "level": value.level}


def summary(value: engine.Summary, language: Language) -> dict[str, Any]:
    return {
        "criteria_total": value.criteria_total,
        "criteria_met": value.criteria_met,
        "criteria_basically_met": value.criteria_basically_met,
        "criteria_not_met": value.criteria_not_met,
        "criteria_undetermined": value.criteria_undetermined,
        "headline": render(value.headline, language),
        "indicators_total": value.indicators_total,
        "indicators_met": value.indicators_met,
        "indicators_missing": value.indicators_missing,
    }


def title(value: engine.TitleOutlook, language: Language) -> dict[str, Any]:
    return {
        "title": value.title,
        "attainable": value.attainable,
        "blocking": [render(message, language) for message in value.blocking],
        "unverified": list(value.unverified),
    }


def _text(text: engine.Text | None, language: Language) -> str | None:
    return text if text is None or isinstance(text, str) else render(text, language)


def indicator(value: engine.IndicatorResult, language: Language) -> dict[str, Any]:
    spec, applied = value.spec, value.applied
    source = applied.source if applied is not None else None
    return {
        "indicator_id": spec.id,
        "code": spec.code,
        "name": spec.name,
        "kind": spec.kind,
        "unit": spec.unit,
        "comparator": spec.comparator,
        "value": value.value,
        "threshold": applied.value if applied is not None else None,
        "threshold_reason": _text(applied.reason, language) if applied is not None else None,
        "status": value.status,
        "reason": _text(value.reason, language),
        "distance": value.distance,
        "threshold_basis": dict(source) if source else None,
    }


def _judgement(value: engine.JudgementResult | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "status": value.status,
        "reason": value.reason,
        "judged_by": value.judged_by,
        "judged_at": value.judged_at,
    }


def criterion(value: engine.CriterionResult, language: Language) -> dict[str, Any]:
    return {
        "criterion_id": value.criterion_id,
        "number": value.number,
        "name": value.name,
        "group": value.group,
        "rule": value.rule,
        "computed_status": value.computed_status,
        "status": value.status,
        "reason": render_optional(value.reason, language),
        "judgement": _judgement(value.judgement),
        "indicators": [indicator(i, language) for i in value.indicators],
    }


def condition(value: engine.ConditionResult, language: Language) -> dict[str, Any]:
    return {
        "code": value.code,
        "name": value.name,
        "kind": value.kind,
        "comparator": value.comparator,
        "threshold": value.threshold,
        "value": value.value,
        "status": value.status,
        "reason": render_optional(value.reason, language),
    }


def prerequisite(value: engine.PrerequisiteResult, language: Language) -> dict[str, Any]:
    return {
        "kind": value.kind,
        "description": render(value.description, language),
        "data": dict(value.data),
        "status": value.status,
        "reason": render(value.reason, language),
    }


def revocation(value: engine.RevocationResult, language: Language) -> dict[str, Any]:
    band = value.band
    return {
        "bands_defined": value.bands_defined,
        "failing_criteria": list(value.failing_criteria),
        "failing_share": value.failing_share,
        "falls_under_band": value.falls_under_band,
        "band": None
        if band is None
        else {
            "min_failing_share": band.min_failing_share,
            "max_failing_share": band.max_failing_share,
            "requires_failing_criterion": list(band.requires_failing_criterion),
            "key_criteria_failing": list(band.key_criteria_failing),
        },
        "unit_holds_title": value.unit_holds_title,
        "reason": render(value.reason, language),
        "note": value.note,
    }


def _context(value: ThresholdContext) -> dict[str, Any]:
    return {
        "as_of": value.as_of,
        "region": value.region,
        "region_reason": value.region_reason,
        "classifications": list(value.classifications),
        "commune_group": value.commune_group,
        "province": value.province,
    }


def _criteria_set(value: engine.SetRef) -> dict[str, Any]:
    return {
        "id": value.id,
        "code": value.code,
        "title": value.title,
        "criteria_count": value.criteria_count,
    }


def evaluation(value: AssessmentEvaluation, language: Language) -> dict[str, Any]:
    """The body of ``GET /assessments/{id}/evaluation`` (schema ``Evaluation``)."""
    result = value.result
    return {
        "assessment_id": value.assessment_id,
        "revision": value.revision,
        "unit": unit(value.unit),
        "year": value.year,
        "kind": value.kind,
        "status": value.status,
        "thresholds_context": _context(value.thresholds_context),
        "criteria_set": _criteria_set(result.criteria_set),
        "summary": summary(result.summary, language),
        "title": title(result.title, language),
        "criteria": [criterion(c, language) for c in result.criteria],
        "conditions": [condition(c, language) for c in result.conditions],
        "prerequisites": [prerequisite(p, language) for p in result.prerequisites],
        "revocation": revocation(result.revocation, language),
    }


def evaluation_summary(value: AssessmentEvaluation, language: Language) -> dict[str, Any]:
    """What an assessment row carries of its evaluation (schema ``EvaluationSummary``)."""
    result = value.result
    return {
        "summary": summary(result.summary, language),
        "title": title(result.title, language),
        "falls_under_revocation_band": result.revocation.falls_under_band,
    }


def _gap_indicator(value: engine.IndicatorResult, language: Language) -> dict[str, Any]:
    return {
        "indicator_id": value.indicator_id,
        "code": value.code,
        "name": value.name,
        "status": value.status,
        "value": value.value,
        "threshold": value.threshold,
        "comparator": value.comparator,
        "unit": value.unit,
        "distance": value.distance,
        "reason": render_optional(value.reason, language),
    }


def gaps(value: Gaps, language: Language) -> dict[str, Any]:
    """The body of ``GET /assessments/{id}/gaps`` (schema ``Gaps``)."""
    return {
        "assessment_id": value.assessment_id,
        "title": value.title,
        "summary": summary(value.summary, language),
        "criteria": [
            {
                "criterion_id": gap.criterion_id,
                "number": gap.number,
                "name": gap.name,
                "status": gap.status,
                "reason": render_optional(gap.reason, language),
                "indicators": [_gap_indicator(i, language) for i in gap.indicators],
            }
            for gap in value.criteria
        ],
        "conditions": [condition(c, language) for c in value.conditions],
        "prerequisites": [prerequisite(p, language) for p in value.prerequisites],
    }


def _side(value: AssessmentEvaluation, language: Language) -> dict[str, Any]:
    return {
        "assessment_id": value.assessment_id,
        "year": value.year,
        "kind": value.kind,
        "status": value.status,
        "criteria_set": _criteria_set(value.result.criteria_set),
        "summary": summary(value.result.summary, language),
    }


def _indicator_side(value: IndicatorSide | None) -> dict[str, Any] | None:
    return None if value is None else {"value": value.value, "status": value.status}


def comparison(value: Comparison, language: Language) -> dict[str, Any]:
    """The body of ``GET /assessments/compare`` (schema ``Comparison``)."""
    return {
        "unit": unit(value.unit),
        "same_criteria_set": value.same_criteria_set,
        "a": _side(value.a, language),
        "b": _side(value.b, language),
        "criteria": [
            {
                "number": change.number,
                "name": change.name,
                "a": change.a,
                "b": change.b,
                "changed": change.changed,
                "direction": change.direction,
                "indicators": [
                    {
                        "code": item.code,
                        "a": _indicator_side(item.a),
                        "b": _indicator_side(item.b),
                    }
                    for item in change.indicators
                ],
            }
            for change in value.criteria
        ],
        "changed": value.changed,
    }
