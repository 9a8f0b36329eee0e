"""Invariants of a criteria-set document that need the whole document, each with a stable code.

Pure functions: the service adds the checks that need the database (codes, parents, scope).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from app.core.errors import Unprocessable, field_error
from app.criteria.document import CriteriaSetDocument, IndicatorDocument, Threshold
from app.models.enums import Comparator, IndicatorKind, Region, Title, UnitLevel

REGIONS = frozenset(region.value for region in Region)
# 51/2025/QĐ-TTg: communes are in group 1, 2 or 3 (DOMAIN.md §1).
COMMUNE_GROUPS = frozenset({1, 2, 3})

TITLE_LEVEL: dict[Title, UnitLevel] = {
    Title.NTM_COMMUNE: UnitLevel.COMMUNE,
    Title.ADVANCED_NTM_COMMUNE: UnitLevel.COMMUNE,
    Title.MODEL_NTM_COMMUNE: UnitLevel.COMMUNE,
    Title.MODERN_NTM_COMMUNE: UnitLevel.COMMUNE,
    Title.NTM_DISTRICT: UnitLevel.DISTRICT,
    Title.ADVANCED_NTM_DISTRICT: UnitLevel.DISTRICT,
    Title.COMPLETED_NTM_TOWN: UnitLevel.DISTRICT,
    Title.COMPLETED_NTM_PROVINCE: UnitLevel.PROVINCE,
    Title.NTM_VILLAGE: UnitLevel.VILLAGE,
    Title.MODEL_VILLAGE: UnitLevel.VILLAGE,
    Title.SMART_VILLAGE: UnitLevel.VILLAGE,
}

Loc = Sequence[str | int]
FieldError = dict[str, Any]


def raise_if(errors: list[FieldError], status: int = 422) -> None:
    """One problem for all errors; its code is the first error's (each error keeps its own)."""
    if not errors:
        return
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise Unprocessable(
        f"{first['msg']}{more}.",
        code=first["type"],
        status=status,
        errors=errors,
    )


def _duplicates(values: Iterable[tuple[Loc, object]], code: str, what: str) -> list[FieldError]:
    seen: set[object] = set()
    errors = []
    for loc, value in values:
        if value in seen:
            errors.append(field_error(loc, f"duplicate {what} {value!r}", code))
        seen.add(value)
    return errors


def threshold_errors(
    indicator: IndicatorDocument,
    thresholds: Sequence[Threshold],
    loc: Loc,
    *,
    period: tuple[int, int],
    sources: set[str] | None,
) -> list[FieldError]:
    """Checks of one indicator's thresholds (also used by PUT …/thresholds)."""
    errors: list[FieldError] = []
    for index, threshold in enumerate(thresholds):
        here = [*loc, index]
        when = threshold.when
        if when.region is not None and when.region not in REGIONS:
            errors.append(
                field_error(
                    [*here, "when", "region"],
                    f"unknown region {when.region!r} (one of {', '.join(sorted(REGIONS))})",
                    "unknown_region",
                )
            )
        if when.commune_group is not None and when.commune_group not in COMMUNE_GROUPS:
            errors.append(
                field_error(
                    [*here, "when", "commune_group"],
                    f"unknown commune group {when.commune_group} (1, 2 or 3)",
                    "unknown_commune_group",
                )
            )
        if when.year is not None and not period[0] <= when.year <= period[1]:
            errors.append(
                field_error(
                    [*here, "when", "year"],
                    f"year {when.year} is outside the set's period {period[0]}-{period[1]}",
                    "year_outside_period",
                )
            )
        errors += _value_errors(indicator, threshold, here)
        if sources is not None and threshold.source is not None and threshold.source not in sources:
            errors.append(_unknown_source([*here, "source"], threshold.source))
    return errors


def _value_errors(indicator: IndicatorDocument, threshold: Threshold, loc: Loc) -> list[FieldError]:
    value = threshold.value
    if indicator.kind == IndicatorKind.JUDGEMENT:
        return [
            field_error(
                [*loc, "value"],
                f"indicator {indicator.code} is an appraiser's judgement and takes no threshold",
                "threshold_value_mismatch",
            )
        ]
    if indicator.kind == IndicatorKind.BOOLEAN and not isinstance(value, bool):
        return [
            field_error(
                [*loc, "value"],
                f"indicator {indicator.code} is yes/no: its threshold must be true or false",
                "threshold_value_mismatch",
            )
        ]
    if indicator.kind == IndicatorKind.NUMBER:
        if isinstance(value, bool):
            return [
                field_error(
                    [*loc, "value"],
                    f"indicator {indicator.code} is a number: its threshold must be a number",
                    "threshold_value_mismatch",
                )
            ]
        low, high = indicator.value_min, indicator.value_max
        if (low is not None and value < low) or (high is not None and value > high):
            return [
                field_error(
                    [*loc, "value"],
                    f"threshold {value} of indicator {indicator.code} is outside its range "
                    f"[{low}, {high}]",
                    "threshold_out_of_range",
                )
            ]
    return []


def duplicate_threshold_errors(
    thresholds: Sequence[Threshold], own: Sequence[bool], loc: Loc
) -> list[FieldError]:
    """Two values for the same dimensions from the same origin would make resolution ambiguous."""
    keys = [
        ([*loc, index, "when"], (mine, tuple(sorted(t.when.model_dump(exclude_none=True).items()))))
        for index, (t, mine) in enumerate(zip(thresholds, own, strict=True))
    ]
    return _duplicates(keys, "duplicate_threshold", "threshold for dimensions")


def _unknown_source(loc: Loc, source: str) -> FieldError:
    return field_error(loc, f"source {source!r} is not in the set's sources", "unknown_source")


def document_errors(doc: CriteriaSetDocument) -> list[FieldError]:
    """Every invariant that the document alone can break; locations are under ``body``."""
    body: list[str | int] = ["body"]
    errors: list[FieldError] = []
    if TITLE_LEVEL[doc.title] != doc.level:
        errors.append(
            field_error(
                [*body, "level"],
                f"title {doc.title.value} is granted to a {TITLE_LEVEL[doc.title].value}, "
                f"not a {doc.level.value}",
                "title_level_mismatch",
            )
        )
    errors += _duplicates(
        (([*body, "sources", i, "id"], s.id) for i, s in enumerate(doc.sources)),
        "duplicate_source_id",
        "source id",
    )
    sources = {s.id for s in doc.sources}

    def check_source(loc: Loc, source: str | None) -> None:
        if source is not None and source not in sources:
            errors.append(_unknown_source(loc, source))

    errors += _duplicates(
        (([*body, "groups", i, "code"], g.code) for i, g in enumerate(doc.groups)),
        "duplicate_group_code",
        "group code",
    )
    groups = {g.code for g in doc.groups}
    for i, rule in enumerate(doc.applicability_rules):
        if rule.use_region not in REGIONS:
            errors.append(
                field_error(
                    [*body, "applicability_rules", i, "use_region"],
                    f"unknown region {rule.use_region!r}",
                    "unknown_region",
                )
            )
        check_source([*body, "applicability_rules", i, "source"], rule.source)

    errors += _duplicates(
        (([*body, "criteria", i, "number"], c.number) for i, c in enumerate(doc.criteria)),
        "duplicate_criterion_number",
        "criterion number",
    )
    errors += _duplicates(
        (
            ([*body, "criteria", i, "indicators", j, "code"], ind.code)
            for i, c in enumerate(doc.criteria)
            for j, ind in enumerate(c.indicators)
        ),
        "duplicate_indicator_code",
        "indicator code",
    )
    period = (doc.period.start_year, doc.period.end_year)
    for i, criterion in enumerate(doc.criteria):
        here: list[str | int] = [*body, "criteria", i]
        if criterion.group is not None and criterion.group not in groups:
            errors.append(
                field_error(
                    [*here, "group"],
                    f"criterion {criterion.number} names group {criterion.group!r}, "
                    "which is not in the set's groups",
                    "unknown_criteria_group",
                )
            )
        check_source([*here, "source"], criterion.source)
        for j, indicator in enumerate(criterion.indicators):
            errors += indicator_errors(indicator, [*here, "indicators", j], period, sources)
    errors += _duplicates(
        (([*body, "conditions", i, "code"], c.code) for i, c in enumerate(doc.conditions)),
        "duplicate_condition_code",
        "condition code",
    )
    for i, condition in enumerate(doc.conditions):
        check_source([*body, "conditions", i, "source"], condition.source)
    for i, prerequisite in enumerate(doc.prerequisites):
        check_source([*body, "prerequisites", i, "source"], prerequisite.source)
    if doc.revocation is not None:
        numbers = {c.number for c in doc.criteria}
        check_source([*body, "revocation", "source"], doc.revocation.source)
        for i, band in enumerate(doc.revocation.bands):
            for j, number in enumerate(band.requires_failing_criterion or []):
                if number not in numbers:
                    errors.append(
                        field_error(
                            [*body, "revocation", "bands", i, "requires_failing_criterion", j],
                            f"criterion {number} is not in the set",
                            "unknown_criterion",
                        )
                    )
    return errors


def indicator_errors(
    indicator: IndicatorDocument, loc: Loc, period: tuple[int, int], sources: set[str] | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if indicator.kind == IndicatorKind.NUMBER and indicator.comparator is None:
        errors.append(
            field_error(
                [*loc, "comparator"],
                f"indicator {indicator.code} is a number and needs a comparator (ge, le or eq)",
                "invalid_indicator",
            )
        )
    if indicator.kind == IndicatorKind.BOOLEAN and indicator.comparator not in (
        None,
        Comparator.EQ,
    ):
        errors.append(
            field_error(
                [*loc, "comparator"],
                f"indicator {indicator.code} is yes/no: its comparator can only be eq",
                "invalid_indicator",
            )
        )
    low, high = indicator.value_min, indicator.value_max
    if low is not None and high is not None and low > high:
        errors.append(
            field_error(
                [*loc, "value_max"],
                f"indicator {indicator.code}: value_max is below value_min",
                "invalid_indicator",
            )
        )
    if sources is not None and indicator.source is not None and indicator.source not in sources:
        errors.append(_unknown_source([*loc, "source"], indicator.source))
    errors += threshold_errors(
        indicator, indicator.thresholds, [*loc, "thresholds"], period=period, sources=sources
    )
    return errors
