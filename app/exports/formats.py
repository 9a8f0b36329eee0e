"""Which format a list or report answers in: ``format=`` first, then the ``Accept`` header.

``format=json|csv|xlsx``; without it, ``Accept: text/csv`` or the XLSX media type choose the
file, anything else JSON. An unknown ``format`` is refused by the parameter's validation
(422 naming ``query.format``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from app.core.errors import Unprocessable, field_error
from app.models.enums import ExportFormat

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {ExportFormat.CSV: CSV_MEDIA_TYPE, ExportFormat.XLSX: XLSX_MEDIA_TYPE}

FormatQuery = Annotated[
    ExportFormat | None,
    Query(
        description="`json` (default), `csv` or `xlsx`; without it the `Accept` header chooses "
        "(`text/csv`, or the XLSX media type). A file holds every row the filters select "
        "(`limit` and `cursor` do not apply) and streams."
    ),
]
ExcelQuery = Annotated[
    bool,
    Query(
        description="CSV for Excel in a Vietnamese or European locale: a UTF-8 byte order mark, "
        "`;` between fields and a decimal comma."
    ),
]

# The 200 answer of an operation that can export, for its `responses=` (merged with its JSON).
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or with `format`/`Accept` a CSV or XLSX file of the same rows.",
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
# The 200 answer of an export-only operation (no JSON form).
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A CSV or XLSX file (`format`, default `csv`, or `Accept`).",
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def requested_format(
    request: Request, given: ExportFormat | None, default: ExportFormat = ExportFormat.JSON
) -> ExportFormat:
    if given is not None:
        return given
    accept = request.headers.get("accept", "").lower()
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip()
        if media == CSV_MEDIA_TYPE:
            return ExportFormat.CSV
        if media == XLSX_MEDIA_TYPE:
            return ExportFormat.XLSX
        if media == "application/json":
            return ExportFormat.JSON if default == ExportFormat.JSON else default
    return default


def file_format(request: Request, given: ExportFormat | None) -> ExportFormat:
    """For export-only operations: CSV unless XLSX is asked for; ``format=json`` is refused
    (422 naming ``query.format``)."""
    if given == ExportFormat.JSON:
        raise Unprocessable(
            "This table exists only as a file: ask for format=csv or format=xlsx.",
            code="export_format_unavailable",
            errors=[field_error(["query", "format"], "csv or xlsx", "export_format_unavailable")],
        )
    chosen = requested_format(request, given, default=ExportFormat.CSV)
    return ExportFormat.CSV if chosen == ExportFormat.JSON else chosen
