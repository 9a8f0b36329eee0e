"""What a dossier document is, from its content (magic bytes), never from its name or the type
the client declared. The allowlist is short: the formats dossiers are exchanged in (signed PDF
scans, photographs, Word and Excel files, OpenDocument). Six signatures do not need a library.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
# Legacy Word / Excel (OLE compound file); which one it is does not matter for storage.
OLE = "application/x-ole-storage"

ALLOWED = (PDF, PNG, JPEG, DOCX, XLSX, ODT, ODS, OLE)

_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_ZIP_MAGIC = b"PK\x03\x04"


def _zip_kind(path: Path) -> str | None:
    """An Office Open XML or OpenDocument package; any other zip is refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in (ODT, ODS) else None
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return DOCX
                if any(n.startswith("xl/") for n in names):
                    return XLSX
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return None


def detect(path: Path) -> str | None:
    """The media type of the file at ``path`` if it is on the allowlist, else None."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(_OLE_MAGIC):
        return OLE
    if head.startswith(_ZIP_MAGIC):
        return _zip_kind(path)
    return None
