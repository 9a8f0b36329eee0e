"""Validated input types shared by every feature, for values the database must be able to hold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

# The largest integer a BIGINT column (and the JSON encoder) holds.
INT64_MAX = 2**63 - 1


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant is outside years 1 to 9999 once in UTC") from None


# An RFC 3339 instant with its offset (``Z`` or ``+07:00``), normalised to UTC. A naive time is
# refused (which zone?), and so is one that leaves the calendar when moved to UTC
# (``0001-01-01T00:00:00+07:00``).
Instant = Annotated[AwareDatetime, AfterValidator(_to_utc)]
