"""``q=`` through the trigram index (PostgreSQL, migration 0017) finds exactly what a plain scan
finds, on both databases (issue 16).

The reference is computed here, in Python, from every version valid on the date: a unit matches
when its folded name contains the folded query, or its code is one of the query's code forms.
Both databases must answer exactly that set, so they answer the same.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.units import UnitVersion
from app.units.text import code_candidates, fold
from tests.units.conftest import API

ON = "2024-06-01"
QUERIES = ("luc nam", "Lục Nam", "đồi ngô", "nam", "xa an", "d", "an", "218", "7444", "50%", "x_a")


async def _all_pages(client: AsyncClient, q: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"q": q, "as_of": ON, "limit": 500}
    while True:
        response = await client.get(f"{API}/units", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if not body["next_cursor"]:
            return items
        params["cursor"] = body["next_cursor"]


async def test_search_answers_what_a_scan_finds(client: AsyncClient, session: AsyncSession) -> None:
    v = UnitVersion.__table__
    day = date.fromisoformat(ON)
    rows = (
        await session.execute(
            select(v.c.unit_id, v.c.level, v.c.code, v.c.name_folded).where(
                v.c.valid_from <= day, v.c.valid_to > day
            )
        )
    ).all()
    for q in QUERIES:
        folded = fold(q)
        forms = code_candidates(q)
        expected = {
            str(row.unit_id)
            for row in rows
            if folded in row.name_folded
            or any(row.code == code and level in (None, row.level) for level, code in forms)
        }
        found = await _all_pages(client, q)
        assert {item["id"] for item in found} == expected, q
        assert len(found) == len(expected), q  # no unit twice across pages
    # The queries are not vacuous.
    assert len(await _all_pages(client, "nam")) > 100


async def test_the_folded_name_is_indexed_for_substrings_on_postgresql(
    session: AsyncSession,
) -> None:
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            (
                await session.execute(
                    text(
                        "EXPLAIN SELECT unit_id FROM unit_versions "
                        "WHERE name_folded LIKE '%luc nam%'"
                    )
                )
            ).scalars()
        )
        assert "ix_unit_versions_name_folded" in plan, plan
        kind = (
            await session.execute(
                text(
                    "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                    "WHERE c.relname = 'ix_unit_versions_name_folded'"
                )
            )
        ).scalar_one()
        assert kind == "gin"
    else:
        # SQLite: a plain index on the column (no trigram index there); substrings are scanned.
        columns = (
            await session.execute(text("PRAGMA index_info('ix_unit_versions_name_folded')"))
        ).all()
        assert [row[2] for row in columns] == ["name_folded"]
