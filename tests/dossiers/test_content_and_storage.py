"""Document types are found in the content; stored files stream back in chunks by key."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from app.dossiers import content
from app.storage import LocalStorage


def _zip(names: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in names.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.4\n...", content.PDF),
        (b"\x89PNG\r\n\x1a\n....", content.PNG),
        (b"\xff\xd8\xff\xe0....", content.JPEG),
        (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 8, content.OLE),
        (_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}), content.DOCX),
        (_zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<x/>"}), content.XLSX),
        (_zip({"mimetype": content.ODT, "content.xml": "<c/>"}), content.ODT),
        (_zip({"mimetype": "application/epub+zip"}), None),
        (_zip({"run.sh": "rm -rf /"}), None),
        (b"PK\x03\x04 not really a zip", None),
        (b"<html><script>alert(1)</script>", None),
        (b"MZ\x90\x00", None),
    ],
)
def test_types_come_from_the_content(tmp_path: Path, data: bytes, expected: str | None) -> None:
    path = tmp_path / "upload.pdf"  # the name says PDF whatever the content is
    path.write_bytes(data)
    assert content.detect(path) == expected


async def test_stored_files_stream_back_in_chunks(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    data = os.urandom(200_000)
    source = tmp_path / "incoming"
    source.write_bytes(data)
    assert await storage.put_file("dossiers/d-1/doc-1", source) == len(data)
    chunks = [chunk async for chunk in storage.iter_bytes("dossiers/d-1/doc-1", 65_536)]
    assert [len(c) for c in chunks] == [65_536, 65_536, 65_536, 200_000 - 3 * 65_536]
    assert b"".join(chunks) == data
    with pytest.raises(FileNotFoundError):
        async for _ in storage.iter_bytes("dossiers/d-1/missing"):
            pass
