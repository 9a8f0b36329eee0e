"""SQL of the criteria feature: Core selects for the hot reads, bulk writes for the tree.

A unit's province, region, classifications and commune group as of a date are read through the
units feature (``app.units.query``), never from its tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.intervals import Period
from app.db.locking import for_update
from app.models.criteria import (
    CriteriaGroup,
    CriteriaSet,
    Criterion,
    Indicator,
    IndicatorThreshold,
)
from app.units import query as units

Row = dict[str, Any]

_SET = cast(Table, CriteriaSet.__table__)
_GROUP = cast(Table, CriteriaGroup.__table__)
_CRITERION = cast(Table, Criterion.__table__)
_INDICATOR = cast(Table, Indicator.__table__)
_THRESHOLD = cast(Table, IndicatorThreshold.__table__)


def _rows(result: Any) -> list[Row]:
    return [dict(row) for row in result.mappings()]


# --- sets -------------------------------------------------------------------------------------


async def get_head(session: AsyncSession, set_id: uuid.UUID) -> Row | None:
    result = await session.execute(select(_SET).where(_SET.c.id == set_id))
    row = result.mappings().first()
    return dict(row) if row is not None else None


# Read by every threshold resolution (GET …/thresholds, evaluations): built once, with a bound
# id, rather than per call (building and keying it was a tenth of a cached read, issue 16).
_HEAD_WITH_MAP_TOKEN = select(_SET, units.map_token_select().label("map_token")).where(
    _SET.c.id == bindparam("set_id", type_=_SET.c.id.type)
)


async def head_with_map_token(session: AsyncSession, set_id: uuid.UUID) -> tuple[Row, str] | None:
    """The set's head row and the map's current token, read in one statement (one snapshot):
    what threshold resolution keeps is valid while both are unchanged."""
    result = await session.execute(_HEAD_WITH_MAP_TOKEN, {"set_id": set_id})
    row = result.mappings().first()
    if row is None:
        return None
    head = dict(row)
    return head, str(head.pop("map_token"))


async def lock_head(session: AsyncSession, set_id: uuid.UUID) -> Row | None:
    """The set's row, locked for the rest of the transaction on PostgreSQL (no-op on SQLite)."""
    result = await session.execute(for_update(select(_SET).where(_SET.c.id == set_id)))
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def get_by_code(session: AsyncSession, code: str) -> Row | None:
    result = await session.execute(select(_SET).where(_SET.c.code == code))
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def refs(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, Row]:
    """Code, version, status and legal basis of the sets a set points at."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    result = await session.execute(
        select(
            _SET.c.id,
            _SET.c.code,
            _SET.c.version,
            _SET.c.status,
            _SET.c.legal_basis_number,
            _SET.c.legal_basis_date,
            _SET.c.legal_basis_issuer,
            _SET.c.legal_basis_signer,
            _SET.c.legal_basis_title,
            _SET.c.legal_basis_url,
        ).where(_SET.c.id.in_(wanted))
    )
    return {row["id"]: row for row in _rows(result)}


async def insert_set(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(insert(_SET).values(**values))


async def update_set(session: AsyncSession, set_id: uuid.UUID, values: Mapping[str, Any]) -> None:
    await session.execute(update(_SET).where(_SET.c.id == set_id).values(**values))


async def derived_children(session: AsyncSession, set_id: uuid.UUID) -> list[Row]:
    result = await session.execute(
        select(_SET.c.id, _SET.c.code).where(_SET.c.derived_from_id == set_id)
    )
    return _rows(result)


async def list_sets(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool],
    level: str | None,
    title: str | None,
    year: int | None,
    scope_unit_id: uuid.UUID | None,
    national: bool | None,
    status: str | None,
    code: str | None,
    updated_since: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row]:
    """Sets ordered by ``(updated_at, id)`` with their criteria and indicator counts, among
    those ``visible`` (the caller's filter, on ``criteria_sets``)."""
    criteria_count = (
        select(func.count())
        .where(_CRITERION.c.criteria_set_id == _SET.c.id)
        .scalar_subquery()
        .label("criteria_count")
    )
    indicator_count = (
        select(func.count())
        .where(_INDICATOR.c.criteria_set_id == _SET.c.id)
        .scalar_subquery()
        .label("indicator_count")
    )
    parent = aliased(_SET)
    amended = aliased(_SET)
    query: Select[Any] = (
        select(
            _SET,
            criteria_count,
            indicator_count,
            parent.c.code.label("derived_from_code"),
            parent.c.version.label("derived_from_current_version"),
            amended.c.code.label("amends_code"),
        )
        .outerjoin(parent, parent.c.id == _SET.c.derived_from_id)
        .outerjoin(amended, amended.c.id == _SET.c.amends_id)
    )
    conditions = set_conditions(
        visible,
        level=level,
        title=title,
        year=year,
        scope_unit_id=scope_unit_id,
        national=national,
        status=status,
        code=code,
        updated_since=updated_since,
    )
    if after is not None:
        moment, last_id = after
        conditions.append(
            or_(
                _SET.c.updated_at > moment,
                and_(_SET.c.updated_at == moment, _SET.c.id > last_id),
            )
        )
    query = query.where(*conditions).order_by(_SET.c.updated_at, _SET.c.id).limit(limit + 1)
    return _rows(await session.execute(query))


def set_conditions(
    visible: ColumnElement[bool],
    *,
    level: str | None,
    title: str | None,
    year: int | None,
    scope_unit_id: uuid.UUID | None,
    national: bool | None,
    status: str | None,
    code: str | None,
    updated_since: datetime | None,
) -> list[ColumnElement[bool]]:
    """The filters of :func:`list_sets`, on ``criteria_sets``."""
    conditions = [visible]
    if level is not None:
        conditions.append(_SET.c.level == level)
    if title is not None:
        conditions.append(_SET.c.title == title)
    if year is not None:
        conditions += [_SET.c.period_start_year <= year, _SET.c.period_end_year >= year]
    if scope_unit_id is not None:
        conditions.append(_SET.c.scope_unit_id == scope_unit_id)
    if national is not None:
        conditions.append(
            _SET.c.scope_unit_id.is_(None) if national else _SET.c.scope_unit_id.is_not(None)
        )
    if status is not None:
        conditions.append(_SET.c.status == status)
    if code is not None:
        conditions.append(_SET.c.code == code)
    if updated_since is not None:
        conditions.append(_SET.c.updated_at >= updated_since)
    return conditions


async def count_sets(session: AsyncSession, conditions: list[ColumnElement[bool]]) -> int:
    found = await session.scalar(select(func.count()).select_from(_SET).where(*conditions))
    return int(found or 0)


# --- the tree ---------------------------------------------------------------------------------


async def load_children(
    session: AsyncSession, set_id: uuid.UUID
) -> tuple[list[Row], list[Row], list[Row], list[Row]]:
    """Groups, criteria, indicators and thresholds of a set, each in the set's order."""
    groups = _rows(
        await session.execute(
            select(_GROUP).where(_GROUP.c.criteria_set_id == set_id).order_by(_GROUP.c.position)
        )
    )
    criteria = _rows(
        await session.execute(
            select(_CRITERION)
            .where(_CRITERION.c.criteria_set_id == set_id)
            .order_by(_CRITERION.c.position, _CRITERION.c.number)
        )
    )
    indicators = _rows(
        await session.execute(
            select(_INDICATOR)
            .where(_INDICATOR.c.criteria_set_id == set_id)
            .order_by(_INDICATOR.c.position, _INDICATOR.c.code)
        )
    )
    thresholds = _rows(
        await session.execute(
            select(_THRESHOLD)
            .join(_INDICATOR, _INDICATOR.c.id == _THRESHOLD.c.indicator_id)
            .where(_INDICATOR.c.criteria_set_id == set_id)
            .order_by(_THRESHOLD.c.indicator_id, _THRESHOLD.c.position)
        )
    )
    return groups, criteria, indicators, thresholds


async def child_keys(
    session: AsyncSession, set_id: uuid.UUID
) -> tuple[dict[str, uuid.UUID], dict[int, uuid.UUID], dict[str, uuid.UUID]]:
    """Ids of the set's groups by code, criteria by number and indicators by code."""
    groups = await session.execute(
        select(_GROUP.c.code, _GROUP.c.id).where(_GROUP.c.criteria_set_id == set_id)
    )
    criteria = await session.execute(
        select(_CRITERION.c.number, _CRITERION.c.id).where(_CRITERION.c.criteria_set_id == set_id)
    )
    indicators = await session.execute(
        select(_INDICATOR.c.code, _INDICATOR.c.id).where(_INDICATOR.c.criteria_set_id == set_id)
    )
    return (
        {row[0]: row[1] for row in groups.all()},
        {row[0]: row[1] for row in criteria.all()},
        {row[0]: row[1] for row in indicators.all()},
    )


async def write_rows(
    session: AsyncSession, model: Any, inserts: Sequence[Row], updates: Sequence[Row]
) -> None:
    """Insert new rows and update existing ones by primary key, each in one statement."""
    if inserts:
        await session.execute(insert(model.__table__), list(inserts))
    if updates:
        await session.execute(update(model), list(updates))


async def delete_rows(session: AsyncSession, model: Any, ids: Iterable[uuid.UUID]) -> None:
    wanted = list(ids)
    if wanted:
        await session.execute(delete(model.__table__).where(model.__table__.c.id.in_(wanted)))


async def delete_thresholds(
    session: AsyncSession, indicator_ids: Iterable[uuid.UUID], *, own_only: bool = False
) -> None:
    wanted = list(indicator_ids)
    if not wanted:
        return
    statement = delete(_THRESHOLD).where(_THRESHOLD.c.indicator_id.in_(wanted))
    if own_only:
        statement = statement.where(_THRESHOLD.c.inherited.is_(False))
    await session.execute(statement)


async def insert_thresholds(session: AsyncSession, rows: Sequence[Row]) -> None:
    if rows:
        await session.execute(insert(_THRESHOLD), list(rows))


async def update_indicator(
    session: AsyncSession, indicator_id: uuid.UUID, values: Mapping[str, Any]
) -> None:
    await session.execute(
        update(_INDICATOR).where(_INDICATOR.c.id == indicator_id).values(**values)
    )


# --- units as of a date (through the units feature) -------------------------------------------


def _unit_row(version: units.DatedUnit) -> Row:
    return {
        "unit_id": version.unit_id,
        "level": version.level,
        "code": version.code,
        "name": version.name,
        "parent_id": version.parent_id,
    }


async def unit_at(session: AsyncSession, unit_id: uuid.UUID, when: date) -> Row | None:
    version = await units.version_on(session, unit_id, when)
    return _unit_row(version) if version is not None else None


async def unit_chain(session: AsyncSession, unit_id: uuid.UUID, when: date) -> list[Row]:
    """The unit and its ancestors as of ``when``, nearest first, in one statement."""
    return [_unit_row(version) for version in await units.chain_on(session, unit_id, when)]


async def units_by_code(session: AsyncSession, level: str, code: str, when: date) -> list[Row]:
    return [
        _unit_row(version)
        for version in await units.versions_with_codes(
            session, [code], Period.on(when), level=level
        )
    ]


async def classifications_at(
    session: AsyncSession, unit_ids: Sequence[uuid.UUID], kinds: Sequence[str], when: date
) -> list[Row]:
    return [
        {
            "unit_id": entry.unit_id,
            "kind": entry.kind,
            "value": entry.value,
            "legal_basis_number": entry.legal_basis_number,
            "legal_basis_date": entry.legal_basis_date,
        }
        for entry in await units.classifications(session, unit_ids, on=when, kinds=kinds)
    ]
