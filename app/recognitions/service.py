"""The register of titles: recording grants and revocations, reading them.

The typed API other features call (dossiers record the decision that closes a dossier, plans
and reports read what was held):

    await record_grant(session, context=audit, principal=principal, unit_id=…, title=…,
                       year_for=…, decision_number=…, decision_date=…, signer=…,
                       source=RecognitionSource.DOSSIER, dossier_id=…)
    await record_revocation(session, context=audit, principal=principal, recognition_id=…,
                            decision_number=…, decision_date=…, signer=…, reason=…)

and ``app.recognitions.query.titles_held`` for what units held on a day. Both writes follow the
write pattern (lock, authorise, If-Match, write, audit; the caller commits once).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core import authz
from app.core.clock import today
from app.core.errors import Conflict, NotFound, Unprocessable, field_error
from app.core.http import require_match, revision_etag
from app.core.pagination import decode_updated_cursor, page_from_rows
from app.core.permissions import Action
from app.core.security import Principal
from app.db.intervals import BEGINNING_OF_TIME, END_OF_TIME, ONE_DAY, Period
from app.db.types import utcnow
from app.models.enums import AuditAction, RecognitionSource, Title
from app.recognitions import repository as repo
from app.recognitions.schemas import (
    RecognisedUnit,
    RecognitionCreate,
    RecognitionOut,
    RevocationOut,
    UnitTitles,
)
from app.recognitions.titles import TITLE_LEVEL
from app.units import query as units

AUDIT_ENTITY = "recognition"
Loc = Sequence[str | int]


def recognition_not_found(recognition_id: object) -> NotFound:
    return NotFound(
        f"There is no recognition {recognition_id}.",
        code="recognition_not_found",
        params={"id": str(recognition_id)},
    )


def invalid(loc: Loc, code: str, message: str, **params: Any) -> Unprocessable:
    return Unprocessable(
        message, code=code, errors=[field_error(list(loc), message, code)], params=params or None
    )


def etag_of(row: Mapping[Any, Any]) -> str:
    return revision_etag(row["id"], row["revision"])


# --- representation -----------------------------------------------------------------------------


def _out(row: Mapping[Any, Any], unit: units.DatedUnit | None) -> RecognitionOut:
    revoked = row["revocation_decision_date"] is not None
    return RecognitionOut(
        id=row["id"],
        unit_id=row["unit_id"],
        unit=None
        if unit is None
        else RecognisedUnit(id=unit.unit_id, code=unit.code, name=unit.name, level=unit.level),
        title=Title(row["title"]),
        year_for=row["year_for"],
        decision_number=row["decision_number"],
        decision_date=row["decision_date"],
        signer=row["signer"],
        issuing_unit_id=row["issuing_unit_id"],
        issuing_body=row["issuing_body"],
        field=row["field"],
        note=row["note"],
        source=RecognitionSource(row["source"]),
        dossier_id=row["dossier_id"],
        unit_event_id=row["unit_event_id"],
        carried_from=[uuid.UUID(str(i)) for i in row["carried_from"]]
        if row["carried_from"] is not None
        else None,
        held_from=row["decision_date"],
        held_until=None if row["held_until"] >= END_OF_TIME else row["held_until"],
        revocation=RevocationOut(
            decision_number=row["revocation_decision_number"],
            decision_date=row["revocation_decision_date"],
            signer=row["revocation_signer"],
            issuing_body=row["revocation_issuing_body"],
            reason=row["revocation_reason"],
            basis=row["revocation_basis"],
            revoked_at=row["revoked_at"],
        )
        if revoked
        else None,
        revision=row["revision"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def represent(
    session: AsyncSession, rows: Sequence[Mapping[Any, Any]]
) -> list[RecognitionOut]:
    """Each recognition with its unit as it stood on the decision date (or, for a unit that
    had ended by then, as it last stood): one read of the map for the whole page."""
    if not rows:
        return []
    last = max(row["decision_date"] for row in rows)
    by_unit: dict[uuid.UUID, list[units.DatedUnit]] = {}
    for version in await units.versions_during(
        session, {row["unit_id"] for row in rows}, Period(BEGINNING_OF_TIME, last + ONE_DAY)
    ):
        by_unit.setdefault(version.unit_id, []).append(version)
    out = []
    for row in rows:
        versions = sorted(by_unit.get(row["unit_id"], []), key=lambda v: v.valid_from)
        day = row["decision_date"]
        shown = next((v for v in versions if v.valid_from <= day < v.valid_to), None)
        if shown is None:
            earlier = [v for v in versions if v.valid_from <= day]
            shown = earlier[-1] if earlier else (versions[0] if versions else None)
        out.append(_out(row, shown))
    return out


# --- checks -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grant:
    """What a grant records; the fields of ``record_grant``."""

    unit_id: uuid.UUID
    title: Title
    year_for: int
    decision_number: str
    decision_date: date
    signer: str
    issuing_unit_id: uuid.UUID | None = None
    issuing_body: str | None = None
    field: str | None = None
    note: str | None = None
    dossier_id: uuid.UUID | None = None
    source: RecognitionSource = RecognitionSource.DOSSIER
    unit_event_id: uuid.UUID | None = None
    carried_from: tuple[uuid.UUID, ...] | None = None


def check_decision_date(day: date, loc: Loc) -> None:
    if day > today():
        raise invalid(
            loc,
            "decision_date_in_future",
            f"The decision date {day.isoformat()} is in the future.",
            date=day.isoformat(),
        )


def check_grant_fields(grant: Grant, level: str, loc: Loc) -> None:
    """The rules a grant must keep that need no database beyond the unit's level."""
    check_decision_date(grant.decision_date, (*loc, "decision_date"))
    expected = TITLE_LEVEL[grant.title]
    if expected != level:
        raise invalid(
            (*loc, "title"),
            "title_level_mismatch",
            f"The title {grant.title} is held by a {expected}; the unit is a {level}.",
        )
    if grant.year_for > grant.decision_date.year:
        raise invalid(
            (*loc, "year_for"),
            "year_for_after_decision",
            f"A decision of {grant.decision_date.isoformat()} cannot recognise a title for "
            f"{grant.year_for}, a later year.",
        )
    if grant.field is not None and grant.title != Title.MODEL_NTM_COMMUNE:
        raise invalid(
            (*loc, "field"),
            "recognition_field_not_allowed",
            "Only a model NTM commune's title names a field of excellence (319/QĐ-TTg).",
        )


async def _unit_on(
    session: AsyncSession, unit_id: uuid.UUID, day: date, loc: Loc
) -> units.DatedUnit:
    version = await units.version_on(session, unit_id, day)
    if version is None:
        raise invalid(
            loc,
            "unit_not_found",
            f"No unit {unit_id} existed on {day.isoformat()}, the decision date.",
        )
    return version


def _row(grant: Grant, recognition_id: uuid.UUID, context: AuditContext) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": recognition_id,
        "unit_id": grant.unit_id,
        "title": grant.title.value,
        "year_for": grant.year_for,
        "decision_number": grant.decision_number,
        "decision_date": grant.decision_date,
        "signer": grant.signer,
        "issuing_unit_id": grant.issuing_unit_id,
        "issuing_body": grant.issuing_body,
        "field": grant.field,
        "note": grant.note,
        "source": grant.source.value,
        "dossier_id": grant.dossier_id,
        "unit_event_id": grant.unit_event_id,
        "carried_from": [str(i) for i in grant.carried_from]
        if grant.carried_from is not None
        else None,
        "import_ref": None,
        "held_until": END_OF_TIME,
        "revocation_decision_number": None,
        "revocation_decision_date": None,
        "revocation_signer": None,
        "revocation_issuing_body": None,
        "revocation_reason": None,
        "revocation_basis": None,
        "revoked_at": None,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": context.actor_id,
        "created_by_name": context.actor_name,
        "updated_by": context.actor_id,
        "updated_by_name": context.actor_name,
    }


_SAME = (
    "unit_id",
    "title",
    "year_for",
    "decision_number",
    "decision_date",
    "signer",
    "issuing_unit_id",
    "issuing_body",
    "field",
    "note",
    "source",
    "dossier_id",
)


def same_grant(row: Mapping[Any, Any], new: Mapping[Any, Any]) -> bool:
    return all(row[key] == new[key] for key in _SAME)


# --- writes -------------------------------------------------------------------------------------


async def grant(
    session: AsyncSession,
    *,
    context: AuditContext,
    principal: Principal | None,
    grant: Grant,
    recognition_id: uuid.UUID | None = None,
    loc: Loc = ("body",),
) -> tuple[RecognitionOut, bool]:
    """(the recognition, created). The same client id and body again returns the stored one."""
    if principal is not None:
        await authz.require(
            session,
            principal,
            Action.RECOGNITIONS_WRITE,
            unit_id=grant.unit_id,
            entity="unit",
            entity_id=grant.unit_id,
        )
    new_id = recognition_id or uuid.uuid4()
    row = _row(grant, new_id, context)
    if recognition_id is not None:
        existing = await repo.get(session, recognition_id)
        if existing is not None:
            if principal is not None:
                await _authorize(session, principal, Action.RECOGNITIONS_WRITE, existing)
            if same_grant(existing, row):
                return (await represent(session, [existing]))[0], False
            raise Conflict(
                f"Recognition {recognition_id} exists with other values.",
                code="recognition_id_conflict",
            )
    check_decision_date(grant.decision_date, (*loc, "decision_date"))
    unit = await _unit_on(session, grant.unit_id, grant.decision_date, (*loc, "unit_id"))
    check_grant_fields(grant, unit.level, loc)
    if grant.issuing_unit_id is not None and not await units.unit_exists(
        session, grant.issuing_unit_id
    ):
        raise invalid(
            (*loc, "issuing_unit_id"),
            "issuing_unit_not_found",
            f"There is no unit {grant.issuing_unit_id} to have issued the decision.",
        )
    existing_id = await repo.find_by_natural_key(
        session, grant.unit_id, grant.title.value, grant.year_for
    )
    if existing_id is not None:
        raise repo.natural_key_taken(existing_id)
    await repo.insert_many(session, [row])
    await record(
        session,
        context,
        entity=AUDIT_ENTITY,
        entity_id=new_id,
        action=AuditAction.CREATE,
        after=row,
        unit_id=grant.unit_id,
    )
    return _out(row, unit), True


async def create(
    session: AsyncSession,
    context: AuditContext,
    principal: Principal | None,
    body: RecognitionCreate,
) -> tuple[RecognitionOut, bool]:
    """``POST /recognitions``: a decision made outside the platform's dossiers."""
    return await grant(
        session,
        context=context,
        principal=principal,
        grant=Grant(
            unit_id=body.unit_id,
            title=body.title,
            year_for=body.year_for,
            decision_number=body.decision_number,
            decision_date=body.decision_date,
            signer=body.signer,
            issuing_unit_id=body.issuing_unit_id,
            issuing_body=body.issuing_body,
            field=body.field,
            note=body.note,
            source=RecognitionSource.HISTORICAL,
        ),
        recognition_id=body.id,
    )


async def record_grant(
    session: AsyncSession,
    *,
    context: AuditContext,
    principal: Principal | None,
    unit_id: uuid.UUID,
    title: Title,
    year_for: int,
    decision_number: str,
    decision_date: date,
    signer: str,
    issuing_unit_id: uuid.UUID | None = None,
    issuing_body: str | None = None,
    field: str | None = None,
    note: str | None = None,
    dossier_id: uuid.UUID | None = None,
    source: RecognitionSource = RecognitionSource.DOSSIER,
    recognition_id: uuid.UUID | None = None,
) -> RecognitionOut:
    """Record the decision granting ``title`` to the unit; audited, not committed.

    ``principal`` None: the caller has authorised the act itself (e.g. a dossier's decision
    step, authorised by ``dossiers:decide``). Raises 422 (``decision_date_in_future``,
    ``title_level_mismatch``, ``year_for_after_decision``, ``unit_not_found``, …) or 409
    ``recognition_exists`` (one recognition per unit, title and year "for")."""
    recognition, _ = await grant(
        session,
        context=context,
        principal=principal,
        grant=Grant(
            unit_id=unit_id,
            title=title,
            year_for=year_for,
            decision_number=decision_number,
            decision_date=decision_date,
            signer=signer,
            issuing_unit_id=issuing_unit_id,
            issuing_body=issuing_body,
            field=field,
            note=note,
            dossier_id=dossier_id,
            source=source,
        ),
        recognition_id=recognition_id,
    )
    return recognition


async def _authorize(
    session: AsyncSession, principal: Principal | None, action: Action, row: Mapping[Any, Any]
) -> None:
    """A recognition belongs to its unit: 404 outside the caller's scopes, 403 without the
    right. ``None``: the system itself, or a caller that authorised the act."""
    if principal is None:
        return
    await authz.require(
        session,
        principal,
        action,
        unit_id=row["unit_id"],
        entity=AUDIT_ENTITY,
        entity_id=row["id"],
        missing=recognition_not_found(row["id"]),
    )


async def record_revocation(
    session: AsyncSession,
    *,
    context: AuditContext,
    principal: Principal | None,
    recognition_id: uuid.UUID,
    decision_number: str,
    decision_date: date,
    signer: str,
    reason: str,
    issuing_body: str | None = None,
    basis: Mapping[Any, Any] | None = None,
    if_match: str | None = None,
    loc: Loc = ("body",),
    basis_from: Callable[[Mapping[Any, Any]], Awaitable[Mapping[str, Any]]] | None = None,
) -> RecognitionOut:
    """Record the decision revoking a recognition (thu hồi); the title is no longer held from
    ``decision_date``. The write pattern: lock, authorise, If-Match, write, audit."""
    current = await repo.get_for_update(session, recognition_id)
    if current is None:
        raise recognition_not_found(recognition_id)
    await _authorize(session, principal, Action.RECOGNITIONS_WRITE, current)
    require_match(if_match, etag_of(current), what=f"Recognition {recognition_id}")
    if current["revocation_decision_date"] is not None:
        raise Conflict(
            f"Recognition {recognition_id} was revoked by {current['revocation_decision_number']}.",
            code="recognition_already_revoked",
        )
    check_decision_date(decision_date, (*loc, "decision_date"))
    if decision_date <= current["decision_date"]:
        raise invalid(
            (*loc, "decision_date"),
            "revocation_before_grant",
            f"A revocation of {decision_date.isoformat()} cannot precede or coincide with the "
            f"grant of {current['decision_date'].isoformat()}.",
            grant_date=current["decision_date"].isoformat(),
        )
    if basis_from is not None:
        # Computed once the caller is known to hold the recognition: nothing leaks before.
        basis = await basis_from(current)
    now = utcnow()
    changes: dict[str, Any] = {
        "held_until": decision_date,
        "revocation_decision_number": decision_number,
        "revocation_decision_date": decision_date,
        "revocation_signer": signer,
        "revocation_issuing_body": issuing_body,
        "revocation_reason": reason,
        "revocation_basis": dict(basis) if basis is not None else None,
        "revoked_at": now,
        "revision": current["revision"] + 1,
        "updated_at": now,
        "updated_by": context.actor_id,
        "updated_by_name": context.actor_name,
    }
    await repo.update_one(session, recognition_id, changes)
    await record(
        session,
        context,
        entity=AUDIT_ENTITY,
        entity_id=recognition_id,
        action=AuditAction.REVOKE,
        before={"held_until": current["held_until"], "revision": current["revision"]},
        after={k: v for k, v in changes.items() if k.startswith("revocation") or k == "revision"},
        unit_id=current["unit_id"],
    )
    return (await represent(session, [{**current, **changes}]))[0]


# --- reads --------------------------------------------------------------------------------------


async def get(
    session: AsyncSession, recognition_id: uuid.UUID, principal: Principal | None = None
) -> tuple[RecognitionOut, str]:
    row = await repo.get(session, recognition_id)
    if row is None:
        raise recognition_not_found(recognition_id)
    await _authorize(session, principal, Action.RECOGNITIONS_READ, row)
    return (await represent(session, [row]))[0], etag_of(row)


@dataclass(frozen=True)
class RecognitionList:
    items: list[RecognitionOut]
    next_cursor: str | None
    total: int | None


def list_filters(
    *,
    principal: Principal | None,
    within: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    title: Title | None = None,
    year_for: int | None = None,
    as_of: date | None = None,
    source: RecognitionSource | None = None,
    updated_since: datetime | None = None,
) -> repo.ListFilters:
    """What the list (and its export) selects; only recognitions of units the caller may read."""
    visible = (
        authz.scope(principal, Action.RECOGNITIONS_READ).clause(repo.RECOGNITIONS.c.unit_id)
        if principal is not None
        else None
    )
    return repo.ListFilters(
        visible=visible,
        units=units.subtree_select([within], as_of or today()) if within is not None else None,
        unit_id=unit_id,
        title=title.value if title is not None else None,
        year_for=year_for,
        held_on=as_of,
        source=source.value if source is not None else None,
        updated_since=updated_since,
    )


async def list_recognitions(
    session: AsyncSession,
    *,
    principal: Principal | None,
    within: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    title: Title | None = None,
    year_for: int | None = None,
    as_of: date | None = None,
    source: RecognitionSource | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
    include_total: bool = False,
) -> RecognitionList:
    """``within``: the unit's subtree as the map stood on ``as_of`` (default today), ended units
    kept where they last were (their titles stay as history). ``as_of``: only titles held that
    day."""
    filters = list_filters(
        principal=principal,
        within=within,
        unit_id=unit_id,
        title=title,
        year_for=year_for,
        as_of=as_of,
        source=source,
        updated_since=updated_since,
    )
    rows = await repo.list_page(session, filters, after=decode_updated_cursor(cursor), limit=limit)
    rows, next_cursor = page_from_rows(rows, limit, lambda r: (r["updated_at"], r["id"]))
    total = await repo.count(session, filters) if include_total else None
    return RecognitionList(await represent(session, rows), next_cursor, total)


async def require_unit_readable(
    session: AsyncSession, unit_id: uuid.UUID, principal: Principal | None
) -> None:
    """404 for an unknown unit, 403/404 when the caller may not read its titles."""
    if not await units.unit_exists(session, unit_id):
        raise authz.not_found("unit", unit_id)
    if principal is not None:
        await authz.require(
            session, principal, Action.RECOGNITIONS_READ, unit_id=unit_id, entity_id=unit_id
        )


async def unit_titles(
    session: AsyncSession, unit_id: uuid.UUID, on: date, principal: Principal | None = None
) -> UnitTitles:
    """What the unit held on ``on``: its titles and the recognitions in force."""
    await require_unit_readable(session, unit_id, principal)
    rows = [
        row
        for row in await repo.of_units(session, [unit_id])
        if row["decision_date"] <= on < row["held_until"]
    ]
    recognitions = await represent(session, rows)
    return UnitTitles(
        unit_id=unit_id,
        as_of=on,
        titles=sorted({r.title for r in recognitions}, key=list(Title).index),
        recognitions=recognitions,
    )
