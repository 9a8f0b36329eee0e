"""On PostgreSQL the indicator values CSV is written by ``COPY`` (app/exports/copy.py): its bytes
must be the Python writer's, whatever the values (numbers Python and float8 spell differently,
quotes, delimiters, line breaks, formula starts, Vietnamese, NULLs, times with and without
microseconds). SQLite keeps the Python writer, asserted too."""

from __future__ import annotations

import asyncio
import math
import random
import struct
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import exports
from app.assessments.repository.values import INDICATOR_VALUES
from app.db.dialect import for_session
from app.exports.columns import Table, boolean, identifier, instant, integer, number, text
from app.exports.copy import copied, crlf, table_sql
from app.exports.response import _ClosingResponse
from app.exports.writers import CsvWriter
from tests.exports.helpers import csv_rows

NUMBERS = [
    -3.5, 0.1, 1e-7, 12.0, 0.0, -0.0, 123456789012.0, 1e15, 1e15 + 0.5, 1234567890123456.0,
    9999999999999998.0, 1e16, 1.5e16, 2.5e-5, 1e-4, 0.00012, 1 / 3, 1e300, -1e-300, 5e-324,
    9007199254740993.0, 100.0, 90.5, -12.0, 1e22, 123456.789, math.nan, math.inf, -math.inf,
]  # fmt: skip
TEXTS = [
    "Xã Tân Dĩnh", "", " leading space", "a,b", "a;b", 'say "hi", then "bye"', "two\nlines",
    "cr\rhere", "crlf\r\nhere", "=SUM(A1)", "+1", "-2", "- dash note", "@x", "\tTab", "\rCR",
    "'quoted", "trailing ", "ư" * 30, "back\\slash", '"', '""', "\\.", "$1 and $2",
]  # fmt: skip
MOMENTS = [
    datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=UTC),
    datetime(2024, 6, 1, 12, 30, 15, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(1999, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
]
CELLS = Table(
    "cells",
    "One column of each kind COPY writes",
    (
        integer("n", "Order."),
        identifier("id", "An id."),
        number("value", "A number."),
        text("note", "A text."),
        boolean("flag", "Yes or no."),
        instant("at", "A moment."),
    ),
)


def _cell_rows(count: int) -> list[tuple[Any, ...]]:
    rng = random.Random(15)
    numbers = NUMBERS + [
        rng.choice(
            [
                rng.uniform(-1e6, 1e6),
                rng.random() * 10 ** rng.randint(-320, 300),
                float(rng.randint(-(2**70), 2**70)),
                float(rng.randint(2**52, 2**54)),
                struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0],
            ]
        )
        for _ in range(count)
    ]
    ids = [uuid.uuid4() for _ in range(3)]
    rows = []
    for n, value in enumerate(numbers):
        rows.append(
            (
                n,
                rng.choice([*ids, None]),
                rng.choice([value, value, None]),
                TEXTS[n % len(TEXTS)] if n % 7 else None,
                rng.choice([True, False, None]),
                rng.choice([*MOMENTS, None]),
            )
        )
    return rows


def test_crlf_only_outside_quotes() -> None:
    block = b'1,"a\nb",x\n2,"say ""hi""\n",\n3,,\n'
    assert crlf(block) == b'1,"a\nb",x\r\n2,"say ""hi""\n",\r\n3,,\r\n'
    assert crlf(b"1,2\n3,4\n") == b"1,2\r\n3,4\r\n"


@pytest.mark.parametrize("excel", [False, True])
async def test_copy_cells_are_the_writers_bytes(session: AsyncSession, excel: bool) -> None:
    if not for_session(session).copy_out:
        # SQLite has no COPY: exports there are written by CsvWriter alone (asserted below).
        assert for_session(session).name == "sqlite"
        return
    rows = _cell_rows(20000)
    cells = table_sql(CELLS, ["t.n", "t.id", "t.value", "t.note", "t.flag", "t.at"], excel=excel)
    query = (
        f"SELECT {', '.join(cells)} FROM unnest($1::int[], $2::uuid[], $3::float8[], "
        "$4::text[], $5::bool[], $6::timestamptz[]) AS t(n, id, value, note, flag, at) "
        "ORDER BY t.n"
    )
    args = [[row[i] for row in rows] for i in range(6)]
    body = b"".join([block async for block in copied(session, query, args, excel=excel)])
    writer = CsvWriter(CELLS, excel=excel)
    expected = writer.rows(rows)
    if body != expected:  # the first differing line, to say which value
        for got, want in zip(body.split(b"\r\n"), expected.split(b"\r\n"), strict=False):
            assert got.decode() == want.decode()
    assert body == expected


async def _assessment(
    client: AsyncClient, set_id: str, unit: uuid.UUID, values: list[dict[str, Any]]
) -> str:
    body = {"unit_id": str(unit), "criteria_set_id": set_id, "year": 2023, "kind": "appraisal"}
    created = await client.post("/api/v1/assessments", json=body)
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    put = await client.put(f"/api/v1/assessments/{aid}/values", json={"values": values})
    assert put.status_code == 200, put.text
    return str(aid)


async def _awkward_values(
    client: AsyncClient, session: AsyncSession, set_id: str, communes: dict[str, uuid.UUID]
) -> None:
    """Assessments with every kind of value, then the stored fields made awkward in place."""
    numbers = ["1.1", "2.1", "3.1", "3.2"]
    for name in ("A", "B", "C"):
        await _assessment(
            client,
            set_id,
            communes[name],
            [
                *({"indicator_code": code, "value": 1} for code in numbers),
                {"indicator_code": "2.2", "value": name != "B"},
                {"indicator_code": "4.1", "value": "met"},
            ],
        )
    key = (INDICATOR_VALUES.c.assessment_id, INDICATOR_VALUES.c.indicator_id)
    ids = (await session.execute(INDICATOR_VALUES.select().order_by(*key))).all()
    for index, row in enumerate(ids):
        changes: dict[str, Any] = {
            "note": TEXTS[index % len(TEXTS)] if index % 5 else None,
            "judgement_reason": TEXTS[(index * 7) % len(TEXTS)] if row.judgement else None,
            "entered_by_name": 'Nguyễn Văn "Ấ", tổ 3' if index % 2 else "=cmd",
            "entered_at": MOMENTS[index % len(MOMENTS)],
        }
        if row.value_number is not None:
            changes["value_number"] = NUMBERS[index % (len(NUMBERS) - 3)]  # no NaN, no inf
        await session.execute(
            update(INDICATOR_VALUES)
            .where(key[0] == row.assessment_id, key[1] == row.indicator_id)
            .values(**changes)
        )
    await session.flush()


@pytest.mark.parametrize("excel", [False, True])
async def test_values_csv_copy_is_the_python_writers_bytes(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
    excel: bool,
) -> None:
    await _awkward_values(admin_client, session, criteria_set["id"], communes)
    params = {"criteria_set_id": criteria_set["id"], "year": "2023", "excel": str(excel).lower()}
    response = await admin_client.get("/api/v1/exports/indicator-values", params=params)
    rows = csv_rows(response, excel=excel)
    assert len(rows) == 18
    assert {r["entered_by_name"] for r in rows} == {'Nguyễn Văn "Ấ", tổ 3', "'=cmd"}

    # What the Python writer writes for the same rows (the path SQLite takes).
    filters = exports.ExportFilters(
        on=date(2023, 12, 31), criteria_set_id=uuid.UUID(criteria_set["id"]), year=2023
    )
    source = exports.value_rows(session, filters, "vi")
    writer = CsvWriter(exports.INDICATOR_VALUES_TABLE, excel=excel)
    expected = writer.header() + b"".join([writer.rows(chunk) async for chunk in source])
    assert response.content == expected
    copy = await exports.value_rows(session, filters, "vi").copy_csv(excel=excel)
    if for_session(session).copy_out:
        assert copy is not None
        body = b"".join([block async for block in copy])
        assert writer.header() + body == expected
    else:
        assert copy is None


async def test_copy_ends_when_the_reader_stops(session: AsyncSession) -> None:
    """A client that goes away after the first block: the COPY is cancelled (its transaction
    aborted, which the request's session rolls back) and the connection answers the next
    statement; a savepoint stands for the request's transaction here."""
    if not for_session(session).copy_out:
        assert await exports.value_rows(session, _filters(), "vi").copy_csv(excel=False) is None
        return
    query = "SELECT g::text, repeat('x', 200) FROM generate_series(1, 200000) AS g"
    savepoint = await session.begin_nested()
    body = copied(session, query, [], excel=False)
    first = await anext(body)
    assert first.startswith(b"1,xxx")
    await asyncio.wait_for(body.aclose(), 10)
    await savepoint.rollback()
    assert (await session.execute(INDICATOR_VALUES.select().limit(1))).all() is not None


def _filters() -> exports.ExportFilters:
    return exports.ExportFilters(on=date(2023, 12, 31), year=2023)


async def test_a_response_whose_client_went_away_ends_its_copy(session: AsyncSession) -> None:
    """Sending fails after the first block (the client disconnected): the response closes its
    body at once, which ends the COPY, and the connection answers the next statement."""
    if not for_session(session).copy_out:
        assert await exports.value_rows(session, _filters(), "vi").copy_csv(excel=False) is None
        return
    savepoint = await session.begin_nested()
    query = "SELECT g::text, repeat('x', 200) FROM generate_series(1, 200000) AS g"
    body = copied(session, query, [], excel=False)
    response = _ClosingResponse(body, media_type="text/csv")
    sent: list[Any] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body" and len(sent) == 2:
            raise OSError("the client went away")
        sent.append(message)

    with pytest.raises(OSError, match="went away"):
        await asyncio.wait_for(response.stream_response(send), 10)
    assert sent[1]["body"].startswith(b"1,xxx")
    assert body.ag_frame is None  # closed, not left to the garbage collector
    await savepoint.rollback()
    assert (await session.execute(INDICATOR_VALUES.select().limit(1))).all() is not None
