"""CSV and XLSX writers over chunks of rows, with memory bounded by one chunk.

Every text cell goes through :func:`app.core.spreadsheet.neutralise` (a cell starting with
``= + - @``, a tab or a carriage return would run as a formula when the file is opened: OWASP
"CSV Injection"). CSV: UTF-8, ``,``; ``excel=True`` adds the byte order mark, ``;`` and a decimal
comma, which Excel in a Vietnamese (or European) locale expects. XLSX: openpyxl's write-only
workbook (rows go to a temporary file as they come; nothing is kept per row), typed cells, a
header row, frozen panes, and a second sheet describing the columns and the query.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from app.core.spreadsheet import FORMULA_START, neutralise, xlsx_row
from app.exports.columns import Table
from app.models.enums import ColumnType

Converter = Callable[[Any], Any]


def _text(value: Any) -> Any:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _boolean(value: Any) -> Any:
    return None if value is None else ("true" if value else "false")


def _instant(value: Any) -> Any:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _decimal_comma(value: Any) -> Any:
    return None if value is None else repr(float(value)).replace(".", ",")


def _csv_converters(table: Table, excel: bool) -> list[tuple[int, Converter]]:
    """Only the columns whose value the csv module would not spell as wanted (it writes ints,
    floats, dates and UUIDs as we want them), so that a row costs few calls."""
    out: list[tuple[int, Converter]] = []
    for index, column in enumerate(table.columns):
        if column.type == ColumnType.TEXT:
            out.append((index, _text))
        elif column.type == ColumnType.BOOLEAN:
            out.append((index, _boolean))
        elif column.type == ColumnType.DATETIME:
            out.append((index, _instant))
        elif column.type == ColumnType.NUMBER and excel:
            out.append((index, _decimal_comma))
    return out


# Values whose equality implies the same text once written: their rendering may be kept for the
# chunk (a driver's own UUID class included). Numbers are not kept: 1, 1.0 and True are equal keys
# with three texts; booleans only in a boolean column, where nothing else is.
_KEPT_TYPES: tuple[type, ...] = (str, uuid.UUID, date)


class _Fields(dict[Any, str]):
    """One column's values rendered as CSV fields (converted, then quoted as the csv module
    quotes them), each distinct value once per chunk: the values of an export repeat (a unit's
    names on each of its 66 rows, an import's timestamp and source on thousands) and a lookup
    costs a fraction of a rendering."""

    def __init__(
        self, convert: Converter | None, field: Callable[[Any], str], kept: tuple[type, ...]
    ) -> None:
        super().__init__()
        self[None] = field(None)
        self.convert = convert
        self.field = field
        self.kept = kept

    def __missing__(self, value: Any) -> str:
        converted = self.convert(value) if self.convert is not None else value
        # An int or a float is written as str() writes it, never quoted (the csv module too).
        kind = type(converted)
        text = str(converted) if kind is float or kind is int else self.field(converted)
        if isinstance(value, self.kept):
            self[value] = text
        return text


class CsvWriter:
    """Feed chunks of rows, get bytes back: the header comes with the first chunk.

    Each row is the join of its fields, each field rendered once per chunk and value
    (:class:`_Fields`) by the csv module itself, so the text is the csv module's, byte for byte
    (``tests/exports`` compares them); a row costs one lookup per column and one join."""

    def __init__(self, table: Table, *, excel: bool = False) -> None:
        self.table = table
        self.excel = excel
        self._delimiter = ";" if excel else ","
        self._converters = dict(_csv_converters(table, excel))
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=self._delimiter, lineterminator="\r\n")
        # Quoting of one field: a row of it and an empty field, without the separator and the
        # line's end (a lone empty field would be written as "" instead of nothing).
        self._tail = len(self._delimiter) + 2

    def header(self) -> bytes:
        self._writer.writerow(self.table.names)
        return ("\ufeff" if self.excel else "").encode() + self._drain()

    def _field(self, value: Any) -> str:
        self._writer.writerow((value, None))
        text = self._buffer.getvalue()[: -self._tail]
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def rows(self, rows: Iterable[Sequence[Any]]) -> bytes:
        if len(self.table.columns) == 1:
            # The csv module writes a lone empty field as "": leave single columns to it.
            convert = self._converters.get(0)
            self._writer.writerows(
                [convert(row[0]) if convert is not None else row[0]] for row in rows
            )
            return self._drain()
        fields = [
            _Fields(
                self._converters.get(index),
                self._field,
                (*_KEPT_TYPES, bool) if column.type == ColumnType.BOOLEAN else _KEPT_TYPES,
            )
            for index, column in enumerate(self.table.columns)
        ]
        join = self._delimiter.join
        lines = [join([f[v] for f, v in zip(fields, row, strict=True)]) for row in rows]
        if not lines:
            return b""
        lines.append("")
        return "\r\n".join(lines).encode("utf-8")

    def _drain(self) -> bytes:
        data = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def _xlsx_value(kind: ColumnType, value: Any) -> Any:
    if value is None:
        return None
    if kind == ColumnType.DATETIME:
        # Excel has no time zones: UTC, without its offset (the column says so).
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if kind == ColumnType.UUID:
        return str(value)
    if kind == ColumnType.TEXT and not isinstance(value, str):
        return str(value)
    return value


class XlsxWriter:
    """A write-only workbook in a temporary file: ``rows`` per chunk, ``finish`` then ``path``."""

    def __init__(self, table: Table) -> None:
        from openpyxl import Workbook  # lazily: only XLSX exports need openpyxl
        from openpyxl.styles import Font

        self.table = table
        self._workbook = Workbook(write_only=True)
        self._data = self._workbook.create_sheet(table.name[:31])
        self._data.freeze_panes = "A2"
        self._about = self._workbook.create_sheet("columns")
        self._about.freeze_panes = "A2"
        self._kinds = [column.type for column in table.columns]
        self._date_style: dict[ColumnType, str] = {
            ColumnType.DATE: "yyyy-mm-dd",
            ColumnType.DATETIME: "yyyy-mm-dd hh:mm:ss",
        }
        self._bold = Font(bold=True)
        self.count = 0
        self.path: str | None = None
        self._header()

    def _header(self) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for name in self.table.names:
            cell = WriteOnlyCell(self._data, value=name)
            cell.font = self._bold
            cells.append(cell)
        self._data.append(cells)

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        from openpyxl.cell import WriteOnlyCell

        kinds = self._kinds
        dated = [i for i, kind in enumerate(kinds) if kind in self._date_style]
        sheet = self._data
        for row in rows:
            values = [_xlsx_value(kind, value) for kind, value in zip(kinds, row, strict=True)]
            cells = xlsx_row(sheet, values)
            for index in dated:
                if values[index] is not None:
                    cell = WriteOnlyCell(sheet, value=values[index])
                    cell.number_format = self._date_style[kinds[index]]
                    cells[index] = cell
            sheet.append(cells)
            self.count += 1

    def finish(self, query: Mapping[str, Any]) -> str:
        """Write the description sheet and save; the caller removes the file at ``path``."""
        about = self._about
        about.append(xlsx_row(about, ["column", "type", "description"]))
        for column in self.table.columns:
            about.append(xlsx_row(about, [column.name, column.type.value, column.description]))
        about.append([])
        about.append(xlsx_row(about, ["table", self.table.name, self.table.title]))
        about.append([*xlsx_row(about, ["rows", "integer"]), self.count])
        for key, value in query.items():
            about.append(xlsx_row(about, ["query", key, _plain(value)]))
        handle, path = tempfile.mkstemp(prefix="ntm-export-", suffix=".xlsx")
        os.close(handle)
        self._workbook.save(path)
        self.path = path
        return path


def _plain(value: Any) -> Any:
    """A query parameter as one cell."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


__all__ = ["CsvWriter", "XlsxWriter", "neutralise"]
