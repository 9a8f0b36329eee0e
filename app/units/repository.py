"""SQL of the units feature. Hot reads are Core selects returning row mappings, not ORM objects."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import count_matching
from app.db.chunking import chunks
from app.db.intervals import valid_on
from app.db.locking import serialise_until_commit
from app.db.types import utcnow
from app.models.enums import UnitLevel
from app.models.units import Unit, UnitClassification, UnitEvent, UnitLink, UnitVersion

UNITS = cast(Table, Unit.__table__)
VERSIONS = cast(Table, UnitVersion.__table__)
CLASSIFICATIONS = cast(Table, UnitClassification.__table__)
EVENTS = cast(Table, UnitEvent.__table__)
LINKS = cast(Table, UnitLink.__table__)
# Aliases are made once: building one copies every column of the table (about a third of a
# unit read's CPU when it was made per request, issue 16). A named alias appears once per
# statement, so sharing it between statements is safe.
PARENT_VERSIONS = VERSIONS.alias("parent")
STEP_VERSIONS = VERSIONS.alias("step")

# The advisory lock key that serialises changes of the map (any constant unique in the schema).
MAP_LOCK = 7444202507

# A row as returned by the reads (``RowMapping``) or built by the service (``dict``).
Record = Mapping[Any, Any]

LEVEL_RANK = case(
    {UnitLevel.PROVINCE.value: 1, UnitLevel.DISTRICT.value: 2, UnitLevel.COMMUNE.value: 3},
    value=VERSIONS.c.level,
    else_=4,
)

ITEM_COLUMNS = (
    VERSIONS.c.unit_id.label("id"),
    VERSIONS.c.level,
    VERSIONS.c.code,
    VERSIONS.c.name,
    VERSIONS.c.type,
    VERSIONS.c.parent_id,
    VERSIONS.c.valid_from,
    VERSIONS.c.valid_to,
    UNITS.c.updated_at,
)


def keyset_after(
    columns: Sequence[ColumnElement[Any]], values: Sequence[Any]
) -> ColumnElement[bool]:
    """Keyset condition ``(c1, c2, …) > (v1, v2, …)`` spelled out (portable, index-friendly)."""
    head, value = columns[0], values[0]
    if len(columns) == 1:
        last: ColumnElement[bool] = head > value
        return last
    return or_(head > value, and_(head == value, keyset_after(columns[1:], values[1:])))


# --- reads -------------------------------------------------------------------------------------

# Bound parameters of the statements built once (the hot reads below).
_UNIT_ID = bindparam("unit_id", type_=VERSIONS.c.unit_id.type)
_ON = bindparam("on", type_=VERSIONS.c.valid_from.type)


def items_at(on: date | BindParameter[Any]) -> Select[Any]:
    return (
        select(*ITEM_COLUMNS)
        .join(UNITS, UNITS.c.id == VERSIONS.c.unit_id)
        .where(valid_on(VERSIONS, on))
    )


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class ItemFilters:
    """What a unit list is filtered on, in the repository's terms (codes already spelled out)."""

    on: date
    level: str | None = None
    parent_id: uuid.UUID | None = None
    code_forms: Sequence[tuple[str | None, str]] | None = None
    search: tuple[str, Sequence[tuple[str | None, str]]] | None = None
    classifications: Sequence[tuple[str, str]] = ()
    updated_since: datetime | None = None
    within: Sequence[uuid.UUID] | None = None  # the ids of a subtree (query.subtree_unit_ids)


async def list_items(
    session: AsyncSession, filters: ItemFilters, *, after: Sequence[Any] | None, limit: int
) -> Sequence[RowMapping]:
    """Units valid on ``filters.on``. Order: ``(updated_at, id)`` when syncing; else by level,
    code and id, with exact code matches of a search first. ``after`` is the keyset of the last
    row seen."""
    if _one_level(filters):
        # The commonest list (a level, page after page): its statements are built once.
        parameters = {"on": filters.on, "level": filters.level, "limit": limit}
        if after is None:
            return await fetch_mappings(session, _ONE_LEVEL, parameters)
        code, unit_id = after[len(after) - 2 :]
        parameters.update(after_code=code, after_id=unit_id)
        return await fetch_mappings(session, _ONE_LEVEL_AFTER, parameters)
    statement, order = _filtered(filters)
    if after is not None:
        # A cursor always carries the full key; one level fixes the rank (see ``_filtered``).
        statement = statement.where(keyset_after(order, after[len(after) - len(order) :]))
    return await fetch_mappings(session, statement.order_by(*order).limit(limit))


def _one_level(filters: ItemFilters) -> bool:
    """Only a level (and the day): the list ``_ONE_LEVEL`` reads."""
    return (
        filters.level is not None
        and filters.parent_id is None
        and filters.code_forms is None
        and filters.search is None
        and not filters.classifications
        and filters.updated_since is None
        and filters.within is None
    )


def _one_level_statements() -> tuple[Select[Any], Select[Any]]:
    """A page of one level, first and after a cursor: ``_filtered``'s own statement for
    ``ItemFilters(on, level)`` (ordered by code and id), built once with bound parameters in
    place of the day and the level (building and keying it per request was a tenth of a list's
    CPU, issue 16)."""
    # Bound parameters stand where the filters hold values: the same SQL, values given later.
    statement, order = _filtered(
        ItemFilters(
            on=cast(date, _ON),
            level=cast(str, bindparam("level", type_=VERSIONS.c.level.type)),
        )
    )
    after = (
        bindparam("after_code", type_=VERSIONS.c.code.type),
        bindparam("after_id", type_=VERSIONS.c.unit_id.type),
    )
    assert len(order) == len(after)  # one level: (code, id)
    limit = bindparam("limit", type_=Integer())
    first = statement.order_by(*order).limit(limit)
    later = statement.where(keyset_after(order, after)).order_by(*order).limit(limit)
    return first, later


async def count_items(session: AsyncSession, filters: ItemFilters) -> int:
    """How many units :func:`list_items` would list over all its pages."""
    statement, _ = _filtered(filters)
    return await count_matching(session, statement)


def _filtered(filters: ItemFilters) -> tuple[Select[Any], list[ColumnElement[Any]]]:
    on = filters.on
    statement = items_at(on)
    if filters.level is not None and filters.within is None:  # ``within`` holds the level
        statement = statement.where(VERSIONS.c.level == filters.level)
    if filters.parent_id is not None:
        statement = statement.where(VERSIONS.c.parent_id == filters.parent_id)
    if filters.within is not None:
        statement = statement.where(VERSIONS.c.unit_id.in_(list(filters.within)))
    if filters.code_forms is not None:
        statement = statement.where(code_condition(filters.code_forms))
    for kind, value in filters.classifications:
        statement = statement.where(classification_exists(kind, value, on))
    order: list[ColumnElement[Any]]
    if filters.updated_since is not None:
        statement = statement.where(UNITS.c.updated_at >= filters.updated_since)
        order = [UNITS.c.updated_at, VERSIONS.c.unit_id]
    elif filters.search is not None:
        folded, forms = filters.search
        code_match = code_condition(forms)
        statement = statement.where(
            or_(VERSIONS.c.name_folded.like(_like_pattern(folded), escape="\\"), code_match)
        )
        order = [case((code_match, 0), else_=1), LEVEL_RANK, VERSIONS.c.code, VERSIONS.c.unit_id]
    elif filters.level is not None:
        # One level: its rank is the same on every row, so the order is (code, id), which the
        # (code, valid_from) index gives without sorting every version of the level (a page of
        # communes: 14 ms → 2.5 ms on PostgreSQL, issue 16). Same order, same cursors.
        order = [VERSIONS.c.code, VERSIONS.c.unit_id]
    else:
        order = [LEVEL_RANK, VERSIONS.c.code, VERSIONS.c.unit_id]
    return statement, order


_ONE_LEVEL, _ONE_LEVEL_AFTER = _one_level_statements()


def code_condition(forms: Iterable[tuple[str | None, str]]) -> ColumnElement[bool]:
    conditions = [
        VERSIONS.c.code == code
        if level is None
        else and_(VERSIONS.c.level == level, VERSIONS.c.code == code)
        for level, code in forms
    ]
    return or_(*conditions)


def classification_exists(kind: str, value: str, on: date) -> ColumnElement[bool]:
    return exists().where(
        CLASSIFICATIONS.c.unit_id == VERSIONS.c.unit_id,
        CLASSIFICATIONS.c.kind == kind,
        CLASSIFICATIONS.c.value == value,
        valid_on(CLASSIFICATIONS, on),
    )


async def fetch_mappings(
    session: AsyncSession, statement: Any, parameters: Mapping[str, Any] | None = None
) -> Sequence[RowMapping]:
    return (await session.execute(statement, parameters)).mappings().all()


async def unit_row(session: AsyncSession, unit_id: uuid.UUID) -> RowMapping | None:
    statement = select(
        UNITS.c.id, UNITS.c.level, UNITS.c.source_key, UNITS.c.created_at, UNITS.c.updated_at
    ).where(UNITS.c.id == unit_id)
    return (await session.execute(statement)).mappings().first()


def _detail_statement(unit_id: uuid.UUID | BindParameter[Any]) -> Select[Any]:
    return (
        select(
            VERSIONS.c.id.label("version_id"),
            *ITEM_COLUMNS,
            UNITS.c.source_key,
            UNITS.c.created_at,
            UNITS.c.revision,
        )
        .join(UNITS, UNITS.c.id == VERSIONS.c.unit_id)
        .where(VERSIONS.c.unit_id == unit_id)
    )


async def version_at(session: AsyncSession, unit_id: uuid.UUID, on: date) -> RowMapping | None:
    statement = _detail_statement(unit_id).where(valid_on(VERSIONS, on))
    row: RowMapping | None = (await session.execute(statement)).mappings().first()
    return row


# The detail read (GET /units/{id}) is the hottest statement of the service: built once with
# bound parameters rather than per request, which cost a tenth of the read's CPU (building the
# expression, then its cache key, bench/RESULTS.md, issue 16).
_DETAIL_AT = (
    _detail_statement(_UNIT_ID)
    .add_columns(
        PARENT_VERSIONS.c.id.label("parent_version_id"),
        PARENT_VERSIONS.c.level.label("parent_level"),
        PARENT_VERSIONS.c.code.label("parent_code"),
        PARENT_VERSIONS.c.name.label("parent_name"),
        PARENT_VERSIONS.c.type.label("parent_type"),
    )
    .outerjoin(
        PARENT_VERSIONS,
        and_(PARENT_VERSIONS.c.unit_id == VERSIONS.c.parent_id, valid_on(PARENT_VERSIONS, _ON)),
    )
    .where(valid_on(VERSIONS, _ON))
)


async def detail_at(session: AsyncSession, unit_id: uuid.UUID, on: date) -> RowMapping | None:
    """The version valid on ``on`` with its parent as it was that day, in one query."""
    result = await session.execute(_DETAIL_AT, {"unit_id": unit_id, "on": on})
    row: RowMapping | None = result.mappings().first()
    return row


async def nearest_version(session: AsyncSession, unit_id: uuid.UUID, on: date) -> RowMapping | None:
    """The last version that started on or before ``on``, else the first one."""
    before = _detail_statement(unit_id).where(VERSIONS.c.valid_from <= on)
    latest = before.order_by(VERSIONS.c.valid_from.desc()).limit(1)
    row: RowMapping | None = (await session.execute(latest)).mappings().first()
    if row is None:
        first = _detail_statement(unit_id).order_by(VERSIONS.c.valid_from).limit(1)
        row = (await session.execute(first)).mappings().first()
    return row


async def refs_at(
    session: AsyncSession, unit_ids: Sequence[uuid.UUID], on: date
) -> dict[uuid.UUID, RowMapping]:
    out: dict[uuid.UUID, RowMapping] = {}
    for part in chunks(list(unit_ids)):
        statement = select(
            VERSIONS.c.id.label("version_id"),
            VERSIONS.c.unit_id.label("id"),
            VERSIONS.c.level,
            VERSIONS.c.code,
            VERSIONS.c.name,
            VERSIONS.c.type,
        ).where(VERSIONS.c.unit_id.in_(part), valid_on(VERSIONS, on))
        for row in await fetch_mappings(session, statement):
            out[row["id"]] = row
    return out


_CLASSIFICATIONS_OF = (
    select(CLASSIFICATIONS)
    .where(CLASSIFICATIONS.c.unit_id == bindparam("unit_id", type_=CLASSIFICATIONS.c.unit_id.type))
    .order_by(CLASSIFICATIONS.c.kind, CLASSIFICATIONS.c.valid_from)
)
# On a day: built once, like _DETAIL_AT (the unit read runs both).
_CLASSIFICATIONS_ON = _CLASSIFICATIONS_OF.where(
    valid_on(CLASSIFICATIONS, bindparam("on", type_=CLASSIFICATIONS.c.valid_from.type))
)


async def classifications(
    session: AsyncSession, unit_id: uuid.UUID, on: date | None
) -> Sequence[RowMapping]:
    if on is None:
        result = await session.execute(_CLASSIFICATIONS_OF, {"unit_id": unit_id})
    else:
        result = await session.execute(_CLASSIFICATIONS_ON, {"unit_id": unit_id, "on": on})
    return result.mappings().all()


async def classification_rows(
    session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], list[RowMapping]]:
    wanted = set(pairs)
    unit_ids = sorted({unit_id for unit_id, _ in wanted})
    out: dict[tuple[uuid.UUID, str], list[RowMapping]] = {pair: [] for pair in wanted}
    for part in chunks(unit_ids):
        statement = (
            select(CLASSIFICATIONS)
            .where(CLASSIFICATIONS.c.unit_id.in_(part))
            .order_by(CLASSIFICATIONS.c.valid_from)
        )
        for row in await fetch_mappings(session, statement):
            key = (row["unit_id"], row["kind"])
            if key in out:
                out[key].append(row)
    return out


async def versions_of(session: AsyncSession, unit_ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    rows: list[RowMapping] = []
    for part in chunks(list(unit_ids)):
        statement = select(VERSIONS).where(VERSIONS.c.unit_id.in_(part))
        rows.extend(await fetch_mappings(session, statement))
    rows.sort(key=lambda row: (row["unit_id"], row["valid_from"]))
    return rows


async def history(session: AsyncSession, unit_id: uuid.UUID) -> Sequence[RowMapping]:
    statement = (
        select(VERSIONS, EVENTS.c.kind.label("event_kind"))
        .outerjoin(EVENTS, EVENTS.c.id == VERSIONS.c.event_id)
        .where(VERSIONS.c.unit_id == unit_id)
        .order_by(VERSIONS.c.valid_from)
    )
    return await fetch_mappings(session, statement)


async def versions_with_codes(session: AsyncSession, codes: Sequence[str]) -> list[RowMapping]:
    rows: list[RowMapping] = []
    for part in chunks(sorted(set(codes))):
        statement = select(VERSIONS).where(VERSIONS.c.code.in_(part))
        rows.extend(await fetch_mappings(session, statement))
    return rows


async def child_versions(
    session: AsyncSession, parent_ids: Sequence[uuid.UUID], ending_after: date | None = None
) -> list[RowMapping]:
    rows: list[RowMapping] = []
    for part in chunks(list(parent_ids)):
        statement = select(VERSIONS).where(VERSIONS.c.parent_id.in_(part))
        if ending_after is not None:
            statement = statement.where(VERSIONS.c.valid_to > ending_after)
        rows.extend(await fetch_mappings(session, statement))
    return rows


async def unit_levels(session: AsyncSession, unit_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    out: dict[uuid.UUID, str] = {}
    for part in chunks(list(unit_ids)):
        result = await session.execute(
            select(UNITS.c.id, UNITS.c.level).where(UNITS.c.id.in_(part))
        )
        out.update({row.id: row.level for row in result})
    return out


async def ancestors(session: AsyncSession, unit_id: uuid.UUID, on: date) -> Sequence[RowMapping]:
    """The chain of parents on ``on``, nearest first, in one recursive query."""
    chain = (
        select(VERSIONS.c.parent_id.label("unit_id"), literal(1).label("depth"))
        .where(
            VERSIONS.c.unit_id == unit_id, valid_on(VERSIONS, on), VERSIONS.c.parent_id.is_not(None)
        )
        .cte("chain", recursive=True)
    )
    step = STEP_VERSIONS
    chain = chain.union_all(
        select(step.c.parent_id, chain.c.depth + 1)
        .join(chain, step.c.unit_id == chain.c.unit_id)
        .where(valid_on(step, on), step.c.parent_id.is_not(None), chain.c.depth < 8)
    )
    statement = (
        select(*ITEM_COLUMNS, chain.c.depth)
        .join(UNITS, UNITS.c.id == VERSIONS.c.unit_id)
        .join(chain, chain.c.unit_id == VERSIONS.c.unit_id)
        .where(valid_on(VERSIONS, on))
        .order_by(chain.c.depth.desc())
    )
    return await fetch_mappings(session, statement)


async def subtree(
    session: AsyncSession, root_ids: Sequence[uuid.UUID], on: date, depth: int
) -> Sequence[RowMapping]:
    """Every unit under the roots down to ``depth`` levels, in one recursive query."""
    tree = (
        select(VERSIONS.c.unit_id, literal(0).label("depth"))
        .where(VERSIONS.c.unit_id.in_(root_ids), valid_on(VERSIONS, on))
        .cte("tree", recursive=True)
    )
    step = STEP_VERSIONS
    tree = tree.union_all(
        select(step.c.unit_id, tree.c.depth + 1)
        .join(tree, step.c.parent_id == tree.c.unit_id)
        .where(valid_on(step, on), tree.c.depth < depth)
    )
    statement = (
        select(
            VERSIONS.c.unit_id.label("id"),
            VERSIONS.c.parent_id,
            VERSIONS.c.level,
            VERSIONS.c.code,
            VERSIONS.c.name,
            VERSIONS.c.type,
            VERSIONS.c.valid_from,
            VERSIONS.c.valid_to,
            tree.c.depth,
        )
        .join(tree, tree.c.unit_id == VERSIONS.c.unit_id)
        .where(valid_on(VERSIONS, on))
        .order_by(tree.c.depth, VERSIONS.c.code, VERSIONS.c.unit_id)
    )
    return await fetch_mappings(session, statement)


async def province_ids(session: AsyncSession, on: date) -> list[uuid.UUID]:
    statement = select(VERSIONS.c.unit_id).where(
        VERSIONS.c.level == UnitLevel.PROVINCE.value, valid_on(VERSIONS, on)
    )
    return list((await session.scalars(statement)).all())


async def links_of_event(session: AsyncSession, event_id: uuid.UUID) -> Sequence[RowMapping]:
    statement = (
        select(LINKS)
        .where(LINKS.c.event_id == event_id)
        .order_by(LINKS.c.predecessor_id, LINKS.c.successor_id)
    )
    return await fetch_mappings(session, statement)


async def events(
    session: AsyncSession, event_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RowMapping]:
    out: dict[uuid.UUID, RowMapping] = {}
    for part in chunks(list(event_ids)):
        for row in await fetch_mappings(session, select(EVENTS).where(EVENTS.c.id.in_(part))):
            out[row["id"]] = row
    return out


async def event(session: AsyncSession, event_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(select(EVENTS).where(EVENTS.c.id == event_id))).mappings().first()


async def existing_unit_ids(session: AsyncSession, unit_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for part in chunks(list(unit_ids)):
        found.update((await session.scalars(select(UNITS.c.id).where(UNITS.c.id.in_(part)))).all())
    return found


async def commune_ids_by_code(
    session: AsyncSession, codes: Sequence[str], on: date
) -> dict[str, uuid.UUID]:
    out: dict[str, uuid.UUID] = {}
    for part in chunks(sorted(set(codes))):
        statement = select(VERSIONS.c.code, VERSIONS.c.unit_id).where(
            VERSIONS.c.level == UnitLevel.COMMUNE.value,
            VERSIONS.c.code.in_(part),
            valid_on(VERSIONS, on),
        )
        out.update({row.code: row.unit_id for row in await session.execute(statement)})
    return out


# --- writes ------------------------------------------------------------------------------------


async def lock_map(session: AsyncSession) -> None:
    """Serialise changes of the map so that the invariant checks see every committed change.

    PostgreSQL: a transaction-scoped advisory lock. SQLite already has a single writer.
    """
    await serialise_until_commit(session, MAP_LOCK)


async def insert_rows(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for part in chunks(list(rows), 5000):
        await session.execute(insert(table), list(part))


async def insert_unit(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(UNITS), [row])


async def insert_version(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(VERSIONS), [row])


async def end_version(session: AsyncSession, version_id: uuid.UUID, valid_to: date) -> None:
    await session.execute(
        update(VERSIONS)
        .where(VERSIONS.c.id == version_id)
        .values(valid_to=valid_to, updated_at=utcnow())
    )


async def set_version_parent(
    session: AsyncSession, version_id: uuid.UUID, parent_id: uuid.UUID, event_id: uuid.UUID | None
) -> None:
    await session.execute(
        update(VERSIONS)
        .where(VERSIONS.c.id == version_id)
        .values(parent_id=parent_id, event_id=event_id, updated_at=utcnow())
    )


async def touch_units(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], moment: datetime | None = None
) -> None:
    ids = sorted(set(unit_ids))
    moment = moment or utcnow()
    for part in chunks(ids):
        await session.execute(
            update(UNITS)
            .where(UNITS.c.id.in_(part))
            .values(updated_at=moment, revision=UNITS.c.revision + 1)
        )


async def insert_event(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(EVENTS), [row])


async def insert_links(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(LINKS), list(rows))


async def link_pairs_exist(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    predecessors = sorted({p for p, _ in pairs})
    found: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for part in chunks(predecessors):
        result = await session.execute(
            select(LINKS.c.predecessor_id, LINKS.c.successor_id).where(
                LINKS.c.predecessor_id.in_(part)
            )
        )
        found.update((row.predecessor_id, row.successor_id) for row in result)
    return found & set(pairs)


async def insert_classification(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(CLASSIFICATIONS), [row])


async def update_classification(
    session: AsyncSession, classification_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(
        update(CLASSIFICATIONS)
        .where(CLASSIFICATIONS.c.id == classification_id)
        .values(**values, updated_at=utcnow())
    )


async def delete_by_ids(session: AsyncSession, table: Any, ids: Sequence[uuid.UUID]) -> None:
    for part in chunks(list(ids)):
        await session.execute(delete(table).where(table.c.id.in_(part)))


def count_of(statement: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(statement.subquery())


def filtered(filters: ItemFilters) -> tuple[Select[Any], list[ColumnElement[Any]]]:
    """The statement of :func:`list_items` before cursor and limit, and its order."""
    return _filtered(filters)
