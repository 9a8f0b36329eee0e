"""The pure rules of progress (app.plans.rules), without a database: the boundaries of each
status and the order in which the rules apply."""

from __future__ import annotations

from datetime import date

from app.models.enums import RoadmapStatus, TargetMetric, TargetStatus
from app.plans.rules import (
    ItemFacts,
    Measure,
    Reason,
    Thresholds,
    months_left,
    roadmap_status,
    target_status,
)

RISK = Thresholds(criteria_unmet=2, months_left=6)
NONE = Thresholds(criteria_unmet=None, months_left=None)


def test_months_left_counts_whole_months_after_the_date() -> None:
    assert months_left(date(2024, 6, 30), 2024) == 6
    assert months_left(date(2024, 7, 1), 2024) == 5
    assert months_left(date(2024, 12, 31), 2024) == 0
    assert months_left(date(2023, 12, 1), 2024) == 12
    assert months_left(date(2025, 1, 15), 2024) == -1


def _target(
    metric: TargetMetric, planned: float, measure: Measure, on: date, thresholds: Thresholds = RISK
) -> tuple[TargetStatus, str]:
    status, reason = target_status(metric, planned, 2024, measure, on, thresholds)
    return status, reason.code


def test_target_statuses_at_their_boundaries() -> None:
    count = TargetMetric.UNITS_WITH_TITLE
    assert _target(count, 4, Measure(4, 4, 5), date(2024, 3, 1)) == (
        TargetStatus.ACHIEVED,
        "target_reached",
    )
    assert _target(count, 4, Measure(3, 3, 5), date(2024, 6, 30)) == (
        TargetStatus.ON_TRACK,
        "time_left",
    )
    assert _target(count, 4, Measure(3, 3, 5), date(2024, 7, 1)) == (
        TargetStatus.AT_RISK,
        "little_time_left",
    )
    assert _target(count, 4, Measure(3, 3, 5, in_progress=1), date(2024, 7, 1)) == (
        TargetStatus.ON_TRACK,
        "dossiers_cover_gap",
    )
    assert _target(count, 4, Measure(3, 3, 5), date(2024, 12, 31), NONE) == (
        TargetStatus.ON_TRACK,
        "no_risk_threshold",
    )
    assert _target(count, 4, Measure(3, 3, 5), date(2025, 1, 1)) == (
        TargetStatus.MISSED,
        "year_over",
    )
    assert _target(
        count, 4, Measure(None, 0, 0, empty_reason="no_denominator"), date(2025, 1, 1)
    ) == (TargetStatus.UNKNOWN, "no_denominator")
    below = TargetMetric.COMMUNES_BELOW_CRITERIA
    assert _target(below, 0, Measure(0, 5, 5), date(2024, 12, 31))[0] == TargetStatus.ACHIEVED
    assert _target(below, 0, Measure(1, 5, 5), date(2025, 1, 1))[0] == TargetStatus.MISSED
    share = TargetMetric.SHARE_WITH_TITLE
    # 2 of 4 held (50 %) and 1 under way (25 %) reach 75 %.
    assert _target(share, 75, Measure(50, 2, 4, in_progress=1), date(2024, 11, 1)) == (
        TargetStatus.ON_TRACK,
        "dossiers_cover_gap",
    )


def _item(facts: ItemFacts, on: date, thresholds: Thresholds = RISK) -> RoadmapStatus:
    return roadmap_status(2024, facts, on, thresholds)[0]


def test_roadmap_rules_apply_in_order() -> None:
    gap = ItemFacts(criteria_total=19, criteria_not_met=(10, 17, 19))
    assert _item(gap, date(2024, 6, 30)) == RoadmapStatus.ASSESSMENT_GAP
    assert _item(gap, date(2024, 7, 1)) == RoadmapStatus.AT_RISK
    assert _item(gap, date(2024, 7, 1), NONE) == RoadmapStatus.ASSESSMENT_GAP
    two = ItemFacts(criteria_total=19, criteria_not_met=(10, 17))
    assert _item(two, date(2024, 12, 1)) == RoadmapStatus.ASSESSMENT_GAP  # not more than 2
    assert _item(ItemFacts(criteria_total=19), date(2024, 12, 1)) == RoadmapStatus.CRITERIA_MET
    assert _item(ItemFacts(), date(2024, 12, 1)) == RoadmapStatus.NOT_ASSESSED
    dossier = ItemFacts(
        dossier=Reason("dossier_under_way"), criteria_total=19, criteria_not_met=(1, 2, 3)
    )
    assert _item(dossier, date(2024, 12, 1)) == RoadmapStatus.DOSSIER_IN_PROGRESS
    assert _item(dossier, date(2025, 1, 1)) == RoadmapStatus.MISSED
    left = ItemFacts(left_scope=Reason("merged_away"), dossier=Reason("dossier_under_way"))
    assert _item(left, date(2025, 1, 1)) == RoadmapStatus.LEFT_SCOPE
    held = ItemFacts(recognised=Reason("recognised"), left_scope=Reason("reclassified"))
    assert _item(held, date(2025, 1, 1)) == RoadmapStatus.RECOGNISED
