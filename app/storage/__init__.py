"""File storage behind one interface: callers name files by key (``imports/<job id>.csv``) and
never by path, so an S3-compatible backend can replace the local one without touching them.

``build_storage(settings)`` gives the backend of the settings: today the local file system under
``NTM_DATA_DIR``.
"""

from __future__ import annotations

from app.config import Settings
from app.storage.base import FileStorage, InvalidKey, StorageFull, StorageNotWritable
from app.storage.local import LocalStorage

__all__ = [
    "FileStorage",
    "InvalidKey",
    "LocalStorage",
    "StorageFull",
    "StorageNotWritable",
    "build_storage",
]


def build_storage(settings: Settings) -> FileStorage:
    return LocalStorage(settings.data_dir)
