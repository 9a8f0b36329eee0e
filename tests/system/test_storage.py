"""The local file storage: files by key under NTM_DATA_DIR, nothing outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.storage import InvalidKey, LocalStorage, build_storage


async def test_files_are_stored_by_key_under_the_data_dir(
    settings: Settings, tmp_path: Path
) -> None:
    storage = build_storage(settings.model_copy(update={"data_dir": tmp_path / "files"}))
    source = tmp_path / "upload.part"
    source.write_bytes(b"a,b\n1,2\n")
    assert await storage.put_file("imports/job-1", source) == 8
    assert not source.exists()  # consumed
    assert (tmp_path / "files" / "imports" / "job-1").read_bytes() == b"a,b\n1,2\n"
    assert await storage.exists("imports/job-1")
    async with storage.local_copy("imports/job-1") as path:
        assert path.read_bytes() == b"a,b\n1,2\n"
    await storage.delete("imports/job-1")
    await storage.delete("imports/job-1")  # a missing file is not an error
    assert not await storage.exists("imports/job-1")
    with pytest.raises(FileNotFoundError):
        async with storage.local_copy("imports/job-1"):
            pass


@pytest.mark.parametrize(
    "key", ["../secret", "/etc/passwd", "imports/../../x", "", "a//b", ".hidden", "a\x00b"]
)
async def test_keys_cannot_leave_the_root(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "files")
    source = tmp_path / "x"
    source.write_bytes(b"x")
    with pytest.raises(InvalidKey):
        await storage.put_file(key, source)
    with pytest.raises(InvalidKey):
        await storage.exists(key)
    assert source.exists()
