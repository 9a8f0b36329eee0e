"""The rules of plan progress as a pure module: statuses of targets and roadmap items on a date.

Every status comes with a :class:`Reason` (a stable code and the figures it names); sentences
are rendered at the edge in the caller's language (``app.plans.present``). The "at risk"
thresholds are configuration (the plan's own fields, else the settings), never law: with no
threshold configured nothing is called at risk by time (docs/plans.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from app.models.enums import (
    RoadmapStatus,
    TargetMetric,
    TargetStatus,
    Title,
    UnitLevel,
    UnitType,
)
from app.recognitions import titles

TITLE_LEVEL = titles.TITLE_LEVEL

# The units a title's denominator counts, by type: the programme is rural, so a commune that
# became a ward (phường) or a township leaves the commune denominator (DOMAIN.md §5-6), and
# urban residential groups (tổ dân phố) are not villages of the programme.
_COMMUNES = frozenset({UnitType.XA})
_DISTRICTS = frozenset({UnitType.HUYEN})
_TOWNS = frozenset({UnitType.THI_XA, UnitType.THANH_PHO})
_PROVINCES = frozenset({UnitType.TINH, UnitType.THANH_PHO_TW})
_VILLAGES = frozenset(
    t for t in UnitType if t.level == UnitLevel.VILLAGE and t != UnitType.TO_DAN_PHO
)

COUNTED_TYPES: Mapping[Title, frozenset[UnitType]] = {
    Title.NTM_COMMUNE: _COMMUNES,
    Title.ADVANCED_NTM_COMMUNE: _COMMUNES,
    Title.MODEL_NTM_COMMUNE: _COMMUNES,
    Title.MODERN_NTM_COMMUNE: _COMMUNES,
    Title.NTM_DISTRICT: _DISTRICTS,
    Title.ADVANCED_NTM_DISTRICT: _DISTRICTS,
    Title.COMPLETED_NTM_TOWN: _TOWNS,
    Title.COMPLETED_NTM_PROVINCE: _PROVINCES,
    Title.NTM_VILLAGE: _VILLAGES,
    Title.MODEL_VILLAGE: _VILLAGES,
    Title.SMART_VILLAGE: _VILLAGES,
}
RURAL_COMMUNE_TYPES = _COMMUNES
PROGRAMME_VILLAGE_TYPES = _VILLAGES

TITLE_METRICS = frozenset({TargetMetric.UNITS_WITH_TITLE, TargetMetric.SHARE_WITH_TITLE})
CRITERIA_METRICS = frozenset(
    {TargetMetric.AVERAGE_CRITERIA_MET, TargetMetric.COMMUNES_BELOW_CRITERIA}
)
BUDGET_METRICS = frozenset({TargetMetric.BUDGET_PLANNED_VND, TargetMetric.BUDGET_DISBURSED_VND})
# Lower is better: a target of "no commune below 15 criteria" is met by 0.
LOWER_IS_BETTER = frozenset({TargetMetric.COMMUNES_BELOW_CRITERIA})


def default_title(metric: TargetMetric, title: Title | None) -> Title | None:
    if title is not None:
        return title
    if metric in CRITERIA_METRICS:
        return Title.NTM_COMMUNE
    if metric == TargetMetric.DIFFICULT_VILLAGES_NTM:
        return Title.NTM_VILLAGE
    return None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """More than ``criteria_unmet`` criteria unmet with fewer than ``months_left`` months left."""

    criteria_unmet: int | None
    months_left: int | None


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    params: Mapping[str, str | int | float | None] = field(default_factory=dict)


def year_end(year: int) -> date:
    """The last day a target or roadmap item for ``year`` can be met."""
    return date(year, 12, 31)


def months_left(on: date, year: int) -> int:
    """Whole months from ``on`` to the end of ``year`` (0 in December, negative after)."""
    return (year - on.year) * 12 + (12 - on.month)


def in_risk_window(on: date, year: int, thresholds: Thresholds) -> bool:
    """Fewer than ``months_left`` whole months remain before the end of ``year``."""
    if thresholds.months_left is None:
        return False
    return months_left(on, year) < thresholds.months_left


# --- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measure:
    """What was measured for a target on the date. ``achieved`` None: nothing to measure."""

    achieved: float | None
    numerator: int | None = None
    denominator: int | None = None
    # Units of the denominator with a dossier under way for the title (title targets only).
    in_progress: int = 0
    empty_reason: str | None = None  # why nothing could be measured


def _reached(metric: TargetMetric, planned: float, achieved: float) -> bool:
    if metric in LOWER_IS_BETTER:
        return achieved <= planned
    return achieved >= planned


def target_status(
    metric: TargetMetric,
    planned: float,
    year: int,
    measure: Measure,
    on: date,
    thresholds: Thresholds,
) -> tuple[TargetStatus, Reason]:
    """achieved: the figure reaches the plan (≤ for "communes below N criteria"); missed: not
    reached once the target's year is over; at risk: not reached, fewer months left than the
    threshold, and the dossiers under way would not close the gap; on track otherwise;
    unknown: nothing to measure on the date."""
    figures = {
        "planned": planned,
        "achieved": measure.achieved,
        "numerator": measure.numerator,
        "denominator": measure.denominator,
        "year": year,
    }
    if measure.achieved is None:
        return TargetStatus.UNKNOWN, Reason(measure.empty_reason or "nothing_measured", figures)
    if _reached(metric, planned, measure.achieved):
        return TargetStatus.ACHIEVED, Reason("target_reached", figures)
    if on > year_end(year):
        return TargetStatus.MISSED, Reason("year_over", figures)
    left = months_left(on, year)
    if metric in TITLE_METRICS and measure.in_progress:
        covering = measure.achieved + _as_metric(metric, measure.in_progress, measure.denominator)
        if _reached(metric, planned, covering):
            return TargetStatus.ON_TRACK, Reason(
                "dossiers_cover_gap", {**figures, "in_progress": measure.in_progress}
            )
    if thresholds.months_left is None:
        return TargetStatus.ON_TRACK, Reason("no_risk_threshold", {**figures, "months_left": left})
    if in_risk_window(on, year, thresholds):
        return TargetStatus.AT_RISK, Reason(
            "little_time_left",
            {**figures, "months_left": left, "threshold_months": thresholds.months_left},
        )
    return TargetStatus.ON_TRACK, Reason("time_left", {**figures, "months_left": left})


def _as_metric(metric: TargetMetric, count: int, denominator: int | None) -> float:
    if metric == TargetMetric.SHARE_WITH_TITLE:
        return 100.0 * count / denominator if denominator else 0.0
    return float(count)


def share(numerator: int, denominator: int) -> float:
    return round(100.0 * numerator / denominator, 2)


# --- roadmap items ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What is known of a roadmap item's unit on the date."""

    recognised: Reason | None = None  # holds the title (with its decision)
    left_scope: Reason | None = None  # merged away, dissolved, became a ward
    dossier: Reason | None = None  # a dossier under way for the title (and where it is)
    criteria_total: int | None = None  # the latest assessment for the title, if any
    criteria_not_met: tuple[int, ...] = ()


def roadmap_status(
    target_year: int, facts: ItemFacts, on: date, thresholds: Thresholds
) -> tuple[RoadmapStatus, Reason]:
    """The first rule that applies, in this order: recognised; left the scope; missed (the
    target year is over); dossier in progress; not assessed; criteria met (awaiting a dossier);
    at risk (more than N criteria unmet with fewer than T months left); assessment gap."""
    if facts.recognised is not None:
        return RoadmapStatus.RECOGNISED, facts.recognised
    if facts.left_scope is not None:
        return RoadmapStatus.LEFT_SCOPE, facts.left_scope
    if on > year_end(target_year):
        return RoadmapStatus.MISSED, Reason("target_year_over", {"year": target_year})
    if facts.dossier is not None:
        return RoadmapStatus.DOSSIER_IN_PROGRESS, facts.dossier
    if facts.criteria_total is None:
        return RoadmapStatus.NOT_ASSESSED, Reason("no_assessment", {"year": target_year})
    unmet = len(facts.criteria_not_met)
    figures: dict[str, str | int | float | None] = {
        "unmet": unmet,
        "total": facts.criteria_total,
        "criteria": ", ".join(str(n) for n in facts.criteria_not_met),
        "months_left": months_left(on, target_year),
        "year": target_year,
    }
    if unmet == 0:
        return RoadmapStatus.CRITERIA_MET, Reason("all_criteria_met", figures)
    if (
        thresholds.criteria_unmet is not None
        and unmet > thresholds.criteria_unmet
        and in_risk_window(on, target_year, thresholds)
    ):
        return RoadmapStatus.AT_RISK, Reason(
            "too_many_unmet",
            {
                **figures,
                "threshold_unmet": thresholds.criteria_unmet,
                "threshold_months": thresholds.months_left,
            },
        )
    return RoadmapStatus.ASSESSMENT_GAP, Reason("criteria_not_met", figures)
