"""Flat export of the register of titles: one row per recognition, with its decision, its
revocation and the unit with its parents (``app.units.query.placement_select``).

One streamed statement (server-side chunks): the same filters as the JSON list, and the unit
placed on one day for the whole file, the list's ``as_of`` or today (a code means nothing
without its date; the day is written in the XLSX's ``columns`` sheet).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from sqlalchemy import Select, case
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.intervals import END_OF_TIME
from app.exports import (
    UNIT_COLUMNS,
    Chunk,
    Table,
    day,
    identifier,
    instant,
    integer,
    stream_rows,
    text,
)
from app.recognitions import repository as repo
from app.units import query as units

R = repo.RECOGNITIONS

RECOGNITIONS_TABLE = Table(
    "recognitions",
    "The register of titles: recognitions by decision, and their revocations",
    (
        *UNIT_COLUMNS,
        identifier("recognition_id", "Id of the recognition."),
        text(
            "title",
            "The title (ntm_commune, advanced_ntm_commune, model_ntm_commune, ntm_district, …).",
        ),
        integer("year_for", 'The year the title is "for" (not the year of the decision).'),
        text("decision_number", "Number of the decision recognising the unit."),
        day("decision_date", "Date of that decision."),
        text("signer", "Who signed the decision."),
        text("issuing_body", "The body that decided, as written (may be empty)."),
        text("field", "A model NTM commune's field of excellence (319/QĐ-TTg); else empty."),
        text("source", "How it came in: dossier, historical, import, carry_over."),
        day("held_from", "First day the title is held (the decision date)."),
        day(
            "held_until",
            "First day the title is no longer held (the revocation's date); empty while held.",
        ),
        text("revocation_decision_number", "Number of the decision revoking it; empty if none."),
        day("revocation_decision_date", "Date of that decision."),
        text("revocation_reason", "The revocation's reason."),
        instant("updated_at", "Last change of the recognition (UTC)."),
    ),
)


def _columns(placed_on: date) -> tuple[Any, Any]:
    placement = units.placement_select(placed_on)
    columns = (
        R.c.unit_id,
        *[placement.c[name] for name in units.PLACEMENT_NAMES[1:]],
        R.c.id,
        R.c.title,
        R.c.year_for,
        R.c.decision_number,
        R.c.decision_date,
        R.c.signer,
        R.c.issuing_body,
        R.c.field,
        R.c.source,
        R.c.decision_date.label("held_from"),
        case((R.c.held_until >= END_OF_TIME, None), else_=R.c.held_until).label("held_until"),
        R.c.revocation_decision_number,
        R.c.revocation_decision_date,
        R.c.revocation_reason,
        R.c.updated_at,
    )
    return placement, columns


async def recognition_rows(
    session: AsyncSession, filters: repo.ListFilters, placed_on: date, *, by_decision: bool = False
) -> AsyncIterator[Chunk]:
    """The recognitions ``filters`` select, each with its unit placed on ``placed_on``; in the
    list's order ``(updated_at, id)``, or by decision date for one unit's titles."""
    placement, columns = _columns(placed_on)
    listed = repo.list_select(filters)
    order = (R.c.decision_date, R.c.id) if by_decision else (R.c.updated_at, R.c.id)
    statement: Select[Any] = (
        listed.outerjoin(placement, placement.c.unit_id == R.c.unit_id)
        .with_only_columns(*columns, maintain_column_froms=True)
        .order_by(*order)
    )
    async for chunk in stream_rows(session, statement):
        yield chunk
