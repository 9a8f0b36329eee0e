"""The CSV writer renders each distinct value of a column once per chunk and joins the fields
itself: its bytes must be the csv module's, row for row, whatever the values (quotes,
delimiters, line breaks, formula starts, numbers equal across types, times in other zones)."""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from app.exports.columns import Table, boolean, day, identifier, instant, integer, number, text
from app.exports.writers import CsvWriter, _csv_converters

TABLE = Table(
    "mixed",
    "Every kind of column",
    (
        identifier("id", "An id."),
        text("name", "A text."),
        text("note", "Another text."),
        integer("count", "An integer."),
        number("value", "A number."),
        boolean("flag", "Yes or no."),
        day("on", "A day."),
        instant("at", "A moment."),
    ),
)
TEXTS = [
    "Xã Tân Dĩnh", "", " leading space", "a,b", "a;b", 'say "hi"', "two\nlines", "cr\rhere",
    "=SUM(A1)", "+1", "-2", "@x", "\tTab", "plain", "'quoted", "trailing ", "ư" * 30,
]  # fmt: skip
ZONE = timezone(timedelta(hours=7))


def _reference(rows: Sequence[Sequence[Any]], excel: bool) -> bytes:
    """What the csv module writes for the converted rows (the writer before it kept fields)."""
    converters = _csv_converters(TABLE, excel)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")
    for row in rows:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        writer.writerow(values)
    return buffer.getvalue().encode("utf-8")


def _rows(rng: random.Random, count: int) -> list[tuple[Any, ...]]:
    ids = [uuid.uuid4() for _ in range(5)]
    moment = datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)
    out = []
    for _ in range(count):
        out.append(
            (
                rng.choice([*ids, None]),
                rng.choice([*TEXTS, None]),
                rng.choice([*TEXTS, None, 1, 1.0, True]),  # a text column given other types
                rng.choice([0, 1, 2, -5, 10**12, None, True]),
                rng.choice([0.1, 1.0, 1, 2.5, -0.0, 1e-7, 1e21, None, 55]),
                rng.choice([True, False, None]),
                rng.choice([date(2024, 1, 1), date(2025, 7, 1), None]),
                rng.choice([moment, moment.astimezone(ZONE), moment.replace(tzinfo=None), None]),
            )
        )
    return out


@pytest.mark.parametrize("excel", [False, True])
def test_rows_are_the_csv_modules_bytes(excel: bool) -> None:
    rng = random.Random(15)
    writer = CsvWriter(TABLE, excel=excel)
    header = writer.header()
    assert header.endswith(b"\r\n")
    for size in (0, 1, 7, 500):
        rows = _rows(rng, size)
        assert writer.rows(rows) == _reference(rows, excel)


def test_a_single_column_is_left_to_the_csv_module() -> None:
    table = Table("one", "One column", (text("name", "A text."),))
    writer = CsvWriter(table)
    assert writer.rows([("",), (None,), ("a,b",), ("=1",)]) == b'""\r\n""\r\n"a,b"\r\n\'=1\r\n'
