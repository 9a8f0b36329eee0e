"""The HTTP answer of an export: a streamed CSV, or an XLSX built in a temporary file.

The first chunk of rows is read before the answer starts, so that a refusal raised while reading
(a unit outside the map of its year, …) is still a problem+json; an XLSX is built completely
before its first byte (a ZIP archive cannot be streamed as it grows), one chunk in memory at a
time, and its file is removed once sent.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from fastapi.responses import StreamingResponse
from starlette.types import Send

from app.exports.columns import Table
from app.exports.copy import CopySource
from app.exports.formats import MEDIA_TYPES
from app.exports.rows import Chunk
from app.exports.writers import CsvWriter, XlsxWriter
from app.models.enums import ExportFormat

FILE_BLOCK = 256 * 1024


def _disposition(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


async def export_response(
    table: Table,
    chunks: AsyncIterator[Chunk],
    fmt: ExportFormat,
    *,
    query: Mapping[str, Any],
    excel: bool = False,
    filename: str | None = None,
) -> StreamingResponse:
    """``chunks`` of rows (tuples in the order of ``table.columns``) as a file of ``fmt``."""
    name = f"{filename or table.name}.{fmt.value}"
    if fmt == ExportFormat.XLSX:
        path = await _xlsx_file(table, chunks, query)
        return StreamingResponse(
            _file_blocks(path), media_type=MEDIA_TYPES[fmt], headers=_disposition(name)
        )
    writer = CsvWriter(table, excel=excel)
    media = f"{MEDIA_TYPES[ExportFormat.CSV]}; charset=utf-8; header=present"
    if isinstance(chunks, CopySource) and (body := await chunks.copy_csv(excel=excel)):
        # PostgreSQL writes the rows (app/exports/copy.py); its first block is awaited here
        # too, so that an error of the statement is still a problem+json.
        first_block = await anext(body, None)
        return _ClosingResponse(
            _copied_bytes(writer, first_block, body), media_type=media, headers=_disposition(name)
        )
    first = await anext(chunks, None)
    return StreamingResponse(
        _csv_bytes(writer, first, chunks), media_type=media, headers=_disposition(name)
    )


class _ClosingResponse(StreamingResponse):
    """A streamed body closed as soon as the response ends, however it ends: Starlette leaves
    an async generator to the garbage collector when sending fails (the client went away), and a
    COPY still running then would hold the connection the session is about to roll back."""

    body_iterator: AsyncGenerator[bytes, None]

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            await self.body_iterator.aclose()


async def _copied_bytes(
    writer: CsvWriter, first: bytes | None, rest: AsyncGenerator[bytes, None]
) -> AsyncIterator[bytes]:
    try:
        yield writer.header()
        if first is None:
            return
        yield first
        async for block in rest:
            yield block
    finally:
        # Ends the COPY if the client went away before its end (the generator's own finally).
        await rest.aclose()


async def _csv_bytes(
    writer: CsvWriter, first: Chunk | None, rest: AsyncIterator[Chunk]
) -> AsyncIterator[bytes]:
    yield writer.header()
    if first is None:
        return
    yield writer.rows(first)
    async for chunk in rest:
        yield writer.rows(chunk)


async def _xlsx_file(table: Table, chunks: AsyncIterator[Chunk], query: Mapping[str, Any]) -> str:
    writer = XlsxWriter(table)
    try:
        async for chunk in chunks:
            # openpyxl is synchronous: each chunk is written off the event loop.
            await asyncio.to_thread(writer.rows, chunk)
        return await asyncio.to_thread(writer.finish, query)
    except BaseException:
        if writer.path is not None:
            os.unlink(writer.path)
        raise


async def _file_blocks(path: str) -> AsyncIterator[bytes]:
    try:
        with open(path, "rb") as handle:  # noqa: ASYNC230 - blocks of a local temporary file
            while block := handle.read(FILE_BLOCK):
                yield block
    finally:
        os.unlink(path)
