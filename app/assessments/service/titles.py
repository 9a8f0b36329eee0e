"""What the register of titles says about assessed units, for their evaluation.

Prerequisites about titles and a unit's hold on the title it might lose are answered as of the
assessment's date: the day the unit is read at for the year (the last day of the year, or of
the unit's existence that year), through ``app.recognitions.query`` (set-based: one statement
per distinct day, whatever the number of assessments).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import engine
from app.models.enums import PrerequisiteKind
from app.recognitions import query as register
from app.units import query as units


def _subunit_needs(spec: engine.SetSpec) -> set[tuple[str, str]]:
    needs = set()
    for prerequisite in spec.prerequisites:
        level, title = prerequisite.data.get("level"), prerequisite.data.get("title")
        if (
            prerequisite.kind == PrerequisiteKind.SUBUNITS_WITH_TITLE
            and isinstance(level, str)
            and isinstance(title, str)
        ):
            needs.add((level, title))
    return needs


async def facts(
    session: AsyncSession, subjects: Sequence[tuple[uuid.UUID, date, engine.SetSpec]]
) -> dict[tuple[uuid.UUID, date], engine.RegisterFacts]:
    """(unit, day) → what the register says about the unit on that day."""
    by_day: dict[date, set[uuid.UUID]] = defaultdict(set)
    for unit_id, day, _spec in subjects:
        by_day[day].add(unit_id)
    held: dict[tuple[uuid.UUID, date], frozenset[str]] = {}
    for day, ids in by_day.items():
        found = await register.titles_held(session, ids, day)
        for unit_id in ids:
            held[(unit_id, day)] = frozenset(found.get(unit_id, frozenset()))
    subunits: dict[tuple[uuid.UUID, date], dict[tuple[str, str], tuple[int, int]]] = {}
    for unit_id, day, spec in subjects:
        needs = _subunit_needs(spec)
        if not needs or (unit_id, day) in subunits:
            continue
        counts: dict[tuple[str, str], tuple[int, int]] = {}
        for level in sorted({level for level, _ in needs}):
            below = [
                version.unit_id
                for version in await units.units_in_subtree(session, [unit_id], day, level=level)
                if version.unit_id != unit_id
            ]
            titles = await register.titles_held(session, below, day)
            for wanted_level, title in needs:
                if wanted_level == level:
                    holding = sum(
                        1 for u in below if title in register.implied(titles.get(u, frozenset()))
                    )
                    counts[(level, title)] = (holding, len(below))
        subunits[(unit_id, day)] = counts
    return {
        key: engine.RegisterFacts(
            on=key[1],
            held=titles,
            held_or_implied=frozenset(register.implied(titles)),
            subunits=subunits.get(key, {}),
        )
        for key, titles in held.items()
    }
