"""The one half-open interval helper: ``[valid_from, valid_to)`` in Python and in SQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Date, MetaData, Table
from sqlalchemy.dialects import sqlite

from app.db.intervals import (
    BEGINNING_OF_TIME,
    END_OF_TIME,
    Period,
    holds_on,
    overlapping,
    overlaps,
    valid_on,
)
from app.models.identity import RoleAssignment

DATED = Table("dated", MetaData(), Column("valid_from", Date), Column("valid_to", Date))


def test_the_first_day_holds_and_the_end_does_not() -> None:
    start, end = date(2025, 1, 1), date(2025, 7, 1)
    assert holds_on(start, end, start)
    assert holds_on(start, end, date(2025, 6, 30))
    assert not holds_on(start, end, end)
    assert not holds_on(start, end, date(2024, 12, 31))
    assert holds_on(BEGINNING_OF_TIME, END_OF_TIME, date(2026, 1, 1))


def test_touching_intervals_do_not_overlap() -> None:
    jan, jul, dec = date(2025, 1, 1), date(2025, 7, 1), date(2025, 12, 31)
    assert not overlaps(jan, jul, jul, dec)
    assert overlaps(jan, jul, date(2025, 6, 30), dec)
    assert overlaps(jan, dec, jul, jul.replace(day=2))


def test_periods() -> None:
    assert Period.on(date(2025, 6, 30)) == Period(date(2025, 6, 30), date(2025, 7, 1))
    assert Period.on(date(2025, 12, 31)).end == date(2026, 1, 1)
    assert Period.on(date(2025, 6, 30)).single_day
    assert Period.year(2025) == Period(date(2025, 1, 1), date(2026, 1, 1))
    assert not Period.year(2025).single_day


def _sql(clause: object) -> str:
    return str(clause.compile(dialect=sqlite.dialect()))  # type: ignore[attr-defined]


def test_sql_for_tables_and_orm_entities() -> None:
    assert _sql(valid_on(DATED, date(2025, 1, 1))) == (
        "dated.valid_from <= ? AND dated.valid_to > ?"
    )
    # One day is spelled as "valid on" (the shape the indexes serve), a longer period as overlap.
    assert _sql(overlapping(DATED, Period.on(date(2025, 1, 1)))) == _sql(
        valid_on(DATED, date(2025, 1, 1))
    )
    assert _sql(overlapping(DATED, Period.year(2025))) == (
        "dated.valid_from < ? AND dated.valid_to > ?"
    )
    assert _sql(valid_on(RoleAssignment, date(2025, 1, 1))) == (
        "role_assignments.valid_from <= ? AND role_assignments.valid_to > ?"
    )
