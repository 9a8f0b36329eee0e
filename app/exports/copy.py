# ruff: noqa: S608 - SQL of cells built from the callers' own column expressions, no input

"""A CSV body written by PostgreSQL itself: ``COPY (SELECT …) TO STDOUT (FORMAT csv)``.

Python cannot render more than about 40,000 rows a second (asyncpg decoding, SQLAlchemy, the
rendering of fields); PostgreSQL's COPY writes over 600,000. An export that opts in gives a
``SELECT`` whose every column is already the text the Python writer (:class:`CsvWriter`) would
write for it (the ``*_sql`` helpers below), so that both paths give the same bytes, which
``tests/exports/test_csv_copy.py`` compares:

- text: NULL or empty is an empty field, a formula start gets the apostrophe;
- numbers: Python's ``repr`` of a float (``12.0``, ``1e-07``, ``1000000000000000.0``), which
  differs from ``float8``'s text in three places, fixed in SQL; a decimal comma for Excel;
- booleans ``true``/``false``, times RFC 3339 in UTC with ``Z`` and microseconds only if any;
- COPY quotes exactly the fields the csv module quotes (delimiter, quote, CR, LF) and writes
  NULL as nothing, but ends rows with LF: the LFs outside quotes become CRLF here.

The COPY runs on the request's own connection (its transaction) and feeds a bounded queue that
the response drains: memory holds a few blocks whatever the size of the export; a client that
goes away cancels the COPY (asyncpg sends a cancel request and the connection stays usable).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.spreadsheet import APOSTROPHE, FORMULA_START
from app.exports.columns import Table
from app.models.enums import ColumnType

# Blocks of COPY output waiting for the client (each one or a few CopyData messages of asyncpg's
# read buffer, at most some 100 kB): the bound that keeps memory flat when the client is slow.
QUEUE_BLOCKS = 16
# How long an ended response waits for the server to stop its COPY.
SETTLE_SECONDS = 30
_QUOTE = b'"'
_END = object()
# The Python writer's formula starts and its apostrophe, as SQL (one list: FORMULA_START).
_FORMULA_STARTS_SQL = ", ".join(f"chr({ord(c)})" for c in FORMULA_START)
_APOSTROPHE_SQL = f"chr({ord(APOSTROPHE)})"


class _Stopped(Exception):
    """The reader went away: raised in asyncpg's output callback to end the COPY."""


def text_sql(expression: str) -> str:
    """A text cell as the Python writer writes it: empty for NULL or '', and an apostrophe
    before a formula start (``app.core.spreadsheet.FORMULA_START``)."""
    return (
        f"CASE WHEN ({expression}) = '' THEN NULL "
        f"WHEN substr({expression}, 1, 1) IN ({_FORMULA_STARTS_SQL}) "
        f"THEN {_APOSTROPHE_SQL} || ({expression}) ELSE ({expression}) END"
    )


def boolean_sql(expression: str) -> str:
    return f"CASE WHEN ({expression}) THEN 'true' WHEN NOT ({expression}) THEN 'false' END"


# From 2**53 every float8 is a whole number, and PostgreSQL's shortest digits are not always
# Python's there (5.413776519849806e+16 is 5.4137765198498064e+16 in float8 text): the digits are
# computed from the exact value instead, as Python's repr chooses them (the nearest 15, 16 or 17
# significant digits that read back as the same float8, the first of them).
_EXACT_FROM = "9007199254740992"


def _whole_repr(x: str) -> str:
    """Python's repr of abs(x) for abs(x) >= 2**53, a finite whole number, as SQL."""
    # The exact value: divided by a power of two (exact) until it fits an int8.
    exact = (
        f"(SELECT (abs({x}) / power(2::float8, k))::int8::numeric * power(2::numeric, k) AS e "
        f"FROM (SELECT greatest(0, floor(ln(abs({x})) / ln(2))::int - 60) AS k) AS scale)"
    )
    rounded = "round(e, p - length(trunc(e)::text))"
    shortest = (
        f"(SELECT trunc({rounded})::text AS r FROM {exact} AS exact, generate_series(15, 17) AS p "
        f"WHERE {rounded}::float8 = abs({x}) ORDER BY p LIMIT 1)"
    )
    digits = "rtrim(r, '0')"
    return (
        "(SELECT CASE WHEN length(r) <= 16 THEN r || '.0' "
        f"ELSE left({digits}, 1) || CASE WHEN length({digits}) > 1 "
        f"THEN '.' || substr({digits}, 2) ELSE '' END || 'e+' || (length(r) - 1)::text END "
        f"FROM {shortest} AS shortest)"
    )


def number_sql(expression: str, *, excel: bool = False) -> str:
    """A ``float8`` as Python's ``repr`` (what the csv module writes for a float).

    PostgreSQL (12+, shortest exact digits like Python) differs in four ways: a whole number has
    no ``.0`` (``12`` for ``12.0``); from 1e15 to 1e16 it uses an exponent where Python writes the
    digits (``1e+15`` for ``1000000000000000.0``); from 2**53 its digits may differ (above); NaN
    and infinities are spelt otherwise. Elsewhere both write the same (``0.1``, ``1e-07``,
    ``1.5e+300``): ``tests/exports/test_csv_copy.py`` compares thousands of values."""
    x = f"({expression})"
    shown = f"{x}::text"
    digits = f"replace(replace(split_part({shown}, 'e', 1), '-', ''), '.', '')"
    sign = f"CASE WHEN {x} < 0 THEN '-' ELSE '' END"
    # The usual case first, with one float8 output: below 1e15 (NaN is not), only a whole
    # number needs its ".0" (PostgreSQL writes it without exponent, "-0" included).
    spelt = (
        f"CASE WHEN {x} IS NULL THEN NULL "
        f"WHEN abs({x}) < '1e15'::float8 THEN "
        f"{shown} || CASE WHEN {x} = trunc({x}) THEN '.0' ELSE '' END "
        f"WHEN {x} = 'NaN'::float8 THEN 'nan' "
        f"WHEN {x} = 'Infinity'::float8 THEN 'inf' "
        f"WHEN {x} = '-Infinity'::float8 THEN '-inf' "
        f"WHEN abs({x}) >= {_EXACT_FROM}::float8 THEN {sign} || {_whole_repr(x)} "
        f"ELSE {sign} || CASE WHEN length({digits}) <= 16 THEN rpad({digits}, 16, '0') || '.0' "
        f"ELSE left({digits}, 16) || '.' || substr({digits}, 17) END END"
    )
    return f"replace({spelt}, '.', ',')" if excel else spelt


def instant_sql(expression: str) -> str:
    """A ``timestamptz`` as ``datetime.isoformat`` in UTC with ``Z`` (microseconds if any):
    one ``to_char`` with them, dropped when they are all zeros."""
    utc = f"(({expression}) AT TIME ZONE 'UTC')"
    return f"replace(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || 'Z', '.000000Z', 'Z')"


def crlf(block: bytes) -> bytes:
    """COPY's LF row ends as CRLF (the csv module's), leaving a line break inside a quoted field
    as it is. A block holds whole rows (asyncpg hands whole CopyData messages, one row each), so
    it starts outside quotes; a quote toggles inside/outside (a doubled quote toggles twice), so
    the even pieces between quotes are the ones outside."""
    if _QUOTE not in block:
        return block.replace(b"\n", b"\r\n")
    pieces = block.split(_QUOTE)
    pieces[::2] = [piece.replace(b"\n", b"\r\n") for piece in pieces[::2]]
    return _QUOTE.join(pieces)


def cell_sql(kind: ColumnType, expression: str, *, excel: bool = False) -> str:
    """The SQL of one output column of ``kind`` (what :class:`CsvWriter` writes for it)."""
    if kind == ColumnType.TEXT:
        return text_sql(expression)
    if kind == ColumnType.NUMBER:
        return number_sql(expression, excel=excel)
    if kind == ColumnType.BOOLEAN:
        return boolean_sql(expression)
    if kind == ColumnType.DATETIME:
        return instant_sql(expression)
    if kind == ColumnType.DATE:
        return f"to_char({expression}, 'YYYY-MM-DD')"
    # Integers and UUIDs: their text is Python's str() (lower-case hyphenated UUIDs).
    return f"({expression})::text"


def table_sql(table: Table, expressions: Sequence[str], *, excel: bool = False) -> list[str]:
    """The output columns of ``table`` from one SQL expression each, in its order."""
    if len(expressions) != len(table.columns):
        raise ValueError(f"{table.name}: {len(expressions)} expressions for {len(table.columns)}")
    return [
        cell_sql(column.type, expression, excel=excel)
        for column, expression in zip(table.columns, expressions, strict=True)
    ]


@runtime_checkable
class CopySource(Protocol):
    """Chunks of rows that can also be written by PostgreSQL's COPY (see ``export_response``).

    ``copy_csv`` returns the CSV body without the header, or None where COPY is unavailable
    (SQLite): the rows are then written by :class:`CsvWriter`."""

    async def copy_csv(self, *, excel: bool) -> AsyncGenerator[bytes, None] | None: ...


async def copied(
    session: AsyncSession, query: str, args: Sequence[Any], *, excel: bool
) -> AsyncGenerator[bytes, None]:
    """The CSV rows of ``query`` (every column already text) written by COPY: blocks of bytes,
    at most :data:`QUEUE_BLOCKS` of them waiting. The first block is awaited by the caller's
    first ``anext``, so that an error of the statement is raised before the answer starts."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_BLOCKS)
    stopped = False

    async def put(block: bytes) -> None:
        # An exception raised here is how asyncpg ends a COPY early: it sends the server a
        # cancel request and the connection waits for its answer before its next statement.
        # (Cancelling the task instead would leave the protocol inside the COPY if it was
        # reading from the server at that moment.)
        if stopped:
            raise _Stopped
        # asyncpg hands a large read as a bytearray; a response body is bytes.
        await queue.put(bytes(crlf(block)) if type(block) is not bytes else crlf(block))

    async def produce() -> None:
        try:
            await driver.copy_from_query(
                query, *args, output=put, format="csv", delimiter=";" if excel else ","
            )
        except _Stopped:
            return
        except Exception as error:  # handed to the reader, which raises it
            if not stopped:
                await queue.put(error)
            return
        if not stopped:
            await queue.put(_END)

    task = asyncio.create_task(produce())
    try:
        while True:
            item = await queue.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if not task.done():
            # The client went away (or the response was dropped): the next block ends the
            # COPY (``put``); a ``put`` waiting for room is freed. The COPY must be over before
            # the session's connection runs its next statement (the rollback).
            stopped = True
            while not queue.empty():
                queue.get_nowait()
            await _settle(task)


async def _settle(task: asyncio.Task[None]) -> None:
    """Wait for ``task`` to end, bounded, through the cancellations that may be delivered
    meanwhile (anyio, under Starlette, cancels a disconnected response's scope at every await
    until its task ends): the exception that started the clean-up goes on after it."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while not task.done() and asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({task}, timeout=1)
    if not task.done():
        task.cancel()  # pragma: no cover - the server stopped answering


__all__ = [
    "QUEUE_BLOCKS",
    "CopySource",
    "boolean_sql",
    "cell_sql",
    "copied",
    "crlf",
    "instant_sql",
    "number_sql",
    "table_sql",
    "text_sql",
]
