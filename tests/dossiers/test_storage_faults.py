"""Document storage that is full or cannot be written answers 507 / 500 problem+json (no stack
trace, no path) and leaves nothing behind: no document row, no audit record, no revision bump,
no file (issue 16, part 4)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import AuditRecord
from app.storage import LocalStorage
from tests.dossiers.conftest import People
from tests.dossiers.helpers import upload
from tests.dossiers.test_bad_input import _problem, _state
from tests.dossiers.test_bad_input import dossier as dossier  # the fixture, by name

FORBIDDEN_IN_BODY = ("Traceback", "Errno", 'File "', "/tmp", "site-packages", ".part")


async def _audit_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditRecord)) or 0)


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def _clean(body: dict[str, Any], text: str) -> None:
    for marker in FORBIDDEN_IN_BODY:
        assert marker not in text, text
    assert set(body) <= {"type", "title", "status", "detail", "code", "instance"}, body


async def test_a_full_storage_answers_507_and_writes_nothing(
    app: FastAPI,
    client: AsyncClient,
    session: AsyncSession,
    people: People,
    dossier: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    root = tmp_path / "files"
    assert isinstance(app.state.storage, LocalStorage)
    monkeypatch.setattr(app.state.storage, "root", root)
    did = dossier["id"]
    before, audited = await _state(session, did), await _audit_count(session)

    def no_space(source: str, target: str) -> None:
        # What the kernel answers when the device fills up half-way through the copy.
        Path(target).write_bytes(Path(source).read_bytes()[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    move = shutil.move
    monkeypatch.setattr(shutil, "move", no_space)
    response = await upload(client, people.commune, did, "evidence")
    body = _problem(response, 507, "storage_full")
    _clean(body, response.text)
    assert await _state(session, did) == before
    assert await _audit_count(session) == audited
    assert _files_under(root) == []  # neither the partial copy nor the upload's spool
    assert list((Path(app.state.settings.var_dir) / "uploads").glob("upload-*")) == []

    monkeypatch.setattr(shutil, "move", move)
    stored = await upload(client, people.commune, did, "evidence")
    assert stored.status_code == 201, stored.text  # room again: the same request succeeds
    assert len(_files_under(root)) == 1


async def test_a_storage_that_cannot_be_written_answers_500_with_a_code(
    app: FastAPI,
    client: AsyncClient,
    session: AsyncSession,
    people: People,
    dossier: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A mount gone wrong: the storage root is a file, so no folder can be made under it (a real
    # ENOTDIR; permissions cannot show it here, the tests may run as root).
    blocker = tmp_path / "mount"
    blocker.write_text("not a folder")
    monkeypatch.setattr(app.state.storage, "root", blocker / "files")
    did = dossier["id"]
    before, audited = await _state(session, did), await _audit_count(session)
    response = await upload(client, people.commune, did, "evidence", filename="bien-ban.pdf")
    body = _problem(response, 500, "storage_not_writable")
    _clean(body, response.text)
    assert await _state(session, did) == before
    assert await _audit_count(session) == audited
    assert blocker.read_text() == "not a folder"
