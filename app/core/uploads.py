"""Receiving a file upload, the one way every upload endpoint does it.

``receive_upload(request)`` spools the file — the ``file`` field of a multipart form, or the raw
body with its media type — to a temporary file of ours and removes it when the context ends,
whatever happens (move it into the file storage to keep it). The size limit is checked on the
bytes as they arrive, never after reading the whole body: past it the request is refused with 413
``payload_too_large``. ``BodyLimitMiddleware`` already bounds every upload by
``NTM_MAX_UPLOAD_BYTES``; an endpoint may ask for less.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive

from app.core.errors import Unprocessable, field_error
from app.core.input import PayloadTooLarge

_CHUNK = 1 << 20
MAX_FORM_FIELDS = 20


@dataclass(frozen=True)
class Upload:
    path: Path
    size: int
    media_type: str | None
    filename: str | None
    # The other (text) fields of a multipart form: options sent beside the file.
    fields: dict[str, str] = field(default_factory=dict)


def uploads_folder(request: Request) -> Path:
    folder = Path(request.app.state.settings.var_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sweep(var_dir: Path, older_than: timedelta = timedelta(hours=1)) -> int:
    """Remove what a killed process left half-received (``upload-*.part``, and ``*.part`` of the
    folder earlier versions spooled import jobs to); the number of files removed."""
    limit = time.time() - older_than.total_seconds()
    removed = 0
    for folder in (var_dir / "uploads", var_dir / "imports"):
        for path in folder.glob("*.part") if folder.is_dir() else ():
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
    return removed


def _limited(receive: Receive, limit: int) -> Receive:
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge(limit)
        return message

    return limited


def file_missing(what: str = "file") -> Unprocessable:
    return Unprocessable(
        f"Send the {what} as the form field `file`.",
        code="import_file_missing",
        errors=[field_error(["body", "file"], "missing", "missing")],
    )


@asynccontextmanager
async def receive_upload(
    request: Request, *, limit: int | None = None, what: str = "file"
) -> AsyncIterator[Upload]:
    settings = request.app.state.settings
    limit = min(limit or settings.max_upload_bytes, settings.max_upload_bytes)
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    # Reading through a receive of our own counts every byte, multipart framing included.
    limited = Request(request.scope, _limited(request.receive, limit))
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed at the end
        dir=uploads_folder(request), prefix="upload-", suffix=".part", delete=False
    )
    path = Path(handle.name)
    try:
        size = 0
        fields: dict[str, str] = {}
        media_type = request.headers.get("content-type")
        filename: str | None = None
        with handle:
            if (media_type or "").startswith("multipart/form-data"):
                async with limited.form(max_files=1, max_fields=MAX_FORM_FIELDS) as form:
                    upload = form.get("file")
                    if not isinstance(upload, UploadFile):
                        raise file_missing(what)
                    fields = {k: v for k, v in form.items() if isinstance(v, str)}
                    media_type, filename = upload.content_type, upload.filename
                    while chunk := await upload.read(_CHUNK):
                        size += len(chunk)
                        handle.write(chunk)
            else:
                async for chunk in limited.stream():
                    size += len(chunk)
                    handle.write(chunk)
        yield Upload(path, size, media_type, filename, fields)
    finally:
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - one unlink of a local file
