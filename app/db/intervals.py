"""Half-open validity intervals ``[valid_from, valid_to)``, shared by every dated row.

Unit versions, unit classifications and role assignments all store when they hold as two dates:
the first day they hold and the first day they no longer do. Open ends are stored as the sentinel
dates below (index-friendly, no NULL logic in every query) and shown as ``null`` by the API.
"Valid on a day" and "overlaps a period" are written here once, for SQL and for Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_

BEGINNING_OF_TIME = date(1, 1, 1)
END_OF_TIME = date(9999, 12, 31)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """The days ``[start, end)``; ``Period.on(day)`` is one day, ``Period.year(2025)`` a year."""

    start: date
    end: date

    @classmethod
    def on(cls, day: date) -> Period:
        return cls(day, day + ONE_DAY)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1))

    @property
    def single_day(self) -> bool:
        return self.end - self.start == ONE_DAY


def _bounds(source: Any) -> tuple[Any, Any]:
    """The interval columns of a Core table or alias (``.c``) or of an ORM class or alias."""
    columns = getattr(source, "c", source)
    return columns.valid_from, columns.valid_to


def valid_on(source: Any, day: date | ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL: the row of ``source`` (a table, alias or ORM entity) holds on ``day`` (a date, or a
    bound parameter in a statement built once)."""
    valid_from, valid_to = _bounds(source)
    return and_(valid_from <= day, valid_to > day)


def overlapping(source: Any, period: Period) -> ColumnElement[bool]:
    """SQL: the row of ``source`` holds on at least one day of ``period``."""
    if period.single_day:
        return valid_on(source, period.start)
    valid_from, valid_to = _bounds(source)
    return and_(valid_from < period.end, valid_to > period.start)


def holds_on(valid_from: date, valid_to: date, day: date) -> bool:
    """Python: ``[valid_from, valid_to)`` contains ``day``."""
    return valid_from <= day < valid_to


def overlaps(a_from: date, a_to: date, b_from: date, b_to: date) -> bool:
    """Python: ``[a_from, a_to)`` and ``[b_from, b_to)`` share at least one day."""
    return a_from < b_to and b_from < a_to
