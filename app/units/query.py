"""The map on a date, for every other feature: typed, set-based reads of units and their versions.

Only ``app.units`` reads the units tables (an import-linter contract keeps it so); identity,
criteria, assessments and authorisation ask here. Every read is one statement for many ids or
codes (split into chunks of ``app.db.chunking.CHUNK`` for long lists), never one per row, and
returns frozen dataclasses.

A code means nothing without a date (codes are reused: province 24 is Bắc Giang until
30/06/2025 and Bắc Ninh from 01/07/2025, 202/2025/QH15), so every look-up by code takes one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.chunking import chunks
from app.db.intervals import Period, overlapping, valid_on
from app.models.enums import UnitEventKind
from app.models.units import (
    MapRevision,
    Unit,
    UnitClassification,
    UnitEvent,
    UnitLink,
    UnitVersion,
)
from app.units.text import code_spellings as code_spellings  # re-exported: how users type codes
from app.units.text import padded as padded  # re-exported (``7444`` is commune ``07444``)

UNITS = cast(Table, Unit.__table__)
VERSIONS = cast(Table, UnitVersion.__table__)
# Named aliases, made once (building one copies every column of the table; issue 16). Each
# appears at most once per statement; anonymous ones stay per call where a statement may hold
# several copies of the same select.
_WITHIN_PARENT = VERSIONS.alias("within_parent")
_WITHIN_CHILD = VERSIONS.alias("within_child")
_STEP_VERSION = VERSIONS.alias("step_version")
_CHILD_VERSION = VERSIONS.alias("child_version")
CLASSIFICATIONS = cast(Table, UnitClassification.__table__)
LINKS = cast(Table, UnitLink.__table__)
MAP_REVISION = cast(Table, MapRevision.__table__)
EVENTS = cast(Table, UnitEvent.__table__)

# Provinces, districts, communes, villages: deeper chains mean a cycle in bad data.
MAX_DEPTH = 8
# Lineage crosses at most this many generations of merges and splits.
MAX_LINEAGE_DEPTH = 50


@dataclass(frozen=True, slots=True)
class DatedUnit:
    """A unit as one of its versions describes it during ``[valid_from, valid_to)``."""

    unit_id: uuid.UUID
    level: str
    code: str
    name: str
    type: str
    parent_id: uuid.UUID | None
    valid_from: date
    valid_to: date


@dataclass(frozen=True, slots=True)
class DatedClassification:
    """A classification of a unit (``kind`` = ``value``) during ``[valid_from, valid_to)``."""

    unit_id: uuid.UUID
    kind: str
    value: str
    valid_from: date
    valid_to: date
    legal_basis_number: str | None
    legal_basis_date: date | None


@dataclass(frozen=True, slots=True)
class LineageStep:
    """``unit_id`` took over (part of) ``via_id`` or gave (part of) itself to it, ``depth``
    generations away from the unit asked about."""

    unit_id: uuid.UUID
    via_id: uuid.UUID
    depth: int
    effective_date: date
    partly: bool
    event_id: uuid.UUID | None
    confidence: str = "stated"
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Lineage:
    predecessors: tuple[LineageStep, ...]
    successors: tuple[LineageStep, ...]


_DATED_UNIT_COLUMNS = (
    VERSIONS.c.unit_id,
    VERSIONS.c.level,
    VERSIONS.c.code,
    VERSIONS.c.name,
    VERSIONS.c.type,
    VERSIONS.c.parent_id,
    VERSIONS.c.valid_from,
    VERSIONS.c.valid_to,
)

_CLASSIFICATION_COLUMNS = (
    CLASSIFICATIONS.c.unit_id,
    CLASSIFICATIONS.c.kind,
    CLASSIFICATIONS.c.value,
    CLASSIFICATIONS.c.valid_from,
    CLASSIFICATIONS.c.valid_to,
    CLASSIFICATIONS.c.legal_basis_number,
    CLASSIFICATIONS.c.legal_basis_date,
)


async def _dated_units(session: AsyncSession, statement: Select[Any]) -> list[DatedUnit]:
    return [DatedUnit(*row) for row in (await session.execute(statement)).all()]


# --- versions of units ------------------------------------------------------------------------


async def unit_exists(session: AsyncSession, unit_id: uuid.UUID) -> bool:
    found = await session.scalar(select(UNITS.c.id).where(UNITS.c.id == unit_id))
    return found is not None


async def version_on(session: AsyncSession, unit_id: uuid.UUID, day: date) -> DatedUnit | None:
    """The version of the unit valid on ``day``; None if the unit did not exist then."""
    statement = select(*_DATED_UNIT_COLUMNS).where(
        VERSIONS.c.unit_id == unit_id, valid_on(VERSIONS, day)
    )
    found = await _dated_units(session, statement)
    return found[0] if found else None


async def versions_on(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], day: date
) -> dict[uuid.UUID, DatedUnit]:
    """The version valid on ``day`` of each of the units that existed then."""
    return {
        version.unit_id: version
        for version in await versions_during(session, unit_ids, Period.on(day))
    }


async def versions_during(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], period: Period
) -> list[DatedUnit]:
    """Every version of the units that holds on at least one day of ``period``."""
    found: list[DatedUnit] = []
    for part in chunks(sorted(set(unit_ids))):
        statement = select(*_DATED_UNIT_COLUMNS).where(
            VERSIONS.c.unit_id.in_(part), overlapping(VERSIONS, period)
        )
        found.extend(await _dated_units(session, statement))
    return found


async def last_versions(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], day: date
) -> dict[uuid.UUID, DatedUnit]:
    """For each unit that had begun by ``day``: its version then, or its last one if it has
    ended (how a role over a dissolved unit is still labelled)."""
    latest: dict[uuid.UUID, DatedUnit] = {}
    for part in chunks(sorted(set(unit_ids))):
        statement = (
            select(*_DATED_UNIT_COLUMNS)
            .where(VERSIONS.c.unit_id.in_(part), VERSIONS.c.valid_from <= day)
            .order_by(VERSIONS.c.unit_id, VERSIONS.c.valid_from)
        )
        for version in await _dated_units(session, statement):
            latest[version.unit_id] = version
    return latest


async def versions_with_codes(
    session: AsyncSession, codes: Iterable[str], period: Period, *, level: str | None = None
) -> list[DatedUnit]:
    """Versions holding during ``period`` whose code is one of ``codes`` as stored (see
    ``ids_by_code`` for codes as users type them), at ``level`` if given."""
    found: list[DatedUnit] = []
    for part in chunks(sorted(set(codes))):
        conditions = [VERSIONS.c.code.in_(part), overlapping(VERSIONS, period)]
        if level is not None:
            conditions.insert(0, VERSIONS.c.level == level)
        found.extend(await _dated_units(session, select(*_DATED_UNIT_COLUMNS).where(*conditions)))
    return found


async def versions_at_level(session: AsyncSession, level: str, period: Period) -> list[DatedUnit]:
    """Every version at ``level`` holding during ``period``: one statement, however many."""
    statement = select(*_DATED_UNIT_COLUMNS).where(
        VERSIONS.c.level == level, overlapping(VERSIONS, period)
    )
    return await _dated_units(session, statement)


async def ids_by_code(
    session: AsyncSession, codes: Iterable[str], day: date, *, level: str | None = None
) -> dict[str, frozenset[uuid.UUID]]:
    """The units that had each code on ``day``, keyed by the code as given.

    With ``level``, a numeric code given without its leading zeros is read at that level's
    official width (``7444`` is commune ``07444``), as the assessments import reads it. More than
    one id for a code means the code was reused within the day's map (an ambiguity to report).
    """
    stored = {code: padded(code, level) if level is not None else code.strip() for code in codes}
    by_stored: dict[str, set[uuid.UUID]] = {}
    for version in await versions_with_codes(session, stored.values(), Period.on(day), level=level):
        by_stored.setdefault(version.code, set()).add(version.unit_id)
    return {code: frozenset(by_stored.get(form, ())) for code, form in stored.items()}


# --- the tree on a date -----------------------------------------------------------------------


def _placement(version: Any, day: date) -> ColumnElement[bool]:
    """The version that places a unit in the tree on ``day``: the one valid then, or, for a unit
    that has ended, its last one (its history stays under the units that held it)."""
    # Anonymous aliases and CTEs: a statement may hold several of these selects (two scopes).
    later = VERSIONS.alias()
    last_end = (
        select(func.max(later.c.valid_to))
        .where(later.c.unit_id == version.c.unit_id)
        .scalar_subquery()
    )
    return or_(
        valid_on(version, day),
        and_(version.c.valid_to <= day, version.c.valid_to == last_end),
    )


def subtree_select(roots: Iterable[uuid.UUID], day: date) -> Select[tuple[uuid.UUID]]:
    """Ids of the units in the subtrees of ``roots`` (roots included) on ``day``, ended units
    kept where they last were: what a role over ``roots`` covers (``app.core.authz``)."""
    tree = (
        select(UNITS.c.id.label("unit_id")).where(UNITS.c.id.in_(list(roots))).cte(recursive=True)
    )
    child = VERSIONS.alias()
    tree = tree.union(
        select(child.c.unit_id)
        .join(tree, child.c.parent_id == tree.c.unit_id)
        .where(_placement(child, day))
    )
    return select(tree.c.unit_id)


def ancestors_select(unit_id: uuid.UUID, day: date) -> Select[tuple[uuid.UUID]]:
    """Ids of the unit and its ancestors on ``day``, an ended unit placed where it last was."""
    chain = (
        select(UNITS.c.id.label("unit_id"), literal(0).label("depth"))
        .where(UNITS.c.id == unit_id)
        .cte(recursive=True)
    )
    version = VERSIONS.alias()
    chain = chain.union_all(
        select(version.c.parent_id, chain.c.depth + 1)
        .join(chain, version.c.unit_id == chain.c.unit_id)
        .where(
            _placement(version, day),
            version.c.parent_id.is_not(None),
            chain.c.depth < MAX_DEPTH,
        )
    )
    return select(chain.c.unit_id)


def _chains(unit_ids: Sequence[uuid.UUID], day: date) -> Any:
    """CTE: each unit (``origin``) and its ancestors as they were on ``day``, with the columns of
    :class:`DatedUnit` carried through the recursion (each step one index look-up by id; no join
    of the whole versions table at the end)."""
    first = select(
        VERSIONS.c.unit_id.label("origin"),
        *_DATED_UNIT_COLUMNS,
        literal(0).label("depth"),
    ).where(VERSIONS.c.unit_id.in_(list(unit_ids)), valid_on(VERSIONS, day))
    chain = first.cte("chain", recursive=True)
    step = _STEP_VERSION
    return chain.union_all(
        select(
            chain.c.origin,
            *(step.c[column.name] for column in _DATED_UNIT_COLUMNS),
            chain.c.depth + 1,
        )
        .join(chain, step.c.unit_id == chain.c.parent_id)
        .where(valid_on(step, day), chain.c.depth < MAX_DEPTH)
    )


def _dated_unit(row: Any) -> DatedUnit:
    return DatedUnit(
        row.unit_id,
        row.level,
        row.code,
        row.name,
        row.type,
        row.parent_id,
        row.valid_from,
        row.valid_to,
    )


async def chain_on(session: AsyncSession, unit_id: uuid.UUID, day: date) -> list[DatedUnit]:
    """The unit and its ancestors as they were on ``day``, nearest first, in one statement;
    empty if the unit did not exist then."""
    chain = _chains([unit_id], day)
    statement = select(chain).order_by(chain.c.depth)
    return [_dated_unit(row) for row in (await session.execute(statement)).all()]


def map_token_select() -> Any:
    """Scalar subquery: the map's current token (``map_revision``). Another feature puts it in
    the statement that reads its own rows, so that what it keeps per map state is keyed by a
    token read in the same snapshot as the rest."""
    return select(MAP_REVISION.c.token).where(MAP_REVISION.c.id == 1).scalar_subquery()


async def map_token(session: AsyncSession) -> str:
    """The map's current token; every committed change of the map draws a new one."""
    return str(await session.scalar(select(MAP_REVISION.c.token).where(MAP_REVISION.c.id == 1)))


def _one(tokens: set[str]) -> str | None:
    """The token every part of a read saw, if they all saw the same one ("": no token read)."""
    return next(iter(tokens)) or None if len(tokens) == 1 else None


@dataclass(frozen=True, slots=True)
class Ancestry:
    """Units with their ancestors and the classifications along those chains on one day, and the
    map token they were read with (None when the read took several statements that did not all
    see the same map: keep nothing computed from it)."""

    day: date
    token: str | None
    chains: Mapping[uuid.UUID, tuple[DatedUnit, ...]]  # nearest first; absent: did not exist
    classifications: Mapping[uuid.UUID, tuple[DatedClassification, ...]]


async def ancestry_on(
    session: AsyncSession,
    unit_ids: Iterable[uuid.UUID],
    day: date,
    *,
    kinds: Sequence[str] | None = None,
) -> Ancestry:
    """Each unit's chain of ancestors on ``day`` and the classifications valid that day of every
    unit in those chains (of ``kinds`` if given), with the map token: one statement for up to
    ``CHUNK`` units, chains, classifications and token read together."""
    chains: dict[uuid.UUID, list[DatedUnit]] = {}
    found: dict[uuid.UUID, dict[tuple[str, date], DatedClassification]] = {}
    tokens: set[str] = set()
    for part in chunks(sorted(set(unit_ids))):
        chain = _chains(part, day)
        conditions = [CLASSIFICATIONS.c.unit_id == chain.c.unit_id, valid_on(CLASSIFICATIONS, day)]
        if kinds is not None:
            conditions.append(CLASSIFICATIONS.c.kind.in_(list(kinds)))
        statement = (
            select(
                chain,
                *(column.label(f"c_{column.name}") for column in _CLASSIFICATION_COLUMNS[1:]),
                map_token_select().label("map_token"),
            )
            .select_from(chain.outerjoin(CLASSIFICATIONS, and_(*conditions)))
            .order_by(chain.c.origin, chain.c.depth)
        )
        rows = (await session.execute(statement)).all()
        if not rows:
            tokens.add("")  # no token was read with this part: keep nothing computed from it
        for row in rows:
            tokens.add(row.map_token)
            units = chains.setdefault(row.origin, [])
            if len(units) == row.depth:  # a unit's first row (one per classification)
                units.append(_dated_unit(row))
            if row.c_kind is not None:
                found.setdefault(row.unit_id, {})[(row.c_kind, row.c_valid_from)] = (
                    DatedClassification(
                        row.unit_id,
                        row.c_kind,
                        row.c_value,
                        row.c_valid_from,
                        row.c_valid_to,
                        row.c_legal_basis_number,
                        row.c_legal_basis_date,
                    )
                )
    return Ancestry(
        day=day,
        token=_one(tokens),
        chains={origin: tuple(units) for origin, units in chains.items()},
        classifications={
            unit_id: tuple(sorted(entries.values(), key=lambda entry: entry.valid_from))
            for unit_id, entries in found.items()
        },
    )


def subtree_ids(root_id: uuid.UUID, day: date | None, level: str | None = None) -> Select[Any]:
    """The ids of the units under ``root_id`` (not the root itself): on ``day`` if given, else
    under it at any time (every version counts). A statement to use in ``column.in_(...)``, so
    that any list filtered on a unit (``within=``) stays one query."""
    parent = _WITHIN_PARENT
    child = _WITHIN_CHILD
    start = select(child.c.unit_id, child.c.level, literal(1).label("depth")).where(
        child.c.parent_id == root_id
    )
    if day is not None:
        start = start.where(valid_on(child, day))
    tree = start.cte("within_tree", recursive=True)
    step = (
        select(parent.c.unit_id, parent.c.level, tree.c.depth + 1)
        .join(tree, parent.c.parent_id == tree.c.unit_id)
        .where(tree.c.depth < MAX_DEPTH)
    )
    if day is not None:
        step = step.where(valid_on(parent, day))
    tree = tree.union(step)
    found = select(tree.c.unit_id)
    return found if level is None else found.where(tree.c.level == level)


async def subtree_unit_ids(
    session: AsyncSession, root_id: uuid.UUID, day: date | None, level: str | None = None
) -> list[uuid.UUID]:
    """The ids of :func:`subtree_ids`, read first so that a list filtered on them looks each
    one up by its id (a few hundred index probes) instead of scanning every version of a level."""
    return sorted(set((await session.scalars(subtree_ids(root_id, day, level))).all()))


async def units_in_subtree(
    session: AsyncSession, roots: Iterable[uuid.UUID], day: date, *, level: str | None = None
) -> list[DatedUnit]:
    """The units under ``roots`` (roots included) as the map stood on ``day``, at ``level`` if
    given (the communes of a province on a date), ordered by level depth then code."""
    root_ids = sorted(set(roots))
    if not root_ids:
        return []
    tree = (
        select(VERSIONS.c.unit_id, literal(0).label("depth"))
        .where(VERSIONS.c.unit_id.in_(root_ids), valid_on(VERSIONS, day))
        .cte("tree", recursive=True)
    )
    child = _CHILD_VERSION
    tree = tree.union_all(
        select(child.c.unit_id, tree.c.depth + 1)
        .join(tree, child.c.parent_id == tree.c.unit_id)
        .where(valid_on(child, day), tree.c.depth < MAX_DEPTH)
    )
    statement = (
        select(*_DATED_UNIT_COLUMNS)
        .join(tree, tree.c.unit_id == VERSIONS.c.unit_id)
        .where(valid_on(VERSIONS, day))
        .order_by(tree.c.depth, VERSIONS.c.code, VERSIONS.c.unit_id)
    )
    if level is not None:
        statement = statement.where(VERSIONS.c.level == level)
    seen: set[uuid.UUID] = set()
    found: list[DatedUnit] = []
    for version in await _dated_units(session, statement):
        if version.unit_id not in seen:  # two roots, one inside the other
            seen.add(version.unit_id)
            found.append(version)
    return found


# --- classifications --------------------------------------------------------------------------


async def classifications(
    session: AsyncSession,
    unit_ids: Iterable[uuid.UUID],
    *,
    on: date | None = None,
    kinds: Sequence[str] | None = None,
) -> list[DatedClassification]:
    """Classifications of the units, those valid on ``on`` if given, else every dated one."""
    found: list[DatedClassification] = []
    for part in chunks(sorted(set(unit_ids))):
        conditions: list[ColumnElement[bool]] = [CLASSIFICATIONS.c.unit_id.in_(part)]
        if kinds is not None:
            conditions.append(CLASSIFICATIONS.c.kind.in_(list(kinds)))
        if on is not None:
            conditions.append(valid_on(CLASSIFICATIONS, on))
        statement = select(*_CLASSIFICATION_COLUMNS).where(*conditions)
        found.extend(DatedClassification(*row) for row in (await session.execute(statement)).all())
    return found


# --- lineage ----------------------------------------------------------------------------------


async def _links_touching(
    session: AsyncSession, unit_ids: Sequence[uuid.UUID], *, backwards: bool
) -> list[Any]:
    column = LINKS.c.successor_id if backwards else LINKS.c.predecessor_id
    rows: list[Any] = []
    for part in chunks(list(unit_ids)):
        rows.extend((await session.execute(select(LINKS).where(column.in_(part)))).all())
    return rows


async def _walk(
    session: AsyncSession, unit_id: uuid.UUID, *, backwards: bool
) -> tuple[LineageStep, ...]:
    """One statement per generation (breadth first), each for the whole generation."""
    seen = {unit_id}
    frontier = [unit_id]
    found: list[LineageStep] = []
    depth = 1
    while frontier and depth <= MAX_LINEAGE_DEPTH:
        links = await _links_touching(session, frontier, backwards=backwards)
        links.sort(key=lambda link: (link.effective_date, str(link.id)))
        frontier = []
        for link in links:
            other = link.predecessor_id if backwards else link.successor_id
            via = link.successor_id if backwards else link.predecessor_id
            if other in seen:
                continue
            seen.add(other)
            frontier.append(other)
            found.append(
                LineageStep(
                    other,
                    via,
                    depth,
                    link.effective_date,
                    link.partly,
                    link.event_id,
                    link.confidence,
                    link.rule,
                )
            )
        depth += 1
    return tuple(found)


async def lineage(session: AsyncSession, unit_id: uuid.UUID) -> Lineage:
    """The units this one came from and went into, transitively, through merges and splits."""
    return Lineage(
        predecessors=await _walk(session, unit_id, backwards=True),
        successors=await _walk(session, unit_id, backwards=False),
    )


@dataclass(frozen=True, slots=True)
class MergeLink:
    """``predecessor_id`` went (``partly``: in part) into ``successor_id`` by a merge event."""

    event_id: uuid.UUID
    effective_date: date
    predecessor_id: uuid.UUID
    successor_id: uuid.UUID
    partly: bool
    legal_basis_number: str | None
    legal_basis_date: date | None


async def merge_links(
    session: AsyncSession,
    *,
    period: Period | None = None,
    within: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    day: date,
) -> list[MergeLink]:
    """The links of merge events (in ``period`` if given, of one event if given) whose
    successor lies under ``within`` on ``day``: one statement."""
    statement = (
        select(
            LINKS.c.event_id,
            EVENTS.c.effective_date,
            LINKS.c.predecessor_id,
            LINKS.c.successor_id,
            LINKS.c.partly,
            EVENTS.c.legal_basis_number,
            EVENTS.c.legal_basis_date,
        )
        .join(EVENTS, EVENTS.c.id == LINKS.c.event_id)
        .where(EVENTS.c.kind == UnitEventKind.MERGE.value)
        .order_by(EVENTS.c.effective_date, LINKS.c.event_id, LINKS.c.successor_id)
    )
    if period is not None:
        statement = statement.where(
            EVENTS.c.effective_date >= period.start, EVENTS.c.effective_date < period.end
        )
    if event_id is not None:
        statement = statement.where(EVENTS.c.id == event_id)
    if within is not None:
        statement = statement.where(LINKS.c.successor_id.in_(subtree_select([within], day)))
    return [MergeLink(*row) for row in (await session.execute(statement)).all()]


# --- units placed on a date, for flat exports -------------------------------------------------

# The columns of :func:`placement_select`, in order (``app.exports.UNIT_COLUMNS`` names the same).
PLACEMENT_NAMES = (
    "unit_id",
    "unit_code",
    "unit_name",
    "unit_type",
    "unit_level",
    "province_code",
    "province_name",
    "district_code",
    "district_name",
    "commune_code",
    "commune_name",
)


def placement_select(day: date) -> Any:
    """One row per unit that had begun by ``day``: its version then (an ended unit: its last
    one, where it last was), with the code and name of its province, district and commune on
    that day (the unit itself at its own level; empty where the map has no such level, e.g.
    districts from 2025-07-01). Set-based: a subquery to join on ``unit_id``, never a read per
    row, so an export streams one statement."""

    # Each step is the version of the unit (or of its parent, grandparent…) that began last by
    # ``day``, found through the (unit_id, valid_from) index: a correlated look-up per row rather
    # than a derived table of every unit joined four times, which SQLite scanned once per row.
    def last_begun(version: Any) -> Any:
        later = VERSIONS.alias()
        return version.c.valid_from == (
            select(func.max(later.c.valid_from))
            .where(later.c.unit_id == version.c.unit_id, later.c.valid_from <= day)
            .scalar_subquery()
        )

    # The unit, then up to three levels above it (village → commune → district → province);
    # anonymous aliases: a statement may join two placements (the 2025 crosswalk).
    chain = [VERSIONS.alias() for _ in range(4)]
    joined: Any = chain[0]
    for child, parent in pairwise(chain):
        joined = joined.outerjoin(
            parent, and_(parent.c.unit_id == child.c.parent_id, last_begun(parent))
        )

    def at(level: str, field: str) -> Any:
        return case(*[(step.c.level == level, step.c[field]) for step in chain], else_=None)

    me = chain[0]
    return (
        select(
            me.c.unit_id.label("unit_id"),
            me.c.code.label("unit_code"),
            me.c.name.label("unit_name"),
            me.c.type.label("unit_type"),
            me.c.level.label("unit_level"),
            at("province", "code").label("province_code"),
            at("province", "name").label("province_name"),
            at("district", "code").label("district_code"),
            at("district", "name").label("district_name"),
            at("commune", "code").label("commune_code"),
            at("commune", "name").label("commune_name"),
        )
        .select_from(joined)
        .where(last_begun(me))
        .subquery()
    )
