"""Streaming readers for indicator-value files: CSV, XLSX and JSON, long or wide layout.

Readers never hold the whole file: they yield :class:`RawRow` one at a time, numbered as a person
sees the file (CSV and XLSX: the spreadsheet row, header = 1; JSON: the element, first = 1).
Problems with the file as a whole (empty, truncated, not what its type says, missing columns)
raise :class:`FileProblem`; problems with one row are left to the validator.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

from app.core.spreadsheet import APOSTROPHE, restore
from app.core.types import INT64_MAX

Format = str  # "csv" | "xlsx" | "json"

FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/plain": "csv",
    "application/vnd.ms-excel": "csv",  # what some browsers send for .csv
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
}
EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".ndjson": "json", ".jsonl": "json"}

# Column names of the tidy long layout; anything else in a header without these is an indicator
# column of the wide layout (the XLSX template).
UNIT_CODE, UNIT_ID, UNIT_NAME, YEAR = "unit_code", "unit_id", "unit_name", "year"
INDICATOR_CODE, VALUE, NOTE = "indicator_code", "value", "note"
# Fields that hold one value; a JSON list or object there makes the row unreadable.
SCALAR_FIELDS = (UNIT_CODE, UNIT_ID, YEAR, INDICATOR_CODE, NOTE)
META_COLUMNS = {UNIT_CODE, UNIT_ID, UNIT_NAME, YEAR, NOTE}
XLSX_DATA_SHEET = "values"
XLSX_META_SHEET = "meta"
_META_ROWS = 100  # the template writes seven
_CHUNK = 1 << 16


class FileProblem(Exception):
    """The file as a whole cannot be imported."""

    def __init__(self, code: str, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.row = row


@dataclass(slots=True)
class RawRow:
    row: int
    unit_code: Any
    unit_id: Any
    year: Any
    indicator_code: Any
    value: Any
    note: Any
    column: str | None = None


# --- detection ------------------------------------------------------------------------------


def _sniff(head: bytes) -> Format | None:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        return None
    if text[:1] in (b"[", b"{"):
        return "json"
    if b"\x00" in head or head.startswith((b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\x1f\x8b")):
        return "binary"
    return "csv"


def declared_format(media_type: str | None, filename: str | None) -> Format | None:
    if media_type:
        base = media_type.split(";")[0].strip().lower()
        if base in MEDIA_TYPES:
            return MEDIA_TYPES[base]
    if filename:
        suffix = Path(filename).suffix.lower()
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
    return None


def detect_format(path: Path, declared: Format | None) -> Format:
    """The file's format from its first bytes, checked against what the client declared."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    sniffed = _sniff(head)
    if sniffed is None:
        raise FileProblem("empty_file", "The file is empty.")
    if sniffed == "binary":
        raise FileProblem(
            "file_type_mismatch",
            f"The file is not {declared.upper() if declared else 'CSV, XLSX or JSON'}: "
            "its content is binary data of another kind.",
        )
    if declared is not None and declared != sniffed:
        raise FileProblem(
            "file_type_mismatch",
            f"The file was sent as {declared.upper()} but its content is {sniffed.upper()}.",
        )
    return sniffed


def count_lines(path: Path) -> int:
    """Cheap row estimate for CSV and JSON-lines files (used to decide on a background job)."""
    total = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            total += chunk.count(b"\n")
    return total


def estimate_rows(path: Path, fmt: Format, limits: Limits | None = None) -> int | None:
    """About how many values the file holds, cheaply (decides on a background job); the file's
    size limits are checked on the way (:class:`FileProblem` ``import_too_large``)."""
    limits = limits or Limits()
    if fmt == "xlsx":
        size = check_xlsx(path, limits)
        return size.rows * max(1, size.columns - 3)
    lines = count_lines(path)
    if fmt == "csv":
        if lines > limits.max_rows + 1:
            raise _too_many("rows", lines - 1, limits.max_rows)
        with path.open("rb") as handle:
            header = handle.readline(1 << 20)
        # The delimiter is the header's most frequent one, as the reader decides.
        width = max(header.count(b","), header.count(b";"), header.count(b"\t")) + 1
        if width > limits.max_columns:
            raise _too_many("columns", width, limits.max_columns)
    return lines


# --- limits of a file, checked before any work -------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """How big an import may be (``NTM_IMPORT_MAX_*``, see the README)."""

    max_rows: int = 2_000_000
    max_columns: int = 200
    max_cells: int = 20_000_000
    max_xlsx_bytes: int = 256 * 1024 * 1024
    max_shared_strings_bytes: int = 32 * 1024 * 1024
    max_ratio: int = 200

    @classmethod
    def of(cls, settings: Any) -> Limits:
        return cls(
            max_rows=settings.import_max_rows,
            max_columns=settings.import_max_columns,
            max_cells=settings.import_max_cells,
            max_xlsx_bytes=settings.import_max_xlsx_bytes,
            max_shared_strings_bytes=settings.import_max_shared_strings_bytes,
            max_ratio=settings.import_max_xlsx_ratio,
        )


@dataclass(frozen=True)
class SheetSize:
    rows: int
    columns: int
    cells: int


TOO_LARGE = "import_too_large"
ARCHIVE_TOO_LARGE = "xlsx_too_large"
# Below this many uncompressed bytes a member's compression ratio does not matter.
_RATIO_FLOOR = 1 << 20
_SCAN_KEEP = 4096
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\sref=\"([^\"]*)\"")
_ROW = re.compile(rb"<(?:[\w.-]+:)?row[\s>/]")
_ROW_NUMBER = re.compile(rb"<(?:[\w.-]+:)?row\b[^>]*?\sr=\"(\d{1,12})\"")
_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s>/]")
_CELL_COLUMN = re.compile(rb"<(?:[\w.-]+:)?c\b[^>]*?\sr=\"([A-Za-z]{1,7})\d")
_REFERENCE = re.compile(r"([A-Za-z]{0,7})(\d{0,12})")


def _too_many(what: str, found: int, limit: int, declared: bool = False) -> FileProblem:
    how = "declares" if declared else "has"
    return FileProblem(
        TOO_LARGE,
        f"The file {how} {found:,} {what}; an import takes at most {limit:,}. "
        "Split it into smaller files.",
    )


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _check_size(size: SheetSize, limits: Limits, *, declared: bool) -> None:
    if size.rows > limits.max_rows:
        raise _too_many("rows", size.rows, limits.max_rows, declared)
    if size.columns > limits.max_columns:
        raise _too_many("columns", size.columns, limits.max_columns, declared)
    if size.cells > limits.max_cells:
        raise _too_many("cells", size.cells, limits.max_cells, declared)


def _declared(reference: str) -> SheetSize | None:
    """The size a ``<dimension ref="A1:XFD1048576"/>`` declares (its bottom-right corner)."""
    corner = reference.split(":")[-1].strip()
    found = _REFERENCE.fullmatch(corner)
    if found is None or not found.group(1) or not found.group(2):
        return None
    rows, columns = int(found.group(2)), _column_number(found.group(1))
    return SheetSize(rows, columns, rows * columns)


def _scan_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> SheetSize:
    """The sheet's declared and actual size, from its XML read as a stream of bytes (no parsing:
    a few regular expressions over chunks), refused as soon as a limit is passed."""
    rows = max_row = columns = cells = 0
    carry = b""
    first = True
    with archive.open(info) as member:
        while True:
            chunk = member.read(_CHUNK * 16)
            final = not chunk
            buffer = carry + chunk
            if first:
                first = False
                found = _DIMENSION.search(buffer, 0, 1 << 16)
                declared = _declared(found.group(1).decode("ascii", "replace")) if found else None
                if declared is not None:
                    _check_size(declared, limits, declared=True)
            end = len(buffer) if final else max(0, len(buffer) - _SCAN_KEEP)
            rows += len(_ROW.findall(buffer, 0, end))
            cells += len(_CELL.findall(buffer, 0, end))
            # Counts stop short of the chunk's end (the rest is read again with the next one);
            # a maximum may see a tag twice, so it reads the whole buffer.
            numbers = _ROW_NUMBER.findall(buffer)
            if numbers:
                max_row = max(max_row, max(map(int, numbers)))
            letters = set(_CELL_COLUMN.findall(buffer))
            if letters:
                columns = max(columns, max(_column_number(x.decode()) for x in letters))
            _check_size(SheetSize(max(rows, max_row), columns, cells), limits, declared=False)
            if final:
                break
            carry = buffer[end:]
    return SheetSize(max(rows, max_row), columns, cells)


def check_xlsx(path: Path, limits: Limits) -> SheetSize:
    """Refuse an XLSX that would take too much to read, before openpyxl sees it: the archive's
    declared uncompressed sizes and each member's compression ratio (a zip bomb), then every
    sheet's declared dimension and its actual rows, columns and cells. The size of the largest
    sheet. ``zipfile`` never inflates a member past the size its directory declares, so the
    declared sizes bound what reading it can cost."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FileProblem(
            "truncated_file", "The XLSX file is truncated or damaged (its ZIP cannot be read)."
        ) from exc
    with archive:
        members = archive.infolist()
        total = sum(info.file_size for info in members)
        if total > limits.max_xlsx_bytes:
            raise FileProblem(
                ARCHIVE_TOO_LARGE,
                f"The XLSX expands to {total:,} bytes; an import takes at most "
                f"{limits.max_xlsx_bytes:,}.",
            )
        for info in members:
            if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(
                1, info.compress_size
            ):
                ratio = info.file_size // max(1, info.compress_size)
                raise FileProblem(
                    ARCHIVE_TOO_LARGE,
                    f"The XLSX part {info.filename} expands {ratio:,}"
                    f" times ({info.file_size:,} bytes); at most {limits.max_ratio} times is "
                    "accepted (a workbook saved by a spreadsheet program stays far below).",
                )
            if (
                info.filename.lower().endswith("sharedstrings.xml")
                and info.file_size > limits.max_shared_strings_bytes
            ):
                raise FileProblem(
                    ARCHIVE_TOO_LARGE,
                    f"The XLSX's shared strings take {info.file_size:,} bytes; at most "
                    f"{limits.max_shared_strings_bytes:,} are accepted.",
                )
        largest = SheetSize(0, 0, 0)
        try:
            for info in members:
                name = info.filename.lower()
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    size = _scan_sheet(archive, info, limits)
                    largest = max(largest, size, key=lambda s: s.cells)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise FileProblem(
                "truncated_file", "The XLSX file is truncated or damaged (a sheet cannot be read)."
            ) from exc
        return largest


# --- header handling ------------------------------------------------------------------------


def _normalise_header(cell: Any) -> str:
    return str(cell if cell is not None else "").strip().lstrip("\ufeff").strip().lower()


@dataclass
class Layout:
    wide: bool
    columns: list[str]
    indicator_columns: list[tuple[int, str]]

    def __post_init__(self) -> None:
        self.index = {name: i for i, name in reversed(list(enumerate(self.columns)))}


def _layout(header: list[Any], default_year: int | None) -> Layout:
    header = [restore(cell) for cell in header]
    names = [_normalise_header(cell) for cell in header]
    present = set(names)
    if UNIT_CODE not in present and UNIT_ID not in present:
        raise FileProblem(
            "missing_columns", "The header names neither `unit_code` nor `unit_id`.", row=1
        )
    if YEAR not in present and default_year is None:
        raise FileProblem(
            "missing_columns",
            "The header has no `year` column and no `year` parameter was given.",
            row=1,
        )
    if INDICATOR_CODE in present or VALUE in present:
        missing = [c for c in (INDICATOR_CODE, VALUE) if c not in present]
        if missing:
            raise FileProblem(
                "missing_columns",
                f"The header lacks {', '.join(f'`{c}`' for c in missing)}.",
                row=1,
            )
        return Layout(wide=False, columns=names, indicator_columns=[])
    indicator_columns = [
        (index, str(header[index]).strip())
        for index, name in enumerate(names)
        if name and name not in META_COLUMNS
    ]
    if not indicator_columns:
        raise FileProblem(
            "missing_columns",
            "The header has neither `indicator_code` and `value` (long layout) nor indicator "
            "code columns (wide layout).",
            row=1,
        )
    return Layout(wide=True, columns=names, indicator_columns=indicator_columns)


def _rows_from_cells(
    row_no: int, cells: list[Any], layout: Layout, default_year: int | None
) -> Iterator[RawRow]:
    index = layout.index
    size = len(cells)

    def cell(name: str) -> Any:
        position = index.get(name)
        return restore(cells[position]) if position is not None and position < size else None

    unit_code, unit_id, note = cell(UNIT_CODE), cell(UNIT_ID), cell(NOTE)
    year = cell(YEAR)
    if year is None or (isinstance(year, str) and not year.strip()):
        year = default_year
    if not layout.wide:
        yield RawRow(
            row_no, unit_code, unit_id, year, cell(INDICATOR_CODE), cell(VALUE), note, None
        )
        return
    for position, code in layout.indicator_columns:
        value = restore(cells[position]) if position < size else None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        yield RawRow(row_no, unit_code, unit_id, year, code, value, note, code)


def _long_rows(
    columns: tuple[int, ...], default_year: int | None, apostrophes: bool = True
) -> Callable[[int, list[str]], RawRow]:
    """The long layout's hot path: one ``itemgetter`` picks the six cells of a row (an absent
    column, index -1, picks the ``None`` appended to the row), no per-cell lookups.
    ``apostrophes``: whether the file holds one anywhere; without, no cell can be one an export
    neutralised, and rows are not searched for them."""
    pick = itemgetter(*columns)
    need = max(columns) + 1

    def emit(row_no: int, cells: list[str]) -> RawRow:
        # A cell an export neutralised ("'=…") is restored. One search of the row's joined text
        # (the reader's cells are all text) finds whether any cell holds an apostrophe at all;
        # only such a row pays for `restore`, which leaves every other cell as it is.
        neutralised = apostrophes and APOSTROPHE in "".join(cells)
        if len(cells) < need:  # a short row: the cells it lacks are None
            cells = cells + [None] * (need - len(cells))  # type: ignore[list-item]
        cells.append(None)  # type: ignore[arg-type]
        picked = pick(cells)
        if neutralised:
            picked = tuple(map(restore, picked))
        unit_code, unit_id, year, indicator, value, note = picked
        return RawRow(
            row_no,
            unit_code,
            unit_id,
            default_year if year is None or year == "" else year,
            indicator,
            value,
            note,
            None,
        )

    return emit


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# --- CSV ------------------------------------------------------------------------------------


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return False
        handle.seek(-1, 2)
        return handle.read(1) in (b"\n", b"\r")


def _nul_line(path: Path) -> int | None:
    """The line of the first NUL byte, if any: such a file is not text (the format sniffing sees
    only the head; no text column of PostgreSQL can hold the character)."""
    return _scan(path)[0]


_APOSTROPHE_BYTE = APOSTROPHE.encode()


def _scan(path: Path) -> tuple[int | None, bool]:
    """:func:`_nul_line`, and whether the file holds an apostrophe anywhere (in the same pass)."""
    lines = 1
    apostrophes = False
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            at = chunk.find(b"\x00")
            if at >= 0:
                return lines + chunk.count(b"\n", 0, at), apostrophes
            apostrophes = apostrophes or _APOSTROPHE_BYTE in chunk
            lines += chunk.count(b"\n")
    return None, apostrophes


def iter_csv(
    path: Path, default_year: int | None, info: dict[str, Any] | None = None
) -> Iterator[RawRow]:
    terminated = _ends_with_newline(path)
    nul_line, apostrophes = _scan(path)
    if nul_line is not None:
        raise FileProblem(
            "file_type_mismatch",
            f"The file holds a NUL byte (line {nul_line}): it is not CSV text.",
            row=nul_line,
        )
    row_no = 1
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        try:
            first = text.readline()
            dialect_delimiter = max((",", ";", "\t"), key=first.count)
            text.seek(0)
            # strict: an unterminated quoted field at the end of the file raises csv.Error.
            reader = csv.reader(text, delimiter=dialect_delimiter, strict=True)
            header = next(reader, None)
            if header is None or _blank(list(header)):
                raise FileProblem("empty_file", "The file has no header row.", row=1)
            layout = _layout(list(header), default_year)
            if info is not None:
                info["layout"] = "wide" if layout.wide else "long"
            width = len(header)
            pending: tuple[int, list[str]] | None = None
            index = layout.index
            columns = (
                index.get(UNIT_CODE, -1),
                index.get(UNIT_ID, -1),
                index.get(YEAR, -1),
                index.get(INDICATOR_CODE, -1),
                index.get(VALUE, -1),
                index.get(NOTE, -1),
            )
            emit = _long_rows(columns, default_year, apostrophes) if not layout.wide else None
            for cells in reader:
                row_no += 1
                if not any(cells):
                    continue
                # One row behind, so that the last one can be checked for truncation.
                if pending is not None:
                    if emit is not None:
                        yield emit(*pending)
                    else:
                        yield from _rows_from_cells(pending[0], pending[1], layout, default_year)
                pending = (row_no, cells)
            if pending is None:
                raise FileProblem("empty_file", "The file has a header but no data rows.", row=2)
            last_no, last = pending
            if not terminated and len(last) < width:
                raise FileProblem(
                    "truncated_file",
                    f"The file ends in the middle of row {last_no} "
                    f"({len(last)} of {width} columns, no final line break).",
                    row=last_no,
                )
            yield from _rows_from_cells(last_no, last, layout, default_year)
        except UnicodeDecodeError as exc:
            raise FileProblem(
                "invalid_encoding",
                f"The file is not UTF-8 text (byte {exc.start} of a chunk cannot be decoded). "
                "Save it as CSV UTF-8.",
            ) from exc
        except csv.Error as exc:
            if "end of data" in str(exc) or "unexpected end" in str(exc).lower():
                raise FileProblem(
                    "truncated_file",
                    f"The file ends inside a quoted field (row {row_no + 1}).",
                    row=row_no + 1,
                ) from exc
            raise FileProblem(
                "malformed_file", f"The CSV cannot be read at row {row_no + 1}: {exc}."
            ) from exc


# --- JSON -----------------------------------------------------------------------------------


_INT64_DIGITS = 19
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_int(text: str) -> int | str:
    """A JSON integer as an ``int`` when a 64-bit column (and the JSON encoder that echoes it in
    the summary) can hold it; otherwise its digits as text, as a CSV cell would hold them. Python
    refuses to convert more than 4,300 digits at all."""
    if len(text.lstrip("-")) > _INT64_DIGITS:
        return text
    value = int(text)
    return value if -INT64_MAX - 1 <= value <= INT64_MAX else text


def _has_surrogate(value: Any) -> bool:
    """Iterative: an element may nest as deeply as the decoder allowed."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item) is not None:
                return True
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
    return False


class _JsonStream:
    """Incremental decoding of JSON values from a byte stream, keeping only a small buffer."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.decoder = json.JSONDecoder(parse_int=_json_int)
        self.utf8 = codecs.getincrementaldecoder("utf-8-sig")()
        self.buffer = ""
        self.position = 0
        self.eof = False

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(_CHUNK)
        if not chunk:
            self.eof = True
            self.buffer += self.utf8.decode(b"", final=True)
            return False
        if self.position > _CHUNK:
            self.buffer = self.buffer[self.position :]
            self.position = 0
        self.buffer += self.utf8.decode(chunk)
        return True

    def peek(self) -> str:
        """The next non-blank character, or "" at the end of the file."""
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in " \t\r\n":
                self.position += 1
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self.fill():
                return ""

    def value(self) -> Any:
        while True:
            try:
                start = self.position
                value, self.position = self.decoder.raw_decode(self.buffer, start)
            except RecursionError as exc:
                raise FileProblem(
                    "malformed_file", "The JSON nests arrays or objects too deeply."
                ) from exc
            except json.JSONDecodeError as exc:
                if self.fill():
                    continue
                if exc.pos >= len(self.buffer) - 1 or "Unterminated" in exc.msg:
                    raise FileProblem(
                        "truncated_file", "The JSON ends in the middle of an element."
                    ) from exc
                raise FileProblem("malformed_file", f"The JSON is not valid: {exc.msg}.") from exc
            # An escaped lone surrogate (``"\\ud800"``) decodes to a string that is not text:
            # no database stores it and no encoder writes it back. Escapes are rare: look only
            # when the element has one.
            if self.buffer.find("\\u", start, self.position) >= 0 and _has_surrogate(value):
                raise FileProblem(
                    "invalid_encoding",
                    "The JSON holds an escaped lone surrogate (\\ud800-\\udfff), which is not "
                    "a character.",
                )
            return value


def _json_objects(handle: BinaryIO) -> Iterator[tuple[int, Any]]:
    """Elements of a top-level JSON array (or of ``{"rows": [...]}``), or JSON lines."""
    stream = _JsonStream(handle)
    opener = stream.peek()
    if not opener:
        raise FileProblem("empty_file", "The file is empty.")
    if opener == "{":
        first = stream.value()
        if isinstance(first, dict) and isinstance(first.get("rows"), list):
            yield from enumerate(first["rows"], start=1)
            return
        index = 1
        yield index, first
        while stream.peek():
            index += 1
            yield index, stream.value()
        return
    if opener != "[":
        raise FileProblem("malformed_file", "A JSON import is an array of rows.")
    stream.position += 1
    index = 0
    while True:
        following = stream.peek()
        if not following:
            raise FileProblem(
                "truncated_file", f"The JSON array ends after element {index}.", row=index + 1
            )
        if following == "]":
            return
        if index > 0:
            if following != ",":
                raise FileProblem(
                    "malformed_file", f"Expected ',' or ']' after element {index}.", row=index + 1
                )
            stream.position += 1
            if not stream.peek():
                raise FileProblem(
                    "truncated_file", f"The JSON array ends after element {index}.", row=index + 1
                )
        index += 1
        yield index, stream.value()


# Markers in RawRow.column for JSON rows that cannot be read as a row.
NOT_AN_OBJECT = "__not_an_object__"
NESTED = "__nested__:"  # followed by the field that holds a list or an object
HOLDS_NUL = "__nul__:"  # followed by the field whose text holds a NUL character


def iter_json(
    path: Path, default_year: int | None, info: dict[str, Any] | None = None
) -> Iterator[RawRow]:
    if info is not None:
        info["layout"] = "long"
    any_row = False
    with path.open("rb") as handle:
        try:
            for index, item in _json_objects(handle):
                any_row = True
                if not isinstance(item, dict):
                    yield RawRow(index, None, None, None, None, item, None, NOT_AN_OBJECT)
                    continue
                keys = {_normalise_header(k): v for k, v in item.items()}
                nested = next(
                    (name for name in SCALAR_FIELDS if isinstance(keys.get(name), list | dict)),
                    None,
                )
                if nested is not None:
                    yield RawRow(index, None, None, None, None, keys[nested], None, NESTED + nested)
                    continue
                # A "\u0000" escape: no text column of PostgreSQL holds it (SQLite would).
                nul = next(
                    (
                        name
                        for name in (*SCALAR_FIELDS, VALUE)
                        if isinstance(keys.get(name), str) and "\x00" in keys[name]
                    ),
                    None,
                )
                if nul is not None:
                    yield RawRow(index, None, None, None, None, keys[nul], None, HOLDS_NUL + nul)
                    continue
                year = keys.get(YEAR, default_year)
                if year is None:
                    year = default_year
                yield RawRow(
                    index,
                    keys.get(UNIT_CODE),
                    keys.get(UNIT_ID),
                    year,
                    keys.get(INDICATOR_CODE),
                    keys.get(VALUE),
                    keys.get(NOTE),
                    None,
                )
        except UnicodeDecodeError as exc:
            raise FileProblem("invalid_encoding", "The JSON is not UTF-8.") from exc
    if not any_row:
        raise FileProblem("empty_file", "The JSON holds no rows.")


# --- XLSX -----------------------------------------------------------------------------------


@contextmanager
def _workbook(path: Path) -> Iterator[Any]:
    """The workbook in read-only mode, read from an open file (openpyxl checks file names)."""
    from openpyxl import load_workbook  # imported lazily: only XLSX uploads need it

    with path.open("rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, EOFError, KeyError, OSError) as exc:
            raise FileProblem(
                "truncated_file",
                "The XLSX file is truncated or damaged (its ZIP cannot be read).",
            ) from exc
        except Exception as exc:  # openpyxl raises assorted errors on non-workbook archives
            raise FileProblem(
                "file_type_mismatch", "The file is a ZIP archive but not an XLSX workbook."
            ) from exc
        try:
            yield workbook
        finally:
            workbook.close()


def _sheet_rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows as values; a sheet whose XML is cut or broken (or that points at shared
    strings or styles that are not there) is a file problem, whatever openpyxl raises for it."""
    rows = sheet.iter_rows(values_only=True)
    read = 0
    while True:
        try:
            cells = next(rows, None)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise FileProblem(
                "truncated_file", f"The XLSX sheet breaks off after row {read}.", row=read + 1
            ) from exc
        except Exception as exc:  # ParseError, IndexError, ValueError… from a damaged sheet
            raise FileProblem(
                "malformed_file",
                f"The XLSX sheet cannot be read after row {read} (its XML is damaged).",
                row=read + 1,
            ) from exc
        if cells is None:
            return
        read += 1
        yield cells


def xlsx_meta(path: Path) -> dict[str, str]:
    """Key/value pairs of the template's ``meta`` sheet (criteria set, kind, year), if any."""
    with _workbook(path) as workbook:
        if XLSX_META_SHEET not in workbook.sheetnames:
            return {}
        sheet = workbook[XLSX_META_SHEET]
        sheet.reset_dimensions()  # no padding to a declared width
        out: dict[str, str] = {}
        for row in islice(_sheet_rows(sheet), _META_ROWS):
            if row and row[0] is not None and len(row) > 1 and row[1] is not None:
                out[str(restore(row[0])).strip()] = str(restore(row[1])).strip()
        return out


def iter_xlsx(
    path: Path,
    default_year: int | None,
    info: dict[str, Any] | None = None,
    limits: Limits | None = None,
) -> Iterator[RawRow]:
    """The sheet's rows; the caller has checked the file with :func:`check_xlsx` first."""
    limits = limits or Limits()
    with _workbook(path) as workbook:
        sheet = (
            workbook[XLSX_DATA_SHEET]
            if XLSX_DATA_SHEET in workbook.sheetnames
            else workbook.worksheets[0]
        )
        # Each row as wide as its own last cell: a declared dimension (which may be A1:XFD…)
        # would pad every row, empty ones too, to its width.
        sheet.reset_dimensions()
        rows = _sheet_rows(sheet)
        header = next(rows, None)
        if header is None or _blank(list(header)):
            raise FileProblem("empty_file", "The sheet has no header row.", row=1)
        layout = _layout(list(header), default_year)
        if info is not None:
            info["layout"] = "wide" if layout.wide else "long"
        any_row = False
        for row_no, cells in enumerate(rows, start=2):
            if row_no > limits.max_rows:
                raise _too_many("rows", row_no, limits.max_rows)
            if not cells:
                continue
            values = list(cells)
            if _blank(values):
                continue
            any_row = True
            yield from _rows_from_cells(row_no, values, layout, default_year)
        if not any_row:
            raise FileProblem("empty_file", "The sheet has a header but no data rows.", row=2)


def iter_rows(
    path: Path,
    fmt: Format,
    default_year: int | None,
    info: dict[str, Any] | None = None,
    limits: Limits | None = None,
) -> Iterator[RawRow]:
    """Rows of the file; ``info["layout"]`` says "long" or "wide" once the header is read."""
    if fmt == "xlsx":
        return iter_xlsx(path, default_year, info, limits)
    if fmt == "json":
        return iter_json(path, default_year, info)
    return iter_csv(path, default_year, info)


# --- records of any tidy table (other features' imports) ---------------------------------------


def _record(names: list[str], cells: Sequence[Any]) -> dict[str, Any]:
    """A row under its header's names; a short row's missing cells are None, extra ones go."""
    return {
        name: restore(cells[i]) if i < len(cells) else None for i, name in enumerate(names) if name
    }


def _records_csv(path: Path, limits: Limits) -> Iterator[tuple[int, dict[str, Any]]]:
    terminated = _ends_with_newline(path)
    nul_line = _nul_line(path)
    if nul_line is not None:
        raise FileProblem(
            "file_type_mismatch",
            f"The file holds a NUL byte (line {nul_line}): it is not CSV text.",
            row=nul_line,
        )
    row_no = 1
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        try:
            first = text.readline()
            delimiter = max((",", ";", "\t"), key=first.count)
            text.seek(0)
            reader = csv.reader(text, delimiter=delimiter, strict=True)
            header = next(reader, None)
            if header is None or _blank(list(header)):
                raise FileProblem("empty_file", "The file has no header row.", row=1)
            names = [_normalise_header(restore(cell)) for cell in header]
            if len(names) > limits.max_columns:
                raise _too_many("columns", len(names), limits.max_columns)
            any_row = False
            for cells in reader:
                row_no += 1
                if row_no > limits.max_rows + 1:
                    raise _too_many("rows", row_no - 1, limits.max_rows)
                if not any(cells):
                    continue
                any_row = True
                yield row_no, _record(names, cells)
            if not any_row:
                raise FileProblem("empty_file", "The file has a header but no data rows.", row=2)
            if not terminated and len(cells) < len(names):
                raise FileProblem(
                    "truncated_file",
                    f"The file ends in the middle of row {row_no} "
                    f"({len(cells)} of {len(names)} columns, no final line break).",
                    row=row_no,
                )
        except UnicodeDecodeError as exc:
            raise FileProblem(
                "invalid_encoding",
                f"The file is not UTF-8 text (byte {exc.start} of a chunk cannot be decoded). "
                "Save it as CSV UTF-8.",
            ) from exc
        except csv.Error as exc:
            raise FileProblem(
                "malformed_file", f"The CSV cannot be read at row {row_no + 1}: {exc}."
            ) from exc


def _records_xlsx(path: Path, limits: Limits) -> Iterator[tuple[int, dict[str, Any]]]:
    check_xlsx(path, limits)
    with _workbook(path) as workbook:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = _sheet_rows(sheet)
        header = next(rows, None)
        if header is None or _blank(list(header)):
            raise FileProblem("empty_file", "The sheet has no header row.", row=1)
        names = [_normalise_header(restore(cell)) for cell in header]
        any_row = False
        for row_no, cells in enumerate(rows, start=2):
            if not cells or _blank(list(cells)):
                continue
            any_row = True
            yield row_no, _record(names, cells)
        if not any_row:
            raise FileProblem("empty_file", "The sheet has a header but no data rows.", row=2)


def iter_records(
    path: Path, declared: Format | None, limits: Limits | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as a person sees it, {lower-cased header: cell}) of the first sheet of an
    XLSX or of a CSV file, with the checks and limits of the values import; other formats are
    a :class:`FileProblem`. For imports of other features (e.g. the register of titles)."""
    limits = limits or Limits()
    fmt = detect_format(path, declared)
    if fmt == "xlsx":
        return _records_xlsx(path, limits)
    if fmt == "csv":
        return _records_csv(path, limits)
    raise FileProblem("file_type_mismatch", "Send the file as CSV or XLSX.")
