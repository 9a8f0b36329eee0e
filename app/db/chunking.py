"""Splitting a long ``IN (…)`` list into statements of a bounded size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Bound parameters per statement stay far below SQLite's and asyncpg's limits (32,766), and
# below the 999 of SQLite builds older than 3.32.
CHUNK = 900


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
