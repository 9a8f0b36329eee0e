"""The register on a date, for every other feature: typed, set-based reads (one statement for
many units, split only into chunks for very long lists), as ``app.units.query`` is for the map.

A title is held from its decision date until the date of the decision that revokes it,
``[decision_date, held_until)``: a district recognised "for 2023" by a decision of 2024-01-11
holds nothing on 2024-01-10 (37/QĐ-TTg of 11/01/2024, Lục Nam).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.chunking import chunks
from app.db.intervals import valid_on
from app.models.enums import Title
from app.models.recognitions import Recognition

RECOGNITIONS = cast(Table, Recognition.__table__)
# The held interval under the names the interval helpers expect.
HELD = SimpleNamespace(valid_from=RECOGNITIONS.c.decision_date, valid_to=RECOGNITIONS.c.held_until)


def held_on(day: date) -> ColumnElement[bool]:
    """SQL: the recognition is in force on ``day``."""
    return valid_on(HELD, day)


@dataclass(frozen=True, slots=True)
class HeldTitle:
    """A recognition in force on a day."""

    recognition_id: uuid.UUID
    unit_id: uuid.UUID
    title: Title
    year_for: int
    decision_number: str
    decision_date: date


async def titles_held(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], on: date
) -> dict[uuid.UUID, frozenset[Title]]:
    """The titles each unit held on ``on``, by their own decisions (a unit holding nothing is
    absent from the answer). See ``app.recognitions.titles.implied`` for the titles below them."""
    found: dict[uuid.UUID, set[Title]] = {}
    for held in await recognitions_held(session, unit_ids, on):
        found.setdefault(held.unit_id, set()).add(held.title)
    return {unit_id: frozenset(titles) for unit_id, titles in found.items()}


async def recognitions_held(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], on: date
) -> list[HeldTitle]:
    """The recognitions in force on ``on`` for the units, with their decisions."""
    found: list[HeldTitle] = []
    for part in chunks(sorted(set(unit_ids))):
        statement = (
            select(
                RECOGNITIONS.c.id,
                RECOGNITIONS.c.unit_id,
                RECOGNITIONS.c.title,
                RECOGNITIONS.c.year_for,
                RECOGNITIONS.c.decision_number,
                RECOGNITIONS.c.decision_date,
            )
            .where(RECOGNITIONS.c.unit_id.in_(part), held_on(on))
            .order_by(RECOGNITIONS.c.unit_id, RECOGNITIONS.c.decision_date, RECOGNITIONS.c.id)
        )
        found.extend(_held(row) for row in (await session.execute(statement)).all())
    return found


def _held(row: Any) -> HeldTitle:
    return HeldTitle(row[0], row[1], Title(row[2]), row[3], row[4], row[5])
