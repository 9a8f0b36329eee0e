"""Request bodies are bounded while they stream in: 413 ``payload_too_large`` before buffering and
before authentication, on every upload endpoint and for JSON bodies everywhere (issue 10 item 3);
uploads leave no temporary file behind."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core import uploads
from app.db.engine import Database
from app.main import create_app
from app.models.assessments import ImportJob
from app.models.system import AuditRecord, IdempotencyRecord
from tests.conftest import TestPrincipal

JSON_LIMIT = 4 * 1024
UPLOAD_LIMIT = 16 * 1024


@pytest.fixture
def small_app(settings: Settings, database: Database) -> FastAPI:
    limited = settings.model_copy(
        update={"max_json_body_bytes": JSON_LIMIT, "max_upload_bytes": UPLOAD_LIMIT}
    )
    return create_app(limited, database=database)


@pytest.fixture
async def small(small_app: FastAPI, admin: TestPrincipal) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=small_app, raise_app_exceptions=False)
    async with AsyncClient(
        transport=transport, base_url="http://testserver", headers=admin.headers
    ) as client:
        yield client


async def _chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked): only counting while reading can refuse it."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def _too_large(response: Response) -> dict[str, Any]:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == "payload_too_large"
    return body


def _leftovers(settings: Settings) -> list[Path]:
    folder = settings.var_dir / "uploads"
    return sorted(folder.glob("*")) if folder.exists() else []


async def _writes(session: AsyncSession) -> tuple[int, int, int]:
    audit = await session.scalar(select(func.count()).select_from(AuditRecord))
    keys = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    jobs = await session.scalar(select(func.count()).select_from(ImportJob))
    return int(audit or 0), int(keys or 0), int(jobs or 0)


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_large_json_body_is_refused_before_authentication(
    small_app: FastAPI, session: AsyncSession, streamed: bool
) -> None:
    before = await _writes(session)
    body = b'{"name": "' + b"x" * (JSON_LIMIT * 4) + b'"}'
    transport = ASGITransport(app=small_app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        content: Any = _chunks(JSON_LIMIT * 4) if streamed else body
        response = await anonymous.post(
            "/api/v1/units", content=content, headers={"content-type": "application/json"}
        )
    # 413, not 401: the body is refused before anyone looks at the (missing) token.
    _too_large(response)
    assert await _writes(session) == before


async def test_a_json_body_under_the_limit_goes_through(small: AsyncClient) -> None:
    response = await small.post("/api/v1/units", json={"name": "x"})
    assert response.status_code == 422, response.text  # reached the route's validation


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_idempotent_post_is_bounded_too(
    small: AsyncClient, session: AsyncSession, streamed: bool
) -> None:
    before = await _writes(session)
    content: Any = _chunks(JSON_LIMIT * 2) if streamed else b"x" * (JSON_LIMIT * 2)
    response = await small.post(
        "/api/v1/units",
        content=content,
        headers={"content-type": "application/json", "idempotency-key": "big-body"},
    )
    _too_large(response)
    assert await _writes(session) == before


NO_SET = "00000000-0000-0000-0000-000000000000"
UPLOADS = [
    ("/api/v1/indicator-values/import", {"criteria_set_id": NO_SET}),
    ("/api/v1/units/import", {}),
    ("/api/v1/criteria-sets/import", {}),
]


@pytest.mark.parametrize(("path", "params"), UPLOADS)
@pytest.mark.parametrize("how", ["multipart", "raw", "streamed"])
async def test_every_upload_endpoint_refuses_a_file_over_the_limit(
    small: AsyncClient,
    settings: Settings,
    session: AsyncSession,
    path: str,
    params: dict[str, str],
    how: str,
) -> None:
    before = await _writes(session)
    big = b"unit_code,year,indicator_code,value\n" + b"00001,2024,1.1,1\n" * (UPLOAD_LIMIT // 10)
    if how == "multipart":
        response = await small.post(path, params=params, files={"file": ("a.csv", big, "text/csv")})
    else:
        content: Any = _chunks(len(big)) if how == "streamed" else big
        response = await small.post(
            path, params=params, content=content, headers={"content-type": "text/csv"}
        )
    _too_large(response)
    assert await _writes(session) == before
    assert _leftovers(settings) == []


async def test_an_upload_under_the_limit_is_read(small: AsyncClient, settings: Settings) -> None:
    # Over the JSON limit but under the upload limit: uploads have their own, larger limit.
    content = b"code,name\n" + b"x" * (JSON_LIMIT * 2)
    response = await small.post(
        "/api/v1/units/import",
        params={"dry_run": "true"},
        files={"file": ("villages.csv", content, "text/csv")},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] != "payload_too_large"
    assert _leftovers(settings) == []


def test_uploads_left_by_a_killed_process_are_swept(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    old, fresh, other = folder / "upload-a.part", folder / "upload-b.part", folder / "keep.txt"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    os.utime(other, (time.time() - 7200, time.time() - 7200))
    assert uploads.sweep(tmp_path) == 1
    assert not old.exists()
    assert fresh.exists()  # may still be being received
    assert other.exists()
