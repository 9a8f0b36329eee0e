"""Reading exported files back as tables: the csv module and openpyxl."""

from __future__ import annotations

import csv
import io
from typing import Any

from httpx import Response
from openpyxl import load_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response: Response, *, excel: bool = False) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    raw = response.content
    if excel:
        assert raw.startswith("\ufeff".encode())
        raw = raw[3:]
    else:
        assert not raw.startswith("\ufeff".encode())
    reader = csv.DictReader(
        io.StringIO(raw.decode("utf-8"), newline=""), delimiter=";" if excel else ","
    )
    return list(reader)


def xlsx_sheets(response: Response) -> tuple[list[str], list[list[Any]], list[list[Any]], Any]:
    """Header, data rows, the description sheet's rows, and the data sheet."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    data, about = book.worksheets
    assert about.title == "columns"
    rows = [list(row) for row in data.iter_rows(values_only=True)]
    described = [list(row) for row in about.iter_rows(values_only=True)]
    return rows[0], rows[1:], described, data
