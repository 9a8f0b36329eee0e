"""The storage interface."""

from __future__ import annotations

import errno
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from app.core.errors import ProblemError

logger = logging.getLogger("app.storage")

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class InvalidKey(ValueError):
    pass


# The errors of a full device or an exhausted quota: 507 (RFC 4918 §11.5), the client may retry
# once an operator has made room. Anything else that keeps a file from being written (a
# read-only or missing mount, permissions) is the server's fault: 500 with a code of its own.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StorageFull(ProblemError):
    status = 507
    code = "storage_full"


class StorageNotWritable(ProblemError):
    status = 500
    code = "storage_not_writable"


def write_failed(key: str, exc: OSError) -> ProblemError:
    """The problem to answer for a write of ``key`` that failed with ``exc``: the reason is
    logged (one line, no stack trace: the cause is the device, not the code), the answer names
    no path."""
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    logger.error("file storage: cannot write %s: %s (%s)", key, name, exc.strerror or exc)
    if exc.errno in _FULL:
        return StorageFull("The file storage is full; nothing was written.")
    return StorageNotWritable("The file storage cannot be written to; nothing was written.")


def check_key(key: str) -> str:
    """Keys are relative, slash-separated names of letters, digits, ``.``, ``_`` and ``-``: no
    ``..``, no absolute path, the same on every backend."""
    if len(key) > 300 or not _KEY.match(key) or ".." in key.split("/"):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class FileStorage(Protocol):
    async def put_file(self, key: str, source: Path) -> int:
        """Store the local file ``source`` under ``key`` (``source`` is consumed: moved or
        uploaded, then removed); the stored size in bytes. A write the storage refuses raises
        ``StorageFull`` (507) or ``StorageNotWritable`` (500), with nothing left under ``key``."""
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
