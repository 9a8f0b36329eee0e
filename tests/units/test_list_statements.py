"""The list of one level is read with statements built once (``_ONE_LEVEL``, issue 16): they
must give exactly the pages the general statement (``_filtered``) gives, first page and after a
cursor, on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import UnitLevel
from app.units import repository as repo


async def _pages(
    session: AsyncSession, filters: repo.ItemFilters, size: int, count: int
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    after = None
    for _ in range(count):
        rows = [
            dict(row) for row in await repo.list_items(session, filters, after=after, limit=size)
        ]
        pages.append(rows)
        if not rows:
            break
        last = rows[-1]
        # The cursor's key as the service writes it: (rank, code, id); one level reads the end.
        after = (0, last["code"], last["id"])
    return pages


@pytest.mark.parametrize(
    ("level", "on"),
    [
        (UnitLevel.PROVINCE, date(2024, 6, 1)),
        (UnitLevel.COMMUNE, date(2024, 6, 1)),
        (UnitLevel.COMMUNE, date(2025, 7, 1)),
    ],
)
async def test_one_level_pages_are_those_of_the_general_statement(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, level: UnitLevel, on: date
) -> None:
    filters = repo.ItemFilters(on=on, level=level)
    assert repo._one_level(filters)
    built_once = await _pages(session, filters, size=7, count=4)
    monkeypatch.setattr(repo, "_one_level", lambda _filters: False)
    general = await _pages(session, filters, size=7, count=4)
    assert built_once == general
    assert len(built_once) == 4
    assert all(len(page) == 7 for page in built_once)
    codes = [row["code"] for page in built_once for row in page]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    assert {row["level"] for page in built_once for row in page} == {level}


async def test_other_filters_take_the_general_statement() -> None:
    on = date(2024, 6, 1)
    assert not repo._one_level(repo.ItemFilters(on=on))
    assert not repo._one_level(
        repo.ItemFilters(on=on, level="commune", updated_since=None, within=[])
    )
    assert not repo._one_level(
        repo.ItemFilters(on=on, level="commune", classifications=[("a", "b")])
    )
    assert repo._one_level(repo.ItemFilters(on=on, level="commune", classifications=[]))
