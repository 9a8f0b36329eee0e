"""Reports for a unit's subtree on a date: titles from the register (official) with the
denominator stated, and computed attainment beside them under its own name (DOMAIN.md §6).

Set-based throughout: the map of the subtree in one statement (``app.units.query``), the titles
of all its units in one (``app.recognitions.query``), the assessments of all its communes in one,
evaluated in batches by the assessments feature.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service.attainment import Attainment, attainment
from app.core import authz
from app.core.clock import today
from app.core.errors import NotFound, Unprocessable, field_error
from app.core.http import Language
from app.core.permissions import Action
from app.core.security import Principal
from app.criteria.service.reading import head_or_404, list_sets
from app.db.chunking import chunks
from app.db.intervals import Period
from app.models.enums import Title, UnitLevel
from app.recognitions import query as register
from app.recognitions.titles import TITLE_LEVEL, implied
from app.reports import figures
from app.units import query as units

COMMUNE_TITLES = tuple(t for t, level in TITLE_LEVEL.items() if level == UnitLevel.COMMUNE)
DISTRICT_TITLES = tuple(t for t, level in TITLE_LEVEL.items() if level == UnitLevel.DISTRICT)
VILLAGE_TITLES = tuple(t for t, level in TITLE_LEVEL.items() if level == UnitLevel.VILLAGE)
GROUP_LEVELS = (UnitLevel.PROVINCE, UnitLevel.DISTRICT)


@dataclass(frozen=True, slots=True)
class Placed:
    """A unit with the codes and names of the units above it on the report's date."""

    unit: units.DatedUnit
    parents: Mapping[str, units.DatedUnit]  # level → unit


@dataclass(frozen=True, slots=True)
class CommuneFigures:
    denominator: int
    excluded: Mapping[str, int]  # unit type → communes not counted
    titles: tuple[figures.TitleCount, ...]


@dataclass(frozen=True, slots=True)
class LevelFigures:
    count: int
    titles: tuple[figures.TitleCount, ...]


@dataclass(frozen=True, slots=True)
class AttainmentFigures:
    assessed: int
    not_assessed: int
    average_criteria_met: float | None
    criteria_total: int | None
    bands: tuple[figures.Band, ...]
    criteria: tuple[figures.CriterionCounts, ...]


@dataclass(frozen=True, slots=True)
class SetUsed:
    id: uuid.UUID
    code: str
    name: str
    legal_basis_number: str | None
    legal_basis_date: date | None


@dataclass(frozen=True, slots=True)
class Freshness:
    newest_change: datetime | None
    assessments: datetime | None
    recognitions: datetime | None


@dataclass(frozen=True, slots=True)
class Summary:
    unit: units.DatedUnit | None  # None: the whole country
    year: int
    as_of: date
    communes: CommuneFigures
    districts: LevelFigures
    villages: LevelFigures
    attainment: AttainmentFigures
    criteria_sets: tuple[SetUsed, ...]
    freshness: Freshness


@dataclass(frozen=True, slots=True)
class CriterionRow:
    placed: Placed
    attained: Attainment
    number: int
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class SeriesGroup:
    unit: units.DatedUnit | None  # None: the whole scope
    communes: CommuneFigures
    assessed: int
    average_criteria_met: float | None


@dataclass(frozen=True, slots=True)
class SeriesYear:
    year: int
    as_of: date
    root_on_map: bool
    groups: tuple[SeriesGroup, ...]
    total: SeriesGroup


# --- inputs -------------------------------------------------------------------------------------


def default_as_of(year: int) -> date:
    """The last day of ``year``, or today while it runs."""
    return min(date(year, 12, 31), today())


async def _root(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID | None, day: date
) -> units.DatedUnit | None:
    """The unit reported on, on ``day``; None for the whole country (a national grant)."""
    if unit_id is None:
        national = NotFound("No national scope.", code="unit_not_found")
        await authz.require(session, principal, Action.REPORTS_READ, unit_id=None, missing=national)
        return None
    missing = NotFound(f"No unit {unit_id}.", code="unit_not_found", params={"id": unit_id})
    await authz.require(session, principal, Action.REPORTS_READ, unit_id=unit_id, missing=missing)
    version = await units.version_on(session, unit_id, day)
    if version is None:
        if not await units.unit_exists(session, unit_id):
            raise missing
        raise Unprocessable(
            f"Unit {unit_id} was not on the map on {day.isoformat()}.",
            code="unit_not_on_map",
            errors=[
                field_error(["query", "unit_id"], "not on the map that day", "unit_not_on_map")
            ],
        )
    return version


async def check_year(session: AsyncSession, year: int, language: Language, loc: str) -> None:
    """422 naming ``loc`` for a year that no published commune criteria set covers."""
    found, _, _ = await list_sets(
        session, None, language, level=UnitLevel.COMMUNE.value, year=year, limit=1,
        status="published",
    )  # fmt: skip
    if not found:
        raise Unprocessable(
            f"No published commune criteria set covers {year}.",
            code="year_outside_criteria_sets",
            errors=[
                field_error(
                    ["query", loc], "no criteria set that year", "year_outside_criteria_sets"
                )
            ],
        )


# --- the map and the register -------------------------------------------------------------------


async def _subtree(
    session: AsyncSession, root: units.DatedUnit | None, day: date
) -> tuple[list[units.DatedUnit], dict[uuid.UUID, units.DatedUnit]]:
    """The units under ``root`` (the whole map for None) on ``day``, and every unit a placement
    may climb to (those, and the root's ancestors)."""
    if root is None:
        provinces = await units.versions_at_level(session, UnitLevel.PROVINCE.value, Period.on(day))
        inside = await units.units_in_subtree(session, [p.unit_id for p in provinces], day)
        return inside, {u.unit_id: u for u in inside}
    inside = await units.units_in_subtree(session, [root.unit_id], day)
    above = await units.chain_on(session, root.unit_id, day)
    by_id = {u.unit_id: u for u in [*above, *inside]}
    return inside, by_id


def _placed(unit: units.DatedUnit, by_id: Mapping[uuid.UUID, units.DatedUnit]) -> Placed:
    parents: dict[str, units.DatedUnit] = {unit.level: unit}
    step = unit
    for _ in range(units.MAX_DEPTH):
        if step.parent_id is None or step.parent_id not in by_id:
            break
        step = by_id[step.parent_id]
        parents.setdefault(step.level, step)
    return Placed(unit, parents)


async def _held(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], day: date
) -> dict[uuid.UUID, frozenset[Title]]:
    held = await register.titles_held(session, unit_ids, day)
    return {unit_id: implied(titles) for unit_id, titles in held.items()}


def commune_figures(
    communes: Sequence[units.DatedUnit], held: Mapping[uuid.UUID, frozenset[Title]]
) -> CommuneFigures:
    rural = [c.unit_id for c in communes if c.type in figures.RURAL_COMMUNE_TYPES]
    excluded = Counter(c.type for c in communes if c.type not in figures.RURAL_COMMUNE_TYPES)
    return CommuneFigures(
        denominator=len(rural),
        excluded=dict(sorted(excluded.items())),
        titles=figures.title_counts(held, rural, COMMUNE_TITLES),
    )


def _level_figures(
    found: Sequence[units.DatedUnit],
    held: Mapping[uuid.UUID, frozenset[Title]],
    titles: Sequence[Title],
) -> LevelFigures:
    ids = [u.unit_id for u in found]
    return LevelFigures(len(ids), figures.title_counts(held, ids, titles))


def attainment_figures(
    rural: Sequence[uuid.UUID], attained: Mapping[uuid.UUID, Attainment]
) -> AttainmentFigures:
    results = [attained[u] for u in rural if u in attained]
    sizes = Counter(r.criteria_total for r in results)
    size = sizes.most_common(1)[0][0] if sizes else None
    met = [r.criteria_met for r in results]
    bands: tuple[figures.Band, ...] = ()
    if size is not None:
        # Each commune falls in a band of its own set's size; bands are named by the usual size.
        counts = [0] * len(figures.band_bounds(size))
        for result in results:
            for index, (low, high) in enumerate(figures.band_bounds(result.criteria_total)):
                if low <= result.criteria_met <= high:
                    counts[index] += 1
        bands = tuple(
            figures.Band(low, high, counts[i])
            for i, (low, high) in enumerate(figures.band_bounds(size))
        )
    return AttainmentFigures(
        assessed=len(results),
        not_assessed=len(rural) - len(results),
        average_criteria_met=figures.average(met),
        criteria_total=size,
        bands=bands,
        criteria=figures.criterion_counts(
            [(c.number, c.name, c.status) for c in r.criteria] for r in results
        ),
    )


async def _sets_used(session: AsyncSession, set_ids: Iterable[uuid.UUID]) -> tuple[SetUsed, ...]:
    used = []
    for set_id in sorted(set(set_ids)):
        head = await head_or_404(session, set_id)
        used.append(
            SetUsed(
                set_id,
                head["code"],
                head["name_vi"],
                head["legal_basis_number"],
                head["legal_basis_date"],
            )
        )
    return tuple(sorted(used, key=lambda s: s.code))


async def _recognitions_changed(
    session: AsyncSession, unit_ids: Sequence[uuid.UUID]
) -> datetime | None:
    newest: datetime | None = None
    table = register.RECOGNITIONS
    for part in chunks(sorted(set(unit_ids))):
        found = await session.scalar(
            select(func.max(table.c.updated_at)).where(table.c.unit_id.in_(part))
        )
        if found is not None and (newest is None or found > newest):
            newest = found
    return newest


def _newest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


# --- the reports ----------------------------------------------------------------------------------


async def summary(
    session: AsyncSession,
    principal: Principal,
    unit_id: uuid.UUID | None,
    year: int,
    as_of: date | None,
    language: Language,
    criteria_set_id: uuid.UUID | None = None,
) -> Summary:
    day = as_of or default_as_of(year)
    await check_year(session, year, language, "year")
    root = await _root(session, principal, unit_id, day)
    inside, _ = await _subtree(session, root, day)
    by_level: dict[str, list[units.DatedUnit]] = {}
    for unit in inside:
        by_level.setdefault(unit.level, []).append(unit)
    communes = by_level.get(UnitLevel.COMMUNE.value, [])
    held = await _held(session, [u.unit_id for u in inside], day)
    commune_figs = commune_figures(communes, held)
    rural = [c.unit_id for c in communes if c.type in figures.RURAL_COMMUNE_TYPES]
    attained = await attainment(
        session, rural, year, title=None if criteria_set_id else Title.NTM_COMMUNE.value,
        criteria_set_id=criteria_set_id, language=language,
    )  # fmt: skip
    assessed_at = max((a.updated_at for a in attained.values()), default=None)
    recognised_at = await _recognitions_changed(session, [u.unit_id for u in inside])
    return Summary(
        unit=root,
        year=year,
        as_of=day,
        communes=commune_figs,
        districts=_level_figures(by_level.get(UnitLevel.DISTRICT.value, []), held, DISTRICT_TITLES),
        villages=_level_figures(by_level.get(UnitLevel.VILLAGE.value, []), held, VILLAGE_TITLES),
        attainment=attainment_figures(rural, attained),
        criteria_sets=await _sets_used(session, [a.criteria_set_id for a in attained.values()]),
        freshness=Freshness(_newest(assessed_at, recognised_at), assessed_at, recognised_at),
    )


async def criteria_attainment(
    session: AsyncSession,
    principal: Principal,
    unit_id: uuid.UUID | None,
    year: int,
    as_of: date | None,
    language: Language,
    criteria_set_id: uuid.UUID | None = None,
) -> tuple[date, list[CriterionRow]]:
    """One row per commune of the subtree with an assessment of ``year`` and criterion."""
    day = as_of or default_as_of(year)
    await check_year(session, year, language, "year")
    root = await _root(session, principal, unit_id, day)
    inside, by_id = await _subtree(session, root, day)
    communes = [u for u in inside if u.level == UnitLevel.COMMUNE.value]
    attained = await attainment(
        session, [c.unit_id for c in communes], year,
        title=None if criteria_set_id else Title.NTM_COMMUNE.value,
        criteria_set_id=criteria_set_id, language=language,
    )  # fmt: skip
    rows: list[CriterionRow] = []
    for commune in communes:
        result = attained.get(commune.unit_id)
        if result is None:
            continue
        placed = _placed(commune, by_id)
        rows.extend(
            CriterionRow(placed, result, c.number, c.name, c.status.value) for c in result.criteria
        )
    return day, rows


async def series(
    session: AsyncSession,
    principal: Principal,
    unit_id: uuid.UUID | None,
    first: int,
    last: int,
    group_by: UnitLevel | None,
    language: Language,
) -> list[SeriesYear]:
    """The summary's headline figures per year, each year on its own map (its last day, or
    today) and with its own denominator, grouped by a level of that year's map."""
    if last < first:
        raise Unprocessable(
            "`to` is before `from`.",
            code="invalid_range",
            errors=[field_error(["query", "to"], "before from", "invalid_range")],
        )
    if unit_id is None:
        await _root(session, principal, None, date(first, 1, 1))
    else:
        missing = NotFound(f"No unit {unit_id}.", code="unit_not_found", params={"id": unit_id})
        await authz.require(
            session, principal, Action.REPORTS_READ, unit_id=unit_id, missing=missing
        )
        if not await units.unit_exists(session, unit_id):
            raise missing
    for year in (first, last):
        await check_year(session, year, language, "from" if year == first else "to")
    out: list[SeriesYear] = []
    level_seen = group_by is None
    for year in range(first, last + 1):
        day = default_as_of(year)
        root = await units.version_on(session, unit_id, day) if unit_id else None
        if unit_id is not None and root is None:
            empty = SeriesGroup(None, CommuneFigures(0, {}, ()), 0, None)
            out.append(SeriesYear(year, day, False, (), empty))
            continue
        inside, by_id = await _subtree(session, root, day)
        communes = [u for u in inside if u.level == UnitLevel.COMMUNE.value]
        held = await _held(session, [c.unit_id for c in communes], day)
        rural = [c.unit_id for c in communes if c.type in figures.RURAL_COMMUNE_TYPES]
        attained = await attainment(
            session, rural, year, title=Title.NTM_COMMUNE.value, language=language
        )
        groups: list[SeriesGroup] = []
        if group_by is not None:
            members: dict[uuid.UUID, list[units.DatedUnit]] = {}
            for commune in communes:
                above = _placed(commune, by_id).parents.get(group_by.value)
                if above is not None:
                    members.setdefault(above.unit_id, []).append(commune)
            heads = [u for u in [*([root] if root else []), *inside] if u.level == group_by.value]
            level_seen = level_seen or bool(heads)
            for head in sorted({h.unit_id: h for h in heads}.values(), key=lambda u: u.code):
                groups.append(_group(head, members.get(head.unit_id, []), held, attained))
        out.append(
            SeriesYear(year, day, True, tuple(groups), _group(None, communes, held, attained))
        )
    if not level_seen:
        raise Unprocessable(
            f"No {group_by} under this unit in {first}–{last}.",
            code="level_not_on_map",
            errors=[field_error(["query", "group_by"], "level absent", "level_not_on_map")],
        )
    return out


def _group(
    head: units.DatedUnit | None,
    communes: Sequence[units.DatedUnit],
    held: Mapping[uuid.UUID, frozenset[Title]],
    attained: Mapping[uuid.UUID, Attainment],
) -> SeriesGroup:
    figs = commune_figures(communes, held)
    rural = [c.unit_id for c in communes if c.type in figures.RURAL_COMMUNE_TYPES]
    met = [attained[u].criteria_met for u in rural if u in attained]
    return SeriesGroup(head, figs, len(met), figures.average(met))
