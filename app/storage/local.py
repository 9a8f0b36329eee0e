"""Files on the local file system, under one root folder (``NTM_DATA_DIR``)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.storage.base import InvalidKey, check_key, write_failed


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        path = self.root / check_key(key)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidKey(f"not a storage key: {key!r}")
        return path

    async def put_file(self, key: str, source: Path) -> int:
        target = self.path(key)

        def move() -> int:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.part")
            try:
                # A rename when both are on one file system; a copy otherwise. Either way the
                # key appears whole or not at all.
                shutil.move(os.fspath(source), os.fspath(partial))
                partial.replace(target)
            except BaseException:
                partial.unlink(missing_ok=True)
                source.unlink(missing_ok=True)
                raise
            return target.stat().st_size

        try:
            return await asyncio.to_thread(move)
        except OSError as exc:
            raise write_failed(key, exc) from None

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        path = self.path(key)
        if not await asyncio.to_thread(path.is_file):
            raise FileNotFoundError(key)
        yield path

    async def iter_bytes(self, key: str, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path(key).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)
