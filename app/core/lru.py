"""A bounded mapping that forgets the least recently used entry first: what every per-process
cache of the service keeps its entries in (criteria trees and their encoded JSON, threshold
resolutions, evaluation specs). Each cache is exact by its key (versions, ``updated_at``, the map
token), never by time: the bound only limits memory."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(OrderedDict[K, V]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_fresh(self, key: K) -> V | None:
        """The entry of ``key`` (now the most recently used), or None."""
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key``, forgetting the oldest entries beyond the size."""
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)
        return value
