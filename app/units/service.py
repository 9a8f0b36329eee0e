"""Rules of the units feature: reads at a date, creation and versioned changes of a unit.

Events (``events``), classifications (``classifications``) and CSV imports (``imports``) are
their own modules. Nothing here commits: the router does, once, before the response.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core import authz
from app.core.clock import today
from app.core.errors import Unprocessable, field_error
from app.core.http import etag_for, require_match, timestamp
from app.core.pagination import CursorPart, decode_cursor, encode_cursor
from app.core.permissions import Action
from app.core.security import Principal
from app.models.enums import AuditAction, BasisSource, ClassificationKind, DateBasis, UnitLevel
from app.units import query
from app.units import repository as repo
from app.units.changes import create_unit as create_unit_rows
from app.units.changes import lifetime_end, new_version_from
from app.units.errors import conflict, invalid, unit_not_found
from app.units.invariants import Change, Touched, check
from app.units.repository import Record
from app.units.schemas import UnitCreate, UnitPatch
from app.units.temporal import (
    FIRST_KNOWN_DATE,
    ONE_DAY,
    end_in,
    end_out,
    may_be_older,
    start_in,
    start_out,
)
from app.units.text import code_candidates, fold

# --- representations ---------------------------------------------------------------------------


def item(row: Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "level": row["level"],
        "code": row["code"],
        "name": row["name"],
        "type": row["type"],
        "parent_id": row["parent_id"],
        "valid_from": start_out(row["valid_from"]),
        "valid_to": end_out(row["valid_to"]),
        "may_be_older": may_be_older(row["valid_from"]),
        "updated_at": timestamp(row["updated_at"]),
    }


def known_date(as_of: date | None, loc: list[str | int] | None = None) -> date | None:
    """``as_of`` if the map is known on it; before the first dated list, a 422 naming it."""
    if as_of is not None and as_of < FIRST_KNOWN_DATE:
        first = FIRST_KNOWN_DATE.isoformat()
        msg = (
            f"The map is known from {first} (the first dated statistics office list); "
            f"{as_of.isoformat()} is earlier."
        )
        raise Unprocessable(
            msg,
            code="as_of_before_records",
            errors=[field_error(loc or ["query", "as_of"], msg, "as_of_before_records")],
            params={"first": first},
        )
    return as_of


def ref(row: Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "level": row["level"],
        "code": row["code"],
        "name": row["name"],
        "type": row["type"],
    }


def legal_basis(row: Record) -> dict[str, Any] | None:
    basis = {
        "number": row["legal_basis_number"],
        "date": row["legal_basis_date"],
        "issuer": row["legal_basis_issuer"],
        "title": row["legal_basis_title"],
    }
    return basis if any(value is not None for value in basis.values()) else None


def date_flags(payload: dict[str, Any]) -> dict[str, str | None]:
    """``date_basis`` and ``basis_source`` of a bundled event (app.units.seed writes them in its
    payload); ``None`` for an event recorded through the API, whose payload has neither."""
    basis = payload.get("date_basis")
    source = payload.get("basis_source")
    return {
        "date_basis": DateBasis(basis).value if basis else None,
        "basis_source": BasisSource(source).value if source else None,
    }


def classification(row: Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "value": row["value"],
        "valid_from": start_out(row["valid_from"]),
        "valid_to": end_out(row["valid_to"]),
        "legal_basis": legal_basis(row),
        "note": row["note"],
    }


# --- lists -------------------------------------------------------------------------------------


@dataclass
class UnitFilters:
    as_of: date
    level: UnitLevel | None = None
    parent_id: uuid.UUID | None = None
    within: uuid.UUID | None = None
    code: str | None = None
    q: str | None = None
    classifications: list[tuple[str, str]] = field(default_factory=list)
    updated_since: datetime | None = None


BOOLEAN_TAGS = (ClassificationKind.ESPECIALLY_DIFFICULT, ClassificationKind.SAFE_ZONE)


def parse_classification(text: str, loc: list[str]) -> tuple[str, str]:
    """``kind:value``, or for the yes/no kinds just the kind (``tag=especially_difficult``)."""
    kind, _, value = text.partition(":")
    kinds = {k.value for k in ClassificationKind}
    if kind not in kinds:
        raise invalid(
            "classification_invalid",
            loc,
            f"Unknown classification {kind!r}: one of {sorted(kinds)}.",
        )
    if not value:
        if kind not in {k.value for k in BOOLEAN_TAGS}:
            raise invalid("classification_invalid", loc, f"Give a value: {kind}:<value>.")
        value = "true"
    return kind, value


async def list_units(
    session: AsyncSession, filters: UnitFilters, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    mode = "sync" if filters.updated_since is not None else "search" if filters.q else "plain"
    after = None
    if cursor is not None:
        after = decode_cursor(cursor, *_CURSOR_PARTS[mode])
    rows = await repo.list_items(
        session, await repository_filters(session, filters), after=after, limit=limit + 1
    )
    items = [item(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(_cursor_of(rows[limit - 1], filters))
    return items, next_cursor


async def count_units(session: AsyncSession, filters: UnitFilters) -> int:
    """How many units :func:`list_units` lists over all its pages (``include_total``)."""
    return await repo.count_items(session, await repository_filters(session, filters))


async def repository_filters(session: AsyncSession, filters: UnitFilters) -> repo.ItemFilters:
    return repo.ItemFilters(
        on=filters.as_of,
        level=filters.level.value if filters.level else None,
        parent_id=filters.parent_id,
        within=(
            await query.subtree_unit_ids(
                session,
                filters.within,
                filters.as_of,
                filters.level.value if filters.level else None,
            )
            if filters.within is not None
            else None
        ),
        code_forms=code_candidates(filters.code) if filters.code is not None else None,
        search=(fold(filters.q), code_candidates(filters.q.strip())) if filters.q else None,
        classifications=filters.classifications,
        updated_since=filters.updated_since,
    )


_RANKS = {"province": 1, "district": 2, "commune": 3}
# What each ordering's cursor holds: (updated_at, id); (rank, code, id); search: (exact?, …).
_CURSOR_PARTS: dict[str, tuple[CursorPart, ...]] = {
    "sync": (datetime, uuid.UUID),
    "plain": (int, str, uuid.UUID),
    "search": (int, int, str, uuid.UUID),
}


def _cursor_of(row: Record, filters: UnitFilters) -> list[Any]:
    if filters.updated_since is not None:
        return [row["updated_at"].isoformat(), str(row["id"])]
    tail = [_RANKS.get(row["level"], 4), row["code"], str(row["id"])]
    if filters.q:
        forms = code_candidates(filters.q.strip())
        exact = any(row["code"] == code and level in (None, row["level"]) for level, code in forms)
        return [0 if exact else 1, *tail]
    return tail


# --- one unit ----------------------------------------------------------------------------------


def view_date(row: Record, wanted: date) -> date:
    """The day a version is shown at: ``wanted`` if it is valid then, else its nearest day."""
    start: date = row["valid_from"]
    end: date = row["valid_to"]
    if wanted < start:
        return start
    if wanted >= end:
        return end - ONE_DAY
    return wanted


async def resolve(
    session: AsyncSession, unit_id: uuid.UUID, as_of: date | None
) -> tuple[Record, date]:
    """The unit's version on ``as_of``; without a date, today's, or for a unit that no longer
    (or does not yet) exist, the nearest one. 404 ``unit_not_found`` otherwise."""
    on = as_of or today()
    row = await repo.version_at(session, unit_id, on)
    if row is not None:
        return row, on
    if as_of is None:
        row = await repo.nearest_version(session, unit_id, on)
        if row is not None:
            return row, view_date(row, on)
    raise unit_not_found(unit_id, as_of if await repo.unit_row(session, unit_id) else None)


@dataclass(frozen=True)
class _Shown:
    """The version a unit read shows, with its parent as it stood that day."""

    row: Record
    on: date
    parent: dict[str, Any] | None
    parent_version: uuid.UUID | None

    @property
    def etag(self) -> str:
        # The unit's revision names its own state; the version shown and the parent's version
        # name what else the representation shows (the day read, the parent's name).
        return etag_for(
            self.row["id"], self.row["revision"], self.row["version_id"], self.parent_version
        )


async def _shown(session: AsyncSession, unit_id: uuid.UUID, as_of: date | None) -> _Shown:
    on = as_of or today()
    found_row = await repo.detail_at(session, unit_id, on)
    parent = None
    parent_version = None
    row: Record
    if found_row is not None:
        row = found_row
        if row["parent_version_id"] is not None:
            parent_version = row["parent_version_id"]
            parent = {
                "id": row["parent_id"],
                "level": row["parent_level"],
                "code": row["parent_code"],
                "name": row["parent_name"],
                "type": row["parent_type"],
            }
    else:
        row, on = await resolve(session, unit_id, as_of)
        if row["parent_id"] is not None:
            found = (await repo.refs_at(session, [row["parent_id"]], on)).get(row["parent_id"])
            if found is not None:
                parent, parent_version = ref(found), found["version_id"]
    return _Shown(row, on, parent, parent_version)


async def get_unit(
    session: AsyncSession, unit_id: uuid.UUID, as_of: date | None
) -> tuple[dict[str, Any], str]:
    shown = await _shown(session, unit_id, as_of)
    row = shown.row
    body = item(row)
    body.update(
        as_of=shown.on,
        version_id=row["version_id"],
        source_key=row["source_key"],
        created_at=timestamp(row["created_at"]),
        parent=shown.parent,
        classifications=[
            classification(c) for c in await repo.classifications(session, unit_id, shown.on)
        ],
    )
    return body, shown.etag


async def current_etag(session: AsyncSession, unit_id: uuid.UUID) -> str:
    """The ETag of today's representation, from the unit's revision and versions only."""
    return (await _shown(session, unit_id, None)).etag


async def unit_classifications(
    session: AsyncSession, unit_id: uuid.UUID, as_of: date | None
) -> list[dict[str, Any]]:
    await resolve(session, unit_id, None)
    return [classification(row) for row in await repo.classifications(session, unit_id, as_of)]


async def children(
    session: AsyncSession,
    unit_id: uuid.UUID,
    as_of: date | None,
    level: UnitLevel | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    _, on = await resolve(session, unit_id, as_of)
    filters = UnitFilters(as_of=on, parent_id=unit_id, level=level)
    return await list_units(session, filters, limit, cursor)


async def ancestors(
    session: AsyncSession, unit_id: uuid.UUID, as_of: date | None
) -> list[dict[str, Any]]:
    _, on = await resolve(session, unit_id, as_of)
    return [item(row) for row in await repo.ancestors(session, unit_id, on)]


async def history(session: AsyncSession, unit_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await repo.history(session, unit_id)
    if not rows:
        raise unit_not_found(unit_id)
    parent_ids = sorted({row["parent_id"] for row in rows if row["parent_id"] is not None})
    parent_versions = await repo.versions_of(session, parent_ids)
    out = []
    for row in rows:
        parent = next(
            (
                p
                for p in parent_versions
                if p["unit_id"] == row["parent_id"]
                and p["valid_from"] <= row["valid_from"] < p["valid_to"]
            ),
            None,
        )
        out.append(
            {
                "id": row["id"],
                "valid_from": start_out(row["valid_from"]),
                "valid_to": end_out(row["valid_to"]),
                "level": row["level"],
                "code": row["code"],
                "name": row["name"],
                "type": row["type"],
                "parent_id": row["parent_id"],
                "parent": None if parent is None else ref({**parent, "id": parent["unit_id"]}),
                "event_id": row["event_id"],
                "event_kind": row["event_kind"],
                "note": row["note"],
                "created_at": timestamp(row["created_at"]),
            }
        )
    return out


MAX_TREE_DEPTH = 4


async def tree(
    session: AsyncSession, root_id: uuid.UUID | None, depth: int, as_of: date | None
) -> dict[str, Any]:
    if root_id is not None:
        _, on = await resolve(session, root_id, as_of)
        roots = [root_id]
    else:
        on = as_of or today()
        roots = await repo.province_ids(session, on)
    nodes: dict[uuid.UUID, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    for row in await repo.subtree(session, roots, on, depth) if roots else []:
        node = {
            "id": row["id"],
            "level": row["level"],
            "code": row["code"],
            "name": row["name"],
            "type": row["type"],
            "valid_from": start_out(row["valid_from"]),
            "valid_to": end_out(row["valid_to"]),
            "children": [],
        }
        nodes[row["id"]] = node
        if row["depth"] == 0:
            items.append(node)
        else:
            nodes[row["parent_id"]]["children"].append(node)
    items.sort(key=lambda node: (node["level"] != "province", node["code"]))
    return {"as_of": on, "depth": depth, "count": len(nodes), "items": items}


# --- writes ------------------------------------------------------------------------------------


def _create_matches(body: UnitCreate, row: Record) -> bool:
    valid_from = body.valid_from
    return (
        row["type"] == body.type.value
        and row["code"] == body.code.strip()
        and row["name"] == " ".join(body.name.split())
        and row["parent_id"] == body.parent_id
        and (valid_from is None or row["valid_from"] == valid_from)
    )


async def create_unit(
    session: AsyncSession, context: AuditContext, body: UnitCreate
) -> tuple[dict[str, Any], str, bool]:
    """Returns (representation, etag, created). Replaying a creation with the same id and body
    returns the existing unit; the same id with another body is 409 ``unit_id_conflict``."""
    await repo.lock_map(session)
    if body.id is not None and await repo.unit_row(session, body.id) is not None:
        first = await repo.history(session, body.id)
        if first and _create_matches(body, first[0]):
            unit, etag = await get_unit(session, body.id, None)
            return unit, etag, False
        raise conflict(
            "unit_id_conflict",
            f"Unit {body.id} exists with other values; use PATCH to change it.",
        )
    level = body.type.level
    if body.level is not None and body.level is not level:
        raise invalid(
            "type_level_mismatch", ["body", "type"], f"A {body.type.value} is a {level.value}."
        )
    valid_from = body.valid_from
    if valid_from is None:
        valid_from = today()
        if body.parent_id is not None:
            parent = await repo.version_at(session, body.parent_id, valid_from)
            if parent is None:
                raise invalid(
                    "parent_not_valid",
                    ["body", "parent_id"],
                    f"Parent {body.parent_id} does not exist today; give valid_from.",
                )
            valid_from = parent["valid_from"]
    valid_to = end_in(body.valid_to)
    if body.valid_to is None and body.parent_id is not None:
        # A unit lives while its parent does, unless told otherwise.
        parent_versions = await repo.versions_of(session, [body.parent_id])
        valid_to = lifetime_end(parent_versions, valid_from) if parent_versions else valid_to
        if valid_to <= valid_from:
            valid_to = end_in(None)
    change = Change()
    unit_id = body.id or uuid.uuid4()
    row = await create_unit_rows(
        session,
        change,
        Touched(dates=("body", "valid_to") if body.valid_to else ("body", "valid_from")),
        unit_id=unit_id,
        type_=body.type,
        code=body.code,
        name=body.name,
        parent_id=body.parent_id,
        valid_from=start_in(valid_from),
        valid_to=valid_to,
        note=body.note,
    )
    await check(session, change)
    await record(
        session,
        context,
        entity="unit",
        entity_id=unit_id,
        action=AuditAction.CREATE,
        after=row,
        unit_id=unit_id,
    )
    unit, etag = await get_unit(session, unit_id, None)
    return unit, etag, True


async def patch_unit(
    session: AsyncSession,
    context: AuditContext,
    unit_id: uuid.UUID,
    body: UnitPatch,
    principal: Principal | None = None,
    if_match: str | None = None,
) -> tuple[dict[str, Any], str]:
    """The write pattern: the map locked, the caller authorised over the unit (and the new
    parent), If-Match compared with the current ETag, then the new version and its audit."""
    await repo.lock_map(session)
    if await repo.unit_row(session, unit_id) is None:
        raise unit_not_found(unit_id)
    if principal is not None:
        await authz.require_all(
            session,
            principal,
            Action.UNITS_WRITE,
            [unit_id, *([body.parent_id] if body.parent_id else [])],
            missing=unit_not_found,
        )
    require_match(if_match, await current_etag(session, unit_id), what=f"Unit {unit_id}")
    values: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("name", "type", "parent_id", "code")
        if name in body.model_fields_set
    }
    for name in ("name", "type", "code"):
        if name in values and values[name] is None:
            raise invalid("value_required", ["body", name], f"{name} cannot be null.")
    if values:
        if body.effective_date is None:
            raise invalid(
                "effective_date_required",
                ["body", "effective_date"],
                "A change of name, type, parent or code is a new version: give effective_date.",
            )
        current = await repo.version_at(session, unit_id, body.effective_date)
        if (
            current is not None
            and "type" in values
            and values["type"].level.value != current["level"]
        ):
            raise invalid(
                "type_level_mismatch",
                ["body", "type"],
                f"A {current['level']} cannot become a {values['type'].value}.",
            )
        if "type" in values:
            values["type"] = values["type"].value
        change = Change()
        result = await new_version_from(
            session,
            change,
            Touched(dates=("body", "effective_date")),
            unit_id=unit_id,
            on=body.effective_date,
            values=values,
            note=body.note,
            unit_loc=("body", "effective_date"),
        )
        if result is not None:
            await check(session, change)
            await repo.touch_units(session, [unit_id])
            before, after = result
            await record(
                session,
                context,
                entity="unit",
                entity_id=unit_id,
                action=AuditAction.UPDATE,
                before={k: before[k] for k in ("id", "valid_from", "valid_to", *values)},
                after=after,
                unit_id=unit_id,
            )
    return await get_unit(session, unit_id, None)
