"""Typed errors of the units feature, with their stable codes (listed in docs/units.md)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from app.core.errors import Conflict, NotFound, Unprocessable, field_error

Loc = Sequence[str | int]


def unit_not_found(unit_id: uuid.UUID, on: date | None = None) -> NotFound:
    if on is None:
        return NotFound(f"No unit {unit_id}.", code="unit_not_found", params={"id": unit_id})
    return NotFound(f"Unit {unit_id} did not exist on {on.isoformat()}.", code="unit_not_found")


def event_not_found(event_id: uuid.UUID) -> NotFound:
    return NotFound(f"No unit event {event_id}.", code="unit_event_not_found")


def invalid(code: str, loc: Loc, msg: str) -> Unprocessable:
    return Unprocessable(msg, code=code, errors=[field_error(loc, msg, code)])


def conflict(code: str, msg: str, **extra: Any) -> Conflict:
    return Conflict(msg, code=code, extra=extra or None)


class Violations:
    """Collects every broken rule of a change, then reports them together (first one's code)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, code: str, loc: Loc, msg: str) -> None:
        error = field_error(loc, msg, code)
        if error not in self.items:
            self.items.append(error)

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            detail = (
                first["msg"]
                if len(self.items) == 1
                else (f"{first['msg']} (and {len(self.items) - 1} more problems)")
            )
            raise Unprocessable(detail, code=first["type"], errors=self.items)
