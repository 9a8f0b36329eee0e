"""The calendar the programme runs on: "today" is the date in Vietnam (UTC+7, no DST)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Final

VIETNAM: Final = timezone(timedelta(hours=7), "ICT")


def today() -> date:
    """The default ``as_of``: the map and role scopes as they stand today in Vietnam."""
    return datetime.now(VIETNAM).date()
