"""Validated input types shared by every feature, for values the database must be able to hold."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

import pydantic
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

# The largest integer a BIGINT column (and the JSON encoder) holds.
INT64_MAX = 2**63 - 1


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant is outside years 1 to 9999 once in UTC") from None


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)


def _rfc3339(value: object) -> object:
    # pydantic reads a number, or a string of digits such as `0.5`, as seconds since 1970:
    # `updated_since=0.5` would silently widen a sync to everything. Only the text form counts.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        return value
    raise ValueError("must be an RFC 3339 date-time with its offset, e.g. 2025-07-01T00:00:00Z")


# An RFC 3339 instant with its offset (``Z`` or ``+07:00``), normalised to UTC. A naive time is
# refused (which zone?), and so is one that leaves the calendar when moved to UTC
# (``0001-01-01T00:00:00+07:00``).
Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_to_utc)]


# C0 control characters and DEL. PostgreSQL cannot store NUL at all (SQLite would, and hand it
# back to every client); the others have no place in a name, an id or a one-line note.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_MSG = "must not contain control characters (U+0000 to U+001F, U+007F)"


def has_control_characters(value: str, *, allow_line_breaks: bool = False) -> bool:
    if allow_line_breaks:
        value = value.replace("\t", "").replace("\n", "").replace("\r", "")
    return _CONTROL.search(value) is not None


def _single_line(value: str) -> str:
    if has_control_characters(value):
        raise ValueError(CONTROL_MSG)
    return value


# Text on one line without control characters: form fields, ids and names sent as text.
SingleLine = Annotated[str, AfterValidator(_single_line)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    # pydantic reads a number (or a string of digits) as seconds since 1970 and a date-time at
    # midnight as its date: `as_of=0` would be 1 January 1970. Only the calendar form is a date.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be an ISO 8601 date (YYYY-MM-DD)")


# A calendar date, given only as ``YYYY-MM-DD`` (JSON, query string) or a ``date``.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# A boolean given only as JSON ``true``/``false``: never 0, 1, "yes" or "on".
StrictBool = pydantic.StrictBool
