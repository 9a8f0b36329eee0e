"""The figures of a report as pure rules over typed inputs (no database): denominators, shares,
criteria-met bands, attainment per criterion (DOMAIN.md §6).

The programme counts communes (xã): wards (phường), towns (thị trấn) and special zones (đặc khu)
are not in the NTM denominator, so a commune that becomes a ward leaves it on that day
(Bắc Giang, 01/01/2025: six NTM communes became wards, DOMAIN.md §5).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.models.enums import CriterionStatus, Title, UnitType

RURAL_COMMUNE_TYPES = frozenset({UnitType.XA.value})
DENOMINATOR_RULE = (
    "rural communes (xã) in the scope on as_of; wards (phường), towns (thị trấn) and special "
    "zones (đặc khu) excluded"
)
# The bands reports use for 19-criterion sets (19, 15–18, 10–14, 5–9, < 5: DOMAIN.md §6); their
# lower bounds scale with the size of the set (10 criteria in 2026–2030: 10, 8–9, 5–7, 3–4, < 3).
BAND_LOWER_BOUNDS_19 = (15, 10, 5)
BAND_REFERENCE_SIZE = 19


@dataclass(frozen=True, slots=True)
class TitleCount:
    title: Title
    count: int
    share: float | None  # of the denominator; None when it is 0


@dataclass(frozen=True, slots=True)
class Band:
    min_met: int
    max_met: int
    count: int


@dataclass(frozen=True, slots=True)
class CriterionCounts:
    number: int
    name: str
    met: int
    basically_met: int
    not_met: int
    undetermined: int


def share(count: int, denominator: int) -> float | None:
    return round(count / denominator, 4) if denominator else None


def title_counts(
    held: Mapping[uuid.UUID, frozenset[Title]], units: Iterable[uuid.UUID], titles: Sequence[Title]
) -> tuple[TitleCount, ...]:
    """How many of ``units`` hold each of ``titles`` (``held``: titles with those implied below
    them on their ladder), with the share of ``units``."""
    wanted = list(units)
    counts: Counter[Title] = Counter()
    for unit_id in wanted:
        for title in held.get(unit_id, frozenset()):
            counts[title] += 1
    return tuple(TitleCount(t, counts[t], share(counts[t], len(wanted))) for t in titles)


def band_bounds(size: int) -> tuple[tuple[int, int], ...]:
    """(min, max) criteria met of each band for a set of ``size`` criteria, highest first."""
    lowers = [
        max(1, math.floor(bound * size / BAND_REFERENCE_SIZE + 0.5))
        for bound in BAND_LOWER_BOUNDS_19
    ]
    bounds = [(size, size)]
    upper = size - 1
    for lower in lowers:
        lower = min(lower, upper)
        bounds.append((lower, upper))
        upper = lower - 1
    bounds.append((0, max(upper, 0)))
    return tuple(bounds)


def bands(met: Iterable[int], size: int) -> tuple[Band, ...]:
    values = list(met)
    return tuple(
        Band(low, high, sum(1 for value in values if low <= value <= high))
        for low, high in band_bounds(size)
    )


def average(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def criterion_counts(
    results: Iterable[Iterable[tuple[int, str, CriterionStatus]]],
) -> tuple[CriterionCounts, ...]:
    """Per criterion number, how many units met it, basically met it, did not, or cannot tell."""
    tally: dict[int, Counter[CriterionStatus]] = {}
    names: dict[int, str] = {}
    for criteria in results:
        for number, name, status in criteria:
            tally.setdefault(number, Counter())[status] += 1
            names.setdefault(number, name)
    return tuple(
        CriterionCounts(
            number,
            names[number],
            tally[number][CriterionStatus.MET],
            tally[number][CriterionStatus.BASICALLY_MET],
            tally[number][CriterionStatus.NOT_MET],
            tally[number][CriterionStatus.UNDETERMINED],
        )
        for number in sorted(tally)
    )
