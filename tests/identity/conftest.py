"""A small map for scope tests, inserted in the test's transaction.

P1 (province) ── D1 (district) ─┬─ C1 (commune) ── V1 (village)
                                ├─ OLD (commune, until 2025-07-01, merged into NEW)
                                └─ NEW (commune, from 2025-07-01)
P2 (province) ── C2 (commune)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest

from app.db.engine import Database
from app.models.units import BEGINNING_OF_TIME, END_OF_TIME, Unit, UnitVersion

MERGER = date(2025, 7, 1)


@dataclass(frozen=True)
class Tree:
    p1: uuid.UUID
    d1: uuid.UUID
    c1: uuid.UUID
    v1: uuid.UUID
    old: uuid.UUID
    new: uuid.UUID
    p2: uuid.UUID
    c2: uuid.UUID


async def make_tree(database: Database) -> Tree:
    ids = {name: uuid.uuid4() for name in ("p1", "d1", "c1", "v1", "old", "new", "p2", "c2")}
    tag = uuid.uuid4().hex[:6]
    rows = [
        # name, level, type, parent, valid_from, valid_to
        ("p1", "province", "tinh", None, BEGINNING_OF_TIME, END_OF_TIME),
        ("d1", "district", "huyen", "p1", BEGINNING_OF_TIME, END_OF_TIME),
        ("c1", "commune", "xa", "d1", BEGINNING_OF_TIME, END_OF_TIME),
        ("v1", "village", "thon", "c1", BEGINNING_OF_TIME, END_OF_TIME),
        ("old", "commune", "xa", "d1", BEGINNING_OF_TIME, MERGER),
        ("new", "commune", "xa", "d1", MERGER, END_OF_TIME),
        ("p2", "province", "tinh", None, BEGINNING_OF_TIME, END_OF_TIME),
        ("c2", "commune", "xa", "p2", BEGINNING_OF_TIME, END_OF_TIME),
    ]
    async with database.session() as session:
        for name, level, _type, _parent, _start, _end in rows:
            session.add(Unit(id=ids[name], level=level))
        await session.flush()
        for name, level, type_, parent, start, end in rows:
            label = f"Test {name.upper()} {tag}"
            session.add(
                UnitVersion(
                    unit_id=ids[name],
                    valid_from=start,
                    valid_to=end,
                    level=level,
                    code=f"Z{name.upper()}{tag}",
                    name=label,
                    name_folded=label.lower(),
                    type=type_,
                    parent_id=ids[parent] if parent else None,
                )
            )
        await session.commit()
    return Tree(**ids)


@pytest.fixture
async def tree(database: Database) -> Tree:
    return await make_tree(database)
