"""Progress as answered: typed results rendered to JSON-ready dicts and flat export rows, with
every reason as a sentence in the caller's language (the rules return codes and figures)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from typing import Any

from app.core.http import Language
from app.exports import Chunk, Table, day, identifier, integer, number, text
from app.plans.rules import Reason
from app.plans.service.progress import ItemResult, PlanProgress, TargetResult, UnitLabel

# code → (vi, en); ``{name}`` fields are the reason's figures (missing ones print empty).
SENTENCES: Mapping[str, tuple[str, str]] = {
    # targets
    "target_reached": (
        "Đạt {achieved} so với kế hoạch {planned}.",
        "{achieved} achieved against {planned} planned.",
    ),
    "year_over": (
        "Hết năm {year}: đạt {achieved} so với kế hoạch {planned}.",
        "Year {year} is over: {achieved} achieved against {planned} planned.",
    ),
    "dossiers_cover_gap": (
        "Đạt {achieved}/{planned}; {in_progress} hồ sơ đang xét sẽ bù phần còn thiếu.",
        "{achieved} of {planned}; {in_progress} dossiers under way would close the gap.",
    ),
    "no_risk_threshold": (
        "Đạt {achieved}/{planned}, còn {months_left} tháng; chưa cấu hình ngưỡng rủi ro.",
        "{achieved} of {planned}, {months_left} months left; no at-risk threshold configured.",
    ),
    "little_time_left": (
        "Đạt {achieved}/{planned}, chỉ còn {months_left} tháng (ngưỡng {threshold_months}).",
        "{achieved} of {planned} with {months_left} months left (threshold {threshold_months}).",
    ),
    "time_left": (
        "Đạt {achieved}/{planned}, còn {months_left} tháng.",
        "{achieved} of {planned}, {months_left} months left.",
    ),
    "no_denominator": (
        "Không còn đơn vị nào trong phạm vi vào ngày này.",
        "No unit of the scope is left on this date.",
    ),
    "no_assessment": (
        "Chưa có kết quả đánh giá tiêu chí.",
        "No assessment of the criteria yet.",
    ),
    "no_difficult_communes": (
        "Phạm vi không có xã đặc biệt khó khăn vào ngày xác định phạm vi.",
        "The scope had no especially difficult commune on its scope date.",
    ),
    "no_figure_reported": (
        "Chưa có số liệu báo cáo đến ngày này.",
        "No figure reported up to this date.",
    ),
    "nothing_measured": ("Không có gì để đo.", "Nothing to measure."),
    # roadmap items
    "recognised": (
        "Đã được công nhận ({title}) theo quyết định {decision} ngày {decision_date}.",
        "Recognised ({title}) by decision {decision} of {decision_date}.",
    ),
    "reclassified": (
        "Đơn vị đã chuyển thành {type} từ {since}: ra khỏi mẫu số.",
        "The unit became a {type} on {since} and left the denominator.",
    ),
    "merged_away": (
        "Đơn vị đã sáp nhập vào {into_name} ({into_code}) từ {since}.",
        "The unit merged into {into_name} ({into_code}) on {since}.",
    ),
    "unit_ended": ("Đơn vị không còn tồn tại.", "The unit no longer exists."),
    "target_year_over": (
        "Hết năm {year} mà chưa được công nhận.",
        "Year {year} ended without recognition.",
    ),
    "dossier_under_way": (
        "Hồ sơ đang ở bước {status}.",
        "A dossier is at the {status} step.",
    ),
    "all_criteria_met": (
        "Đạt {total}/{total} tiêu chí; chưa có hồ sơ đề nghị công nhận.",
        "All {total} criteria met; no dossier yet.",
    ),
    "too_many_unmet": (
        "Còn {unmet} tiêu chí chưa đạt ({criteria}) với {months_left} tháng còn lại "
        "(ngưỡng: trên {threshold_unmet} tiêu chí, dưới {threshold_months} tháng).",
        "{unmet} criteria not met ({criteria}) with {months_left} months left (threshold: more "
        "than {threshold_unmet} criteria, fewer than {threshold_months} months).",
    ),
    "criteria_not_met": (
        "Còn {unmet}/{total} tiêu chí chưa đạt: {criteria}.",
        "{unmet} of {total} criteria not met: {criteria}.",
    ),
}


def _figure(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sentence(reason: Reason, language: Language) -> str:
    vi, en = SENTENCES.get(reason.code, (reason.code, reason.code))
    figures: defaultdict[str, str] = defaultdict(str)
    figures.update({k: _figure(v) for k, v in reason.params.items()})
    return (vi if language == "vi" else en).format_map(figures)


def _unit(label: UnitLabel | None) -> dict[str, Any] | None:
    if label is None:
        return None
    return {"id": label.id, "code": label.code, "name": label.name, "level": label.level}


def _target(result: TargetResult, language: Language) -> dict[str, Any]:
    target = result.target
    return {
        "target_id": target["id"],
        "metric": target["metric"],
        "title": target["title"],
        "year": target["year"],
        "scope": _unit(result.scope),
        "planned": target["planned_value"],
        "achieved": result.measure.achieved,
        "numerator": result.measure.numerator,
        "denominator": result.measure.denominator,
        "status": result.status.value,
        "reason_code": result.reason.code,
        "reason": sentence(result.reason, language),
        "source_document": target["source_document"],
    }


def _item(result: ItemResult, language: Language) -> dict[str, Any]:
    item = result.item
    standing = result.standing
    return {
        "item_id": item["id"],
        "unit": _unit(result.unit),
        "district": _unit(result.district),
        "title": item["title"],
        "target_year": item["target_year"],
        "owner": item["owner"],
        "status": result.status.value,
        "reason_code": result.reason.code,
        "reason": sentence(result.reason, language),
        "criteria_met": standing.criteria_met if standing else None,
        "criteria_total": standing.criteria_total if standing else None,
        "criteria_not_met": list(standing.criteria_not_met) if standing else [],
        "dossier": {
            "id": str(result.dossier.dossier_id),
            "status": result.dossier.status,
            "at": result.dossier.at,
        }
        if result.dossier
        else None,
    }


def progress(result: PlanProgress, language: Language) -> dict[str, Any]:
    return {
        "plan_id": result.plan["id"],
        "as_of": result.as_of.isoformat(),
        "thresholds": {
            "criteria_unmet": result.thresholds.criteria_unmet,
            "months_left": result.thresholds.months_left,
        },
        "targets": [_target(t, language) for t in result.targets],
        "roadmap": [_item(i, language) for i in result.roadmap],
        "rollup": [
            {
                "unit": _unit(row.unit),
                "level": row.level,
                "items": row.items,
                "by_status": dict(row.by_status),
            }
            for row in result.rollup
        ],
    }


PROGRESS_TABLE = Table(
    "plan_progress",
    "Plan progress",
    (
        text("row", "target, roadmap (one item) or rollup (a district or the plan's unit)."),
        identifier("plan_id", "The plan."),
        day("as_of", "The date progress is read on."),
        identifier("id", "The target or roadmap item (empty for rollup rows)."),
        identifier("unit_id", "The unit: a target's scope, an item's unit, a rollup's unit."),
        text("unit_code", "Its code on the date (codes are reused: read with as_of)."),
        text("unit_name", "Its name on the date (or when it last existed)."),
        text("district_code", "The district of a roadmap item's unit on the date."),
        text("district_name", "The district's name."),
        text("metric", "A target's metric."),
        text("title", "The title counted or aimed at."),
        integer("year", "A target's year, or a roadmap item's target year."),
        number("planned", "A target's planned value."),
        number("achieved", "A target's achieved value on the date."),
        integer("numerator", "Units counted (holding the title, assessed, …)."),
        integer("denominator", "Units of the scope on the date."),
        text("status", "The status (docs/plans.md)."),
        text("reason_code", "The rule that gave the status."),
        text("reason", "The reason, in the caller's language."),
        text("source_document", "The document that set a target."),
        text("owner", "Who answers for a roadmap item."),
        integer("criteria_met", "Criteria met by the latest assessment (roadmap items)."),
        integer("criteria_total", "Criteria of that assessment's set."),
        text("criteria_not_met", "Numbers of the criteria not met."),
        integer("items", "Rollup rows: roadmap items counted."),
    ),
)


async def progress_rows(result: PlanProgress, language: Language) -> AsyncIterator[Chunk]:
    plan_id, on = result.plan["id"], result.as_of
    rows: list[tuple[Any, ...]] = []
    for t in result.targets:
        target = t.target
        rows.append(
            (
                "target", plan_id, on, target["id"], t.scope.id, t.scope.code, t.scope.name,
                None, None, target["metric"], target["title"], target["year"],
                target["planned_value"], t.measure.achieved, t.measure.numerator,
                t.measure.denominator, t.status.value, t.reason.code,
                sentence(t.reason, language), target["source_document"], None, None, None,
                None, None,
            )
        )  # fmt: skip
    for i in result.roadmap:
        item, standing, district = i.item, i.standing, i.district
        rows.append(
            (
                "roadmap", plan_id, on, item["id"], i.unit.id, i.unit.code, i.unit.name,
                district.code if district else None, district.name if district else None,
                None, item["title"], item["target_year"], None, None, None, None,
                i.status.value, i.reason.code, sentence(i.reason, language), None,
                item["owner"], standing.criteria_met if standing else None,
                standing.criteria_total if standing else None,
                ", ".join(str(n) for n in standing.criteria_not_met) if standing else None,
                None,
            )
        )  # fmt: skip
    for row in result.rollup:
        counts = "; ".join(f"{k}={v}" for k, v in sorted(row.by_status.items()))
        rows.append(
            (
                "rollup", plan_id, on, None, row.unit.id, row.unit.code, row.unit.name, None,
                None, None, None, None, None, None, None, None, counts, None, None, None, None,
                None, None, None, row.items,
            )
        )  # fmt: skip
    yield rows
