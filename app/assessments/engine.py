"""The evaluation engine: pure functions from a criteria snapshot and stored values to statuses.

No database here. The service loads, in a few queries, the set's structure, the thresholds that
apply to the unit that year (through the criteria feature) and the assessment's values, judgements
and condition values, then calls :func:`evaluate`. Rules (DOMAIN.md §2–4):

- an indicator is met when its value satisfies the comparator against the threshold that applies;
  a missing value is never met; a number without an applicable threshold cannot be decided;
- a criterion combines its indicators by its rule (all, any, at least k, or a reviewer's
  judgement); *cơ bản đạt* (basically met) only ever comes from a recorded judgement with reasons;
- a title needs every criterion met and every condition of 18/2022/QĐ-TTg art. 4 met;
  prerequisites about titles held cannot be checked until recognitions are recorded;
- revocation bands (18/2022/QĐ-TTg) are data of the set: a share of failing criteria, optionally
  with one of the set's key criteria among them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.models.assessments import (
    ConditionStatus,
    CriterionStatus,
    IndicatorStatus,
    Judgement,
    PrerequisiteStatus,
)

# --- the criteria snapshot (what the criteria feature tells us) ---------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    id: uuid.UUID
    code: str
    criterion_id: uuid.UUID
    name: str
    kind: str  # number | boolean | judgement
    comparator: str | None  # ge | le | eq
    unit: str | None = None
    value_min: float | None = None
    value_max: float | None = None
    left_to_province: bool = False


@dataclass(frozen=True)
class CriterionSpec:
    id: uuid.UUID
    number: int
    name: str
    rule: str  # all | any | at_least | judgement
    k: int | None = None
    group: str | None = None
    indicator_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class ConditionSpec:
    code: str
    name: str
    kind: str  # number | boolean
    comparator: str | None
    threshold: float | bool | None
    unit: str | None = None
    left_to_province: bool = False
    note: str | None = None


@dataclass(frozen=True)
class PrerequisiteSpec:
    kind: str  # title | income_ratio | smart_village | outstanding_field | …
    description: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RevocationBand:
    min_failing_share: float
    max_failing_share: float | None = None
    requires_failing_criterion: tuple[int, ...] = ()


@dataclass(frozen=True)
class SetSpec:
    id: uuid.UUID
    code: str
    name: str
    title: str | None
    level: str
    start_year: int
    end_year: int
    status: str
    criteria: tuple[CriterionSpec, ...]
    indicators: tuple[IndicatorSpec, ...]
    conditions: tuple[ConditionSpec, ...] = ()
    prerequisites: tuple[PrerequisiteSpec, ...] = ()
    revocation_bands: tuple[RevocationBand, ...] = ()
    revocation_note: str | None = None

    def indicator_by_code(self) -> dict[str, IndicatorSpec]:
        return {indicator.code: indicator for indicator in self.indicators}


@dataclass(frozen=True)
class Threshold:
    """The threshold of one indicator for one unit and year, with the reason it applies."""

    value: float | bool | None
    reason: str
    source: Mapping[str, Any] | None = None


# --- what is stored for the assessment ------------------------------------------------------------


@dataclass(frozen=True)
class StoredValue:
    indicator_id: uuid.UUID
    value_number: float | None
    value_bool: bool | None
    judgement: str | None
    judgement_reason: str | None
    note: str | None = None
    entered_at: datetime | None = None


@dataclass(frozen=True)
class StoredJudgement:
    criterion_id: uuid.UUID
    status: str
    reason: str
    judged_by_name: str | None = None
    judged_at: datetime | None = None


@dataclass(frozen=True)
class StoredCondition:
    code: str
    value_number: float | None
    value_bool: bool | None
    note: str | None = None


# --- results ------------------------------------------------------------------------------------


def value_of(stored: StoredValue | None) -> float | bool | str | None:
    if stored is None:
        return None
    if stored.value_number is not None:
        return stored.value_number
    if stored.value_bool is not None:
        return stored.value_bool
    return stored.judgement


def _compare(comparator: str | None, value: float | bool, threshold: float | bool) -> bool:
    if comparator == "le":
        return float(value) <= float(threshold)
    if comparator == "eq":
        return value == threshold
    return float(value) >= float(threshold)


def _distance(comparator: str | None, value: float, threshold: float) -> float:
    if comparator == "le":
        return round(value - threshold, 10)
    if comparator == "eq":
        return round(abs(value - threshold), 10)
    return round(threshold - value, 10)


def evaluate_indicator(
    spec: IndicatorSpec, stored: StoredValue | None, threshold: Threshold | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "indicator_id": spec.id,
        "code": spec.code,
        "name": spec.name,
        "kind": spec.kind,
        "unit": spec.unit,
        "comparator": spec.comparator,
        "value": value_of(stored),
        "threshold": threshold.value if threshold is not None else None,
        "threshold_reason": threshold.reason if threshold is not None else None,
        "status": IndicatorStatus.MISSING,
        "reason": None,
        "distance": None,
    }
    if spec.kind == "judgement":
        if stored is None or stored.judgement is None:
            out["reason"] = "No judgement recorded."
            return out
        out["status"] = {
            Judgement.MET: IndicatorStatus.MET,
            Judgement.BASICALLY_MET: IndicatorStatus.BASICALLY_MET,
        }.get(Judgement(stored.judgement), IndicatorStatus.NOT_MET)
        out["reason"] = stored.judgement_reason
        return out
    if spec.kind == "boolean":
        if stored is None or stored.value_bool is None:
            out["reason"] = "No value recorded."
            return out
        # A yes/no fact is met by "yes" unless the set states another expected answer.
        expected = (
            threshold.value if threshold is not None and threshold.value is not None else True
        )
        if threshold is None or threshold.value is None:
            out["threshold"] = True
            out["threshold_reason"] = "yes/no indicator: met when the answer is yes"
        met = stored.value_bool == bool(expected)
        out["status"] = IndicatorStatus.MET if met else IndicatorStatus.NOT_MET
        return out
    if stored is None or stored.value_number is None:
        out["reason"] = "No value recorded."
        return out
    if threshold is None or threshold.value is None or isinstance(threshold.value, bool):
        out["status"] = IndicatorStatus.UNDETERMINED
        out["reason"] = (
            threshold.reason
            if threshold is not None
            else "No threshold applies to this unit and year (the set leaves it unspecified)."
        )
        return out
    met = _compare(spec.comparator, stored.value_number, threshold.value)
    out["status"] = IndicatorStatus.MET if met else IndicatorStatus.NOT_MET
    if not met:
        out["distance"] = _distance(spec.comparator, stored.value_number, float(threshold.value))
    return out


def _rule_status(rule: str, k: int | None, statuses: Sequence[str]) -> tuple[str, str]:
    total = len(statuses)
    met = sum(1 for s in statuses if s == IndicatorStatus.MET)
    basically = sum(1 for s in statuses if s == IndicatorStatus.BASICALLY_MET)
    unknown = sum(1 for s in statuses if s == IndicatorStatus.UNDETERMINED)
    if rule == "any":
        need, label = 1, "any indicator"
    elif rule == "at_least":
        need = k if k is not None else total
        label = f"at least {need} of {total} indicators"
    else:
        need, label = total, f"all {total} indicators"
    if met >= need:
        return CriterionStatus.MET, f"{met}/{total} indicators met ({label} required)."
    if met + basically >= need:
        return (
            CriterionStatus.BASICALLY_MET,
            f"{met}/{total} met and {basically} basically met by recorded judgements "
            f"({label} required).",
        )
    if met + basically + unknown >= need:
        return (
            CriterionStatus.UNDETERMINED,
            f"{met}/{total} met; {unknown} cannot be decided without a threshold ({label} "
            "required).",
        )
    return CriterionStatus.NOT_MET, f"{met}/{total} indicators met ({label} required)."


def evaluate_criterion(
    spec: CriterionSpec,
    indicators: Sequence[dict[str, Any]],
    judgement: StoredJudgement | None,
) -> dict[str, Any]:
    statuses = [str(item["status"]) for item in indicators]
    if spec.rule == "judgement":
        computed: str = CriterionStatus.UNDETERMINED
        reason = "The set leaves this criterion to a reviewer's judgement."
    elif not statuses:
        computed = CriterionStatus.UNDETERMINED
        reason = "The set defines no indicators for this criterion: a reviewer must judge it."
    else:
        computed, reason = _rule_status(spec.rule, spec.k, statuses)
    out: dict[str, Any] = {
        "criterion_id": spec.id,
        "number": spec.number,
        "name": spec.name,
        "group": spec.group,
        "rule": spec.rule if spec.rule != "at_least" else f"at_least_{spec.k}",
        "computed_status": computed,
        "status": computed,
        "reason": reason,
        "judgement": None,
        "indicators": list(indicators),
    }
    if judgement is not None:
        out["status"] = judgement.status
        out["reason"] = judgement.reason
        out["judgement"] = {
            "status": judgement.status,
            "reason": judgement.reason,
            "judged_by": judgement.judged_by_name,
            "judged_at": judgement.judged_at,
        }
    return out


def evaluate_condition(spec: ConditionSpec, stored: StoredCondition | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": spec.code,
        "name": spec.name,
        "kind": spec.kind,
        "comparator": spec.comparator,
        "threshold": spec.threshold,
        "value": None,
        "status": ConditionStatus.MISSING,
        "reason": spec.note,
    }
    if stored is None or (stored.value_number is None and stored.value_bool is None):
        out["reason"] = "No value recorded."
        return out
    value: float | bool = (
        stored.value_bool if stored.value_bool is not None else float(stored.value_number or 0)
    )
    out["value"] = value
    threshold = spec.threshold
    if threshold is None and spec.kind == "boolean":
        threshold = True
    if threshold is None:
        out["status"] = ConditionStatus.UNVERIFIED
        out["reason"] = (
            "The required rate is not configured for this set (left to the province)."
            if spec.left_to_province
            else "The set states no threshold for this condition."
        )
        return out
    if spec.kind == "boolean" or isinstance(threshold, bool):
        met = bool(value) == bool(threshold)
    else:
        met = _compare(spec.comparator, float(value), float(threshold))
    out["status"] = ConditionStatus.MET if met else ConditionStatus.NOT_MET
    return out


def evaluate_prerequisite(spec: PrerequisiteSpec) -> dict[str, Any]:
    if spec.kind == "title":
        reason = "Titles held cannot be checked until recognitions are recorded on the platform."
    elif spec.kind == "income_ratio":
        reason = (
            "Needs the income threshold of the other title that applies at the same time; "
            "checked by the reviewer until recognitions and that set are linked."
        )
    else:
        reason = "Specified by the province; checked by the reviewer."
    return {
        "kind": spec.kind,
        "description": spec.description,
        "data": dict(spec.data),
        "status": PrerequisiteStatus.UNVERIFIED,
        "reason": reason,
    }


def evaluate_revocation(
    bands: Sequence[RevocationBand], criteria: Sequence[dict[str, Any]], note: str | None
) -> dict[str, Any]:
    total = len(criteria)
    failing = [c["number"] for c in criteria if c["status"] == CriterionStatus.NOT_MET]
    share = round(len(failing) / total, 4) if total else 0.0
    matched: dict[str, Any] | None = None
    for band in bands:
        if share < band.min_failing_share:
            continue
        if band.max_failing_share is not None and share >= band.max_failing_share:
            continue
        key = [n for n in failing if n in band.requires_failing_criterion]
        if band.requires_failing_criterion and not key:
            continue
        matched = {
            "min_failing_share": band.min_failing_share,
            "max_failing_share": band.max_failing_share,
            "requires_failing_criterion": list(band.requires_failing_criterion),
            "key_criteria_failing": key,
        }
        break
    return {
        "bands_defined": bool(bands),
        "failing_criteria": failing,
        "failing_share": share,
        "falls_under_band": matched is not None,
        "band": matched,
        "unit_holds_title": None,
        "reason": (
            "Applies only if the unit holds the title; recognitions are not recorded yet."
            if bands
            else "The set defines no revocation bands."
        ),
        "note": note,
    }


def evaluate(
    spec: SetSpec,
    thresholds: Mapping[uuid.UUID, Threshold],
    values: Mapping[uuid.UUID, StoredValue],
    judgements: Mapping[uuid.UUID, StoredJudgement],
    conditions: Mapping[str, StoredCondition],
) -> dict[str, Any]:
    indicator_results: dict[uuid.UUID, dict[str, Any]] = {
        ind.id: evaluate_indicator(ind, values.get(ind.id), thresholds.get(ind.id))
        for ind in spec.indicators
    }
    criteria = [
        evaluate_criterion(c, [indicator_results[i] for i in c.indicator_ids], judgements.get(c.id))
        for c in spec.criteria
    ]
    counts = {status.value: 0 for status in CriterionStatus}
    for criterion in criteria:
        counts[str(criterion["status"])] += 1
    total = len(criteria)
    condition_results = [evaluate_condition(c, conditions.get(c.code)) for c in spec.conditions]
    prerequisite_results = [evaluate_prerequisite(p) for p in spec.prerequisites]
    all_met = total > 0 and counts[CriterionStatus.MET] == total
    blocking: list[str] = []
    if total == 0:
        blocking.append("The set has no criteria.")
    elif not all_met:
        blocking.append(f"{total - counts[CriterionStatus.MET]} of {total} criteria not met.")
    for cond in condition_results:
        if cond["status"] in (ConditionStatus.NOT_MET, ConditionStatus.MISSING):
            blocking.append(f"Condition {cond['code']}: {cond['status']}.")
    unverified = [c["code"] for c in condition_results if c["status"] == ConditionStatus.UNVERIFIED]
    unverified += [p["kind"] for p in prerequisite_results]
    attainable: bool | None
    if blocking:
        attainable = False
    elif unverified:
        attainable = None
    else:
        attainable = True
    met = counts[CriterionStatus.MET]
    return {
        "criteria_set": {
            "id": spec.id,
            "code": spec.code,
            "title": spec.title,
            "criteria_count": total,
        },
        "summary": {
            "criteria_total": total,
            "criteria_met": met,
            "criteria_basically_met": counts[CriterionStatus.BASICALLY_MET],
            "criteria_not_met": counts[CriterionStatus.NOT_MET],
            "criteria_undetermined": counts[CriterionStatus.UNDETERMINED],
            "headline": f"đạt {met}/{total} tiêu chí",
            "indicators_total": len(spec.indicators),
            "indicators_met": sum(
                1 for r in indicator_results.values() if r["status"] == IndicatorStatus.MET
            ),
            "indicators_missing": sum(
                1 for r in indicator_results.values() if r["status"] == IndicatorStatus.MISSING
            ),
        },
        "title": {
            "title": spec.title,
            "attainable": attainable,
            "blocking": blocking,
            "unverified": unverified,
        },
        "criteria": criteria,
        "conditions": condition_results,
        "prerequisites": prerequisite_results,
        "revocation": evaluate_revocation(spec.revocation_bands, criteria, spec.revocation_note),
    }


def gaps(evaluation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What stands between the unit and the title, ordered by criterion number."""
    out: list[dict[str, Any]] = []
    for criterion in evaluation["criteria"]:
        if criterion["status"] == CriterionStatus.MET:
            continue
        missing = [
            {
                "indicator_id": ind["indicator_id"],
                "code": ind["code"],
                "name": ind["name"],
                "status": ind["status"],
                "value": ind["value"],
                "threshold": ind["threshold"],
                "comparator": ind["comparator"],
                "unit": ind["unit"],
                "distance": ind["distance"],
                "reason": ind["reason"],
            }
            for ind in criterion["indicators"]
            if ind["status"] != IndicatorStatus.MET
        ]
        out.append(
            {
                "criterion_id": criterion["criterion_id"],
                "number": criterion["number"],
                "name": criterion["name"],
                "status": criterion["status"],
                "reason": criterion["reason"],
                "indicators": missing,
            }
        )
    out.sort(key=lambda item: item["number"])
    return out
