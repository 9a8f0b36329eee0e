"""Dates of the temporal model: half-open ``[valid_from, valid_to)`` intervals with open ends.

Open ends are stored as the sentinels of ``app.models.units`` and shown as ``null`` by the API.
"Today" is the date in Viet Nam (UTC+7, no daylight saving time), since that is the date of the
legal documents that change the map.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.models.units import BEGINNING_OF_TIME, END_OF_TIME

OPEN_START = BEGINNING_OF_TIME
OPEN_END = END_OF_TIME
ONE_DAY = timedelta(days=1)


def start_in(value: date | None) -> date:
    """A ``valid_from`` from the API (``None`` = since before the records) as stored."""
    return OPEN_START if value is None else value


def end_in(value: date | None) -> date:
    """A ``valid_to`` from the API (``None`` = open-ended) as stored."""
    return OPEN_END if value is None else value


def start_out(value: date) -> date | None:
    return None if value == OPEN_START else value


def end_out(value: date) -> date | None:
    return None if value == OPEN_END else value


def overlaps(a_from: date, a_to: date, b_from: date, b_to: date) -> bool:
    return a_from < b_to and b_from < a_to


def covers(intervals: list[tuple[date, date]], start: date, end: date) -> bool:
    """Whether the union of ``intervals`` covers every day of ``[start, end)``."""
    cursor = start
    for low, high in sorted(intervals):
        if low > cursor:
            return False
        cursor = max(cursor, high)
        if cursor >= end:
            return True
    return cursor >= end
