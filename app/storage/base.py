"""The storage interface."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class InvalidKey(ValueError):
    pass


def check_key(key: str) -> str:
    """Keys are relative, slash-separated names of letters, digits, ``.``, ``_`` and ``-``: no
    ``..``, no absolute path, the same on every backend."""
    if len(key) > 300 or not _KEY.match(key) or ".." in key.split("/"):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class FileStorage(Protocol):
    async def put_file(self, key: str, source: Path) -> int:
        """Store the local file ``source`` under ``key`` (``source`` is consumed: moved or
        uploaded, then removed); the stored size in bytes."""
        ...

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A local path holding the file while the context lasts (a remote backend downloads
        it to a temporary file and removes that afterwards)."""
        ...

    def iter_bytes(self, key: str, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The file's bytes in chunks, for streaming a download without holding it in memory
        (FileNotFoundError, raised before the first chunk, when there is no such file)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error."""
        ...

    async def exists(self, key: str) -> bool: ...
