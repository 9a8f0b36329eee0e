"""What plan progress reads from the register of titles (``app.recognitions.query``) and from
the recognition dossiers (their table, read by ``app.plans.repository``), behind two set-based
functions.

A unit holds a title on a date when a recognition of that title, or of a higher title on the
same ladder (an advanced NTM commune has met NTM: ``app.recognitions.titles.implied``), is in
force on that date (from its decision date until a revocation).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import Title
from app.plans import repository as repo
from app.recognitions.query import recognitions_held
from app.recognitions.titles import LADDERS


@dataclass(frozen=True, slots=True)
class Held:
    """The recognition through which a unit holds a title on a date."""

    unit_id: uuid.UUID
    title: Title  # the title of the decision (the one asked about, or a higher one)
    year: int
    decision_number: str
    decision_date: date | None


@dataclass(frozen=True, slots=True)
class DossierUnderWay:
    """A recognition dossier for the title that has not ended: where it stands."""

    unit_id: uuid.UUID
    dossier_id: uuid.UUID
    status: str
    at: str | None


def _covering(title: Title) -> frozenset[Title]:
    """The titles whose holder also holds ``title``: itself and those above it on its ladder."""
    for ladder in LADDERS:
        if title in ladder:
            return frozenset(ladder[ladder.index(title) :])
    return frozenset({title})


async def holding(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], title: Title, on: date
) -> dict[uuid.UUID, Held]:
    """The units holding ``title`` on ``on``, each with the decision it holds it by (its own
    decision for ``title`` when there is one, else the higher title's)."""
    covering = _covering(title)
    found: dict[uuid.UUID, Held] = {}
    for held in await recognitions_held(session, unit_ids, on):
        if held.title not in covering:
            continue
        current = found.get(held.unit_id)
        if current is not None and current.title == title:
            continue
        found[held.unit_id] = Held(
            held.unit_id, held.title, held.year_for, held.decision_number, held.decision_date
        )
    return found


async def dossiers_under_way(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], title: Title, on: date
) -> dict[uuid.UUID, DossierUnderWay]:
    """Dossiers for the title that have not ended (any step from draft to the decision), for a
    year up to the date's, by unit: the latest opened one. A dossier's step is read as it stands
    now (its history is not replayed for past dates: docs/plans.md)."""
    found: dict[uuid.UUID, DossierUnderWay] = {}
    for row in await repo.open_dossiers(session, list(unit_ids), title.value, on.year):
        submitted = row["submitted_at"]
        found[row["unit_id"]] = DossierUnderWay(
            row["unit_id"],
            row["id"],
            row["status"],
            submitted.date().isoformat() if submitted is not None else None,
        )
    return found
