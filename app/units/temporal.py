"""Dates of the temporal model as the units API shows them: open ends as ``null``.

The intervals themselves (``[valid_from, valid_to)``, the sentinels of open ends, "valid on a day"
and "overlaps") are the shared ones of ``app.db.intervals``.
"""

from __future__ import annotations

from datetime import date

from app.db.intervals import BEGINNING_OF_TIME, END_OF_TIME, ONE_DAY, overlaps

__all__ = [
    "FIRST_KNOWN_DATE",
    "ONE_DAY",
    "OPEN_END",
    "OPEN_START",
    "covers",
    "end_in",
    "end_out",
    "may_be_older",
    "overlaps",
    "start_in",
    "start_out",
]

OPEN_START = BEGINNING_OF_TIME
OPEN_END = END_OF_TIME

# The first dated statistics office list the bundled map is built from (docs/units-dataset.md):
# the map before it is not claimed, and a version starting on it may have started earlier.
FIRST_KNOWN_DATE = date(2004, 8, 31)


def may_be_older(valid_from: date) -> bool:
    """Whether a version's first day is only the first day the records know of."""
    return valid_from == FIRST_KNOWN_DATE


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
