"""Progress of a plan on a date: every target's planned and achieved values and every roadmap
item's standing, each with a status and its reason, rolled up commune → district → province.

Figures come from the map on the date (``app.units.query``), the register of titles
(``register.titles_held``), dossiers under way (``dossiers_under_way``) and the
assessments (``app.assessments.service.standing``). Each target counts its own denominator on
the date: units that merged away, were dissolved or became wards leave it (DOMAIN.md §5-6).
The rules themselves are pure (``app.plans.rules``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service.standing import Standing, standings
from app.config import Settings
from app.core.security import Principal
from app.models.enums import (
    ClassificationKind,
    RoadmapStatus,
    TargetMetric,
    TargetStatus,
    Title,
    UnitLevel,
)
from app.plans import repository as repo
from app.plans.rules import (
    BUDGET_METRICS,
    COUNTED_TYPES,
    PROGRAMME_VILLAGE_TYPES,
    RURAL_COMMUNE_TYPES,
    TITLE_LEVEL,
    ItemFacts,
    Measure,
    Reason,
    Thresholds,
    default_title,
    roadmap_status,
    share,
    target_status,
)
from app.plans.service.common import readable_plan
from app.plans.service.register import DossierUnderWay, Held, dossiers_under_way, holding
from app.units import query as units


@dataclass(frozen=True, slots=True)
class UnitLabel:
    id: uuid.UUID
    code: str | None
    name: str | None
    level: str | None

    @classmethod
    def of(cls, version: units.DatedUnit | None, unit_id: uuid.UUID) -> UnitLabel:
        if version is None:
            return cls(unit_id, None, None, None)
        return cls(version.unit_id, version.code, version.name, version.level)


@dataclass(frozen=True, slots=True)
class TargetResult:
    target: Mapping[Any, Any]
    scope: UnitLabel
    measure: Measure
    status: TargetStatus
    reason: Reason


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: Mapping[Any, Any]
    unit: UnitLabel
    district: UnitLabel | None
    status: RoadmapStatus
    reason: Reason
    standing: Standing | None
    dossier: DossierUnderWay | None


@dataclass(frozen=True, slots=True)
class Rollup:
    unit: UnitLabel
    level: str
    items: int
    by_status: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class PlanProgress:
    plan: Mapping[Any, Any]
    as_of: date
    thresholds: Thresholds
    targets: tuple[TargetResult, ...]
    roadmap: tuple[ItemResult, ...]
    rollup: tuple[Rollup, ...]


def thresholds_of(plan: Mapping[Any, Any], settings: Settings) -> Thresholds:
    """The plan's own thresholds, else the settings' (docs/plans.md)."""
    unmet = plan["at_risk_criteria_unmet"]
    months = plan["at_risk_months_left"]
    return Thresholds(
        criteria_unmet=unmet if unmet is not None else settings.plan_at_risk_criteria_unmet,
        months_left=months if months is not None else settings.plan_at_risk_months_left,
    )


async def members(
    session: AsyncSession,
    scope_unit: uuid.UUID,
    scope_day: date,
    on: date,
    level: str,
    types: Iterable[str],
) -> list[units.DatedUnit]:
    """The units of ``level`` and ``types`` under the scope unit on ``on``; once the scope unit
    itself has ended (a province merged in 2025), those it held on ``scope_day`` that still exist
    with those types on ``on`` (the old scope stays answerable)."""
    wanted = set(types)
    if await units.version_on(session, scope_unit, on) is not None:
        found = await units.units_in_subtree(session, [scope_unit], on, level=level)
    else:
        then = await units.units_in_subtree(session, [scope_unit], scope_day, level=level)
        now = await units.versions_on(session, [u.unit_id for u in then], on)
        found = [now[u.unit_id] for u in then if u.unit_id in now]
    return [unit for unit in found if unit.type in wanted]


async def _measure_titles(
    session: AsyncSession, target: Mapping[Any, Any], title: Title, on: date
) -> Measure:
    found = await members(
        session,
        target["scope_unit_id"],
        target["scope_as_of"],
        on,
        TITLE_LEVEL[title].value,
        COUNTED_TYPES[title],
    )
    if not found:
        return Measure(None, 0, 0, empty_reason="no_denominator")
    ids = [unit.unit_id for unit in found]
    held = await holding(session, ids, title, on)
    under_way = await dossiers_under_way(session, [i for i in ids if i not in held], title, on)
    numerator, denominator = len(held), len(ids)
    achieved = (
        share(numerator, denominator)
        if TargetMetric(target["metric"]) == TargetMetric.SHARE_WITH_TITLE
        else float(numerator)
    )
    return Measure(achieved, numerator, denominator, in_progress=len(under_way))


async def _measure_criteria(
    session: AsyncSession, target: Mapping[Any, Any], title: Title, on: date
) -> Measure:
    found = await members(
        session,
        target["scope_unit_id"],
        target["scope_as_of"],
        on,
        UnitLevel.COMMUNE.value,
        RURAL_COMMUNE_TYPES,
    )
    if not found:
        return Measure(None, 0, 0, empty_reason="no_denominator")
    known = await standings(session, [unit.unit_id for unit in found], title.value, on)
    if not known:
        return Measure(None, 0, len(found), empty_reason="no_assessment")
    if TargetMetric(target["metric"]) == TargetMetric.AVERAGE_CRITERIA_MET:
        average = sum(s.criteria_met for s in known.values()) / len(known)
        return Measure(round(average, 2), len(known), len(found))
    below = sum(1 for s in known.values() if s.criteria_met < target["criteria_threshold"])
    return Measure(float(below), len(known), len(found))


async def _measure_villages(session: AsyncSession, target: Mapping[Any, Any], on: date) -> Measure:
    """Villages of the communes that were especially difficult when the scope was read (an NTM
    recognition moves a commune out of region III, DOMAIN.md §7, so the set is fixed at the
    plan's scope date) holding the NTM village title on the date."""
    communes = await members(
        session,
        target["scope_unit_id"],
        target["scope_as_of"],
        target["scope_as_of"],
        UnitLevel.COMMUNE.value,
        RURAL_COMMUNE_TYPES,
    )
    difficult = {
        c.unit_id
        for c in await units.classifications(
            session,
            [u.unit_id for u in communes],
            on=target["scope_as_of"],
            kinds=[ClassificationKind.ESPECIALLY_DIFFICULT.value],
        )
        if c.value == "true"
    }
    if not difficult:
        return Measure(None, 0, 0, empty_reason="no_difficult_communes")
    then = await units.units_in_subtree(
        session, difficult, target["scope_as_of"], level=UnitLevel.VILLAGE.value
    )
    now = await units.versions_on(session, [v.unit_id for v in then], on)
    villages = [v for v in now.values() if v.type in PROGRAMME_VILLAGE_TYPES]
    if not villages:
        return Measure(None, 0, 0, empty_reason="no_denominator")
    held = await holding(session, [v.unit_id for v in villages], Title.NTM_VILLAGE, on)
    return Measure(float(len(held)), len(held), len(villages))


def _measure_budget(target: Mapping[Any, Any], on: date) -> Measure:
    figures = [f for f in target["reported"] or [] if date.fromisoformat(f["on"]) <= on]
    if not figures:
        return Measure(None, empty_reason="no_figure_reported")
    latest = max(figures, key=lambda f: f["on"])
    return Measure(float(latest["value"]))


async def _target(
    session: AsyncSession, target: Mapping[Any, Any], on: date, thresholds: Thresholds
) -> TargetResult:
    metric = TargetMetric(target["metric"])
    title = default_title(metric, Title(target["title"]) if target["title"] else None)
    if metric in BUDGET_METRICS:
        measure = _measure_budget(target, on)
    elif metric == TargetMetric.DIFFICULT_VILLAGES_NTM:
        measure = await _measure_villages(session, target, on)
    elif metric in (TargetMetric.AVERAGE_CRITERIA_MET, TargetMetric.COMMUNES_BELOW_CRITERIA):
        assert title is not None  # defaulted to ntm_commune
        measure = await _measure_criteria(session, target, title, on)
    else:
        assert title is not None  # required on create
        measure = await _measure_titles(session, target, title, on)
    status, reason = target_status(
        metric, target["planned_value"], target["year"], measure, on, thresholds
    )
    scope = await units.last_versions(session, [target["scope_unit_id"]], on)
    return TargetResult(
        target,
        UnitLabel.of(scope.get(target["scope_unit_id"]), target["scope_unit_id"]),
        measure,
        status,
        reason,
    )


async def _left_scope(
    session: AsyncSession, unit_id: uuid.UUID, version: units.DatedUnit | None, title: Title
) -> Reason | None:
    """Why a unit no longer counts for its title on the date, or None if it still does."""
    if version is not None:
        if version.type in COUNTED_TYPES[title]:
            return None
        return Reason(
            "reclassified", {"type": version.type, "since": version.valid_from.isoformat()}
        )
    lineage = await units.lineage(session, unit_id)
    direct = [step for step in lineage.successors if step.depth == 1]
    if not direct:
        return Reason("unit_ended", {})
    step = direct[0]
    successor = (await units.last_versions(session, [step.unit_id], step.effective_date)).get(
        step.unit_id
    )
    return Reason(
        "merged_away",
        {
            "into_code": successor.code if successor else None,
            "into_name": successor.name if successor else None,
            "since": step.effective_date.isoformat(),
        },
    )


async def _ancestor_at(
    session: AsyncSession, versions: Mapping[uuid.UUID, units.DatedUnit], on: date, level: str
) -> dict[uuid.UUID, units.DatedUnit]:
    """For each unit, its ancestor of ``level`` where it stood on ``on`` (or last stood)."""
    out: dict[uuid.UUID, units.DatedUnit] = {}
    current = dict(versions)
    for _ in range(units.MAX_DEPTH):
        pending = {k: v for k, v in current.items() if k not in out}
        for unit_id, version in pending.items():
            if version.level == level:
                out[unit_id] = version
        parents = {v.parent_id for k, v in pending.items() if k not in out and v.parent_id}
        if not parents:
            break
        found = await units.last_versions(session, parents, on)
        current = {
            k: found[v.parent_id]
            for k, v in pending.items()
            if k not in out and v.parent_id in found
        }
    return out


async def _roadmap(
    session: AsyncSession, items: list[Any], on: date, thresholds: Thresholds
) -> list[ItemResult]:
    ids = {item["unit_id"] for item in items}
    valid = await units.versions_on(session, ids, on)
    last = await units.last_versions(session, ids, on)
    districts = await _ancestor_at(session, last, on, UnitLevel.DISTRICT.value)
    by_title: dict[Title, list[uuid.UUID]] = {}
    for item in items:
        by_title.setdefault(Title(item["title"]), []).append(item["unit_id"])
    held: dict[Title, Mapping[uuid.UUID, Held]] = {}
    under_way: dict[Title, Mapping[uuid.UUID, DossierUnderWay]] = {}
    known: dict[Title, Mapping[uuid.UUID, Standing]] = {}
    for title, unit_ids in by_title.items():
        held[title] = await holding(session, unit_ids, title, on)
        under_way[title] = await dossiers_under_way(session, unit_ids, title, on)
        present = [u for u in unit_ids if u in valid]
        known[title] = await standings(session, present, title.value, on) if present else {}
    results = []
    for item in items:
        title = Title(item["title"])
        unit_id = item["unit_id"]
        grant = held[title].get(unit_id)
        dossier = under_way[title].get(unit_id)
        standing = known[title].get(unit_id)
        facts = ItemFacts(
            recognised=Reason(
                "recognised",
                {
                    "title": grant.title,
                    "decision": grant.decision_number,
                    "decision_date": grant.decision_date.isoformat()
                    if grant.decision_date
                    else None,
                    "for_year": grant.year,
                },
            )
            if grant
            else None,
            left_scope=await _left_scope(session, unit_id, valid.get(unit_id), title),
            dossier=Reason("dossier_under_way", {"status": dossier.status, "at": dossier.at})
            if dossier
            else None,
            criteria_total=standing.criteria_total if standing else None,
            criteria_not_met=standing.criteria_not_met if standing else (),
        )
        status, reason = roadmap_status(item["target_year"], facts, on, thresholds)
        district = districts.get(unit_id)
        results.append(
            ItemResult(
                item,
                UnitLabel.of(last.get(unit_id), unit_id),
                UnitLabel.of(district, district.unit_id) if district else None,
                status,
                reason,
                standing,
                dossier,
            )
        )
    return results


def _rollup(plan_unit: UnitLabel, results: list[ItemResult]) -> list[Rollup]:
    rows: list[Rollup] = []
    by_district: dict[uuid.UUID, list[ItemResult]] = {}
    labels: dict[uuid.UUID, UnitLabel] = {}
    for result in results:
        if result.district is not None:
            by_district.setdefault(result.district.id, []).append(result)
            labels[result.district.id] = result.district
    for district_id, group in sorted(by_district.items(), key=lambda kv: labels[kv[0]].code or ""):
        counts = Counter(r.status.value for r in group)
        rows.append(Rollup(labels[district_id], UnitLevel.DISTRICT.value, len(group), dict(counts)))
    counts = Counter(r.status.value for r in results)
    rows.append(Rollup(plan_unit, plan_unit.level or "", len(results), dict(counts)))
    return rows


async def progress(
    session: AsyncSession,
    plan_id: uuid.UUID,
    on: date,
    settings: Settings,
    principal: Principal | None,
) -> PlanProgress:
    plan = await readable_plan(session, plan_id, principal)
    thresholds = thresholds_of(plan, settings)
    targets = [
        await _target(session, target, on, thresholds)
        for target in await repo.children(session, repo.TARGETS, plan_id)
    ]
    items = await repo.children(session, repo.ROADMAP, plan_id)
    roadmap = await _roadmap(session, items, on, thresholds) if items else []
    issuing = await units.last_versions(session, [plan["issuing_unit_id"]], on)
    label = UnitLabel.of(issuing.get(plan["issuing_unit_id"]), plan["issuing_unit_id"])
    return PlanProgress(
        plan, on, thresholds, tuple(targets), tuple(roadmap), tuple(_rollup(label, roadmap))
    )
