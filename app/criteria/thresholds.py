"""Which threshold applies to a unit, and what a set still lacks. Pure functions over rows.

Resolution order (most specific first): a province's own value in a derived set, then a value for
the unit's classification, region and year together, region, year, commune group, and finally the
value without dimensions. Especially difficult communes, and safe-zone communes of poor districts,
are read in the region column named by the set's applicability rules (318/QĐ-TTg art. 1: TDMNPB).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.criteria.document import CriteriaSetDocument
from app.criteria.validation import COMMUNE_GROUPS, REGIONS
from app.models.enums import IndicatorKind

DIMENSIONS = ("region", "year", "commune_group", "classification")
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Subject:
    """What picks a unit's thresholds in a year."""

    region: str | None
    year: int
    commune_group: int | None
    classifications: frozenset[str] = field(default_factory=frozenset)


def number(value: float | None) -> float | int | None:
    """Whole numbers back as integers, so that ``24`` round-trips as ``24``."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def threshold_value(row: Row) -> bool | float | int | None:
    if row["value_bool"] is not None:
        return bool(row["value_bool"])
    return number(row["value_number"])


def when_of(row: Row) -> dict[str, Any]:
    return {key: row[key] for key in DIMENSIONS if row[key] is not None}


def _matches(row: Row, subject: Subject) -> bool:
    return (
        (row["region"] is None or row["region"] == subject.region)
        and (row["year"] is None or row["year"] == subject.year)
        and (row["commune_group"] is None or row["commune_group"] == subject.commune_group)
        and (row["classification"] is None or row["classification"] in subject.classifications)
    )


def is_override(row: Row, derived: bool) -> bool:
    return derived and not row["inherited"]


def _rank(row: Row, derived: bool) -> tuple[bool, ...]:
    region, year = row["region"] is not None, row["year"] is not None
    return (
        is_override(row, derived),
        row["classification"] is not None,
        region and year,
        region,
        year,
        row["commune_group"] is not None,
    )


def basis_of(row: Row, derived: bool) -> str:
    if is_override(row, derived):
        return "province_override"
    if row["classification"] is not None:
        return "classification"
    if row["region"] is not None and row["year"] is not None:
        return "region_year"
    for key in ("region", "year", "commune_group"):
        if row[key] is not None:
            return key
    return "default"


def best_threshold(rows: Sequence[Row], subject: Subject, derived: bool) -> Row | None:
    """The most specific matching row; on a tie the first in the set's order."""
    best: Row | None = None
    best_rank: tuple[bool, ...] | None = None
    for row in rows:
        if not _matches(row, subject):
            continue
        rank = _rank(row, derived)
        if best_rank is None or rank > best_rank:
            best, best_rank = row, rank
    return best


def missing_reason(indicator: Row, rows: Sequence[Row], subject: Subject) -> tuple[str, str]:
    """Why no threshold applies: a stable code and a sentence."""
    if indicator["left_to_province"]:
        return "left_to_province", "left to the province: no value has been set for this unit"
    if subject.region is None and any(row["region"] is not None for row in rows):
        return (
            "region_unknown",
            "the unit's NTM region is not recorded at that date, and the values depend on it",
        )
    if subject.commune_group is None and any(row["commune_group"] is not None for row in rows):
        return (
            "commune_group_unknown",
            "the unit's commune group is not recorded at that date, and the values depend on it",
        )
    if not rows:
        return "not_found", "no value was found in the sources for this indicator"
    return "not_found", "no value was found for this unit's region, year or group"


def _covered(values: Iterable[Any], universe: Iterable[Any]) -> list[Any]:
    present = set(values)
    return sorted(v for v in universe if v not in present)


def missing_items(
    doc: CriteriaSetDocument, regions_in_scope: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """What the set does not say yet and a province (or an administrator) must specify."""
    items: list[dict[str, Any]] = []
    regions = regions_in_scope or REGIONS
    for criterion in doc.criteria:
        if not criterion.indicators:
            items.append(
                {
                    "kind": "criterion",
                    "criterion": criterion.number,
                    "reason": "indicators_not_found",
                }
            )
        for indicator in criterion.indicators:
            if indicator.kind == IndicatorKind.JUDGEMENT:
                continue
            base = {"kind": "indicator", "criterion": criterion.number, "code": indicator.code}
            whens = [t.when for t in indicator.thresholds if t.when.classification is None]
            if not indicator.thresholds:
                reason = "left_to_province" if indicator.left_to_province else "threshold_not_found"
                items.append({**base, "reason": reason})
                continue
            if any(w.region is None and w.commune_group is None for w in whens):
                continue
            if any(w.region is not None for w in whens):
                gaps = _covered((w.region for w in whens), regions)
                if gaps:
                    items.append({**base, "reason": "regions_not_covered", "regions": gaps})
            elif any(w.commune_group is not None for w in whens):
                gaps = _covered((w.commune_group for w in whens), COMMUNE_GROUPS)
                if gaps:
                    items.append(
                        {**base, "reason": "commune_groups_not_covered", "commune_groups": gaps}
                    )
    for condition in doc.conditions:
        if condition.kind != IndicatorKind.JUDGEMENT and condition.threshold is None:
            reason = "left_to_province" if condition.left_to_province else "threshold_not_found"
            items.append({"kind": "condition", "code": condition.code, "reason": reason})
    for prerequisite in doc.prerequisites:
        if prerequisite.left_to_province:
            items.append(
                {
                    "kind": "prerequisite",
                    "prerequisite": prerequisite.kind,
                    "reason": "left_to_province",
                }
            )
    return items


def unpublishable(doc: CriteriaSetDocument, own: set[str] | None) -> list[dict[str, Any]]:
    """Indicators that block publication: no threshold and not an appraiser's judgement.

    A national set may leave a value to the provinces. In a derived set (``own`` = the codes the
    province added or changed) the province must give a value for those; inherited indicators
    were accepted with their parent and their gaps stay listed in ``missing``.
    """
    national = doc.scope.kind == "national"
    errors = []
    for i, criterion in enumerate(doc.criteria):
        for j, indicator in enumerate(criterion.indicators):
            if own is not None and indicator.code not in own:
                continue
            if indicator.kind == IndicatorKind.JUDGEMENT or indicator.thresholds:
                continue
            if indicator.left_to_province and national:
                continue
            errors.append(
                {
                    "loc": ["criteria", i, "indicators", j, "thresholds"],
                    "msg": f"indicator {indicator.code} (criterion {criterion.number}) has no "
                    "threshold and is not an appraiser's judgement"
                    + (
                        " (a province's set must give the value it was left)"
                        if not national
                        else ""
                    ),
                    "type": "indicator_without_threshold",
                }
            )
    return errors
