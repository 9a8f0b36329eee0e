"""Flat exports of lists and reports for reporting tools (Excel, Power BI, Superset).

A feature plugs a list or report in with a few lines (see ``app/units/router.py``, ``list_units``):

1. a :class:`Table` of typed, described columns, usually ``(*UNIT_COLUMNS, …)``;
2. in its repository, a Core ``select`` of those columns in that order (join
   ``app.units.query.placement_select(day)`` on the unit id for the unit columns), read with
   :func:`stream_rows`, or any async iterator of chunks of tuples;
3. in its route, ``format: FormatQuery = None, excel: ExcelQuery = False``,
   ``responses=EXPORT_RESPONSES`` and, when :func:`requested_format` is not JSON,
   ``return await export_response(TABLE, chunks, fmt, query=…, excel=excel)``.

Names here are public and stable (other features import them).
"""

from app.exports.columns import (
    UNIT_COLUMNS,
    Column,
    Table,
    boolean,
    day,
    identifier,
    instant,
    integer,
    number,
    text,
    unit_columns,
)
from app.exports.formats import (
    CSV_MEDIA_TYPE,
    EXPORT_RESPONSES,
    FILE_RESPONSES,
    XLSX_MEDIA_TYPE,
    ExcelQuery,
    FormatQuery,
    file_format,
    requested_format,
)
from app.exports.response import export_response
from app.exports.rows import CHUNK_ROWS, Chunk, stream_rows
from app.models.enums import ColumnType, ExportFormat

__all__ = [
    "CHUNK_ROWS",
    "CSV_MEDIA_TYPE",
    "EXPORT_RESPONSES",
    "FILE_RESPONSES",
    "UNIT_COLUMNS",
    "XLSX_MEDIA_TYPE",
    "Chunk",
    "Column",
    "ColumnType",
    "ExcelQuery",
    "ExportFormat",
    "FormatQuery",
    "Table",
    "boolean",
    "day",
    "export_response",
    "file_format",
    "identifier",
    "instant",
    "integer",
    "number",
    "requested_format",
    "stream_rows",
    "text",
    "unit_columns",
]
