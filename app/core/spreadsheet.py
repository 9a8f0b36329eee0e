"""Text that goes into, or comes back from, a CSV or XLSX file a person opens in a spreadsheet.

A cell whose text begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
some spreadsheets skip before reading the rest as a formula) runs as a formula when the file is
opened: a unit renamed ``=HYPERLINK(...)`` would become a live link in every export (OWASP, "CSV
Injection"). Every cell written from user-controlled text goes through :func:`neutralise` (XLSX:
:func:`xlsx_row`, which also forces the text type), which prefixes such text with an apostrophe.

On import, :func:`restore` removes exactly that apostrophe again (an apostrophe followed by one
of those characters), so that a file we exported imports back unchanged; :func:`trim` removes
surrounding blanks but keeps a leading tab or carriage return, so that ``"\\t=1+1"`` is stored as
sent and never becomes the formula ``=1+1``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
APOSTROPHE = "'"
# Blanks trimmed at the start of a text: not the tab and carriage return of FORMULA_START.
_LEADING_BLANKS = " \n\v\f\u00a0\ufeff"


def neutralise(text: str) -> str:
    """The text as a spreadsheet shows it literally."""
    return APOSTROPHE + text if text.startswith(FORMULA_START) else text


def restore(value: Any) -> Any:
    """A cell read back: the apostrophe :func:`neutralise` added is removed; anything else is
    returned unchanged."""
    if isinstance(value, str) and value[:1] == APOSTROPHE and value[1:2] in FORMULA_START:
        return value[1:]
    return value


def trim(text: str) -> str:
    """Blanks around imported text removed, except a leading tab or carriage return."""
    return text.rstrip().lstrip(_LEADING_BLANKS)


def csv_cell(value: Any) -> Any:
    """A value for a CSV row: text neutralised, numbers and other values unchanged."""
    return neutralise(value) if isinstance(value, str) else value


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """Cells of a write-only openpyxl sheet: every text is neutralised and typed as text
    (``data_type`` ``"s"``, never ``"f"``), numbers, booleans and empty cells stay as they are."""
    from openpyxl.cell import WriteOnlyCell  # lazily: only XLSX exports need openpyxl

    cells: list[Any] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells
