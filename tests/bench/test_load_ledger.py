"""The load test's checker (``bench/ledger.py``) and its clients (``bench/load.py``), small.

The rules that turn what clients were told into expectations are checked on their own; then a
few of the load test's own clients run against the app (in-process, on the suite's database:
SQLite or PostgreSQL) and the checks must pass, and must fail once a row is changed behind the
ledger's back.
"""

from __future__ import annotations

import random
import uuid

from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database
from app.models.assessments import Assessment, IndicatorValue
from app.models.criteria import Indicator
from app.models.dossiers import Dossier
from bench.ledger import (
    DossierWrite,
    Expected,
    ImportWrite,
    Ledger,
    ValueWrite,
    analyse,
    check_database,
    check_feed,
    parse_etag,
)
from bench.load import YEAR, Client, Stats, read_feed, set_up

A = "6f1c9a52-3c1e-4a55-9d8e-000000000001"
U = "6f1c9a52-3c1e-4a55-9d8e-0000000000aa"


def test_parse_etag() -> None:
    assert parse_etag(f'"{A}.7"') == (A, 7)
    assert parse_etag('W/"x"') is None
    assert parse_etag(None) is None


def test_the_last_acknowledged_revision_wins_whatever_the_order_of_the_answers() -> None:
    ledger = Ledger(
        values=[
            ValueWrite(A, 3, {"1.1": 20.0}, "r2", revision=4),
            ValueWrite(A, 2, {"1.1": 10.0, "1.2": 5.0}, "r1", revision=3),
            ValueWrite(A, 4, {"1.2": 5.0}, "r3", revision=4),  # unchanged: same revision
        ]
    )
    expected = analyse(ledger)
    assert expected.problems == []
    assert expected.values[(A, "1.1")].allowed == (20.0,)
    assert expected.values[(A, "1.2")].allowed == (5.0,)
    assert expected.revisions[A] == (4, 4)


def test_two_acknowledged_writes_answered_the_same_new_revision_are_a_lost_update() -> None:
    ledger = Ledger(
        values=[
            ValueWrite(A, 3, {"1.1": 20.0}, "r1", revision=4),
            ValueWrite(A, 3, {"1.1": 30.0}, "r2", revision=4),
        ]
    )
    problems = analyse(ledger).problems
    assert any("lost update" in p for p in problems)
    assert any("different values" in p for p in problems)


def test_a_write_in_doubt_may_have_landed_only_after_the_revision_it_named() -> None:
    ledger = Ledger(
        values=[ValueWrite(A, 3, {"1.1": 20.0}, "r1", revision=4)],
        values_in_doubt=[
            ValueWrite(A, 4, {"1.1": 40.0}, "r2"),  # could have applied after revision 4
            ValueWrite(A, 2, {"1.1": 50.0}, "r3"),  # named an older revision: 412 or overwritten
        ],
    )
    ledger.values_in_doubt.append(ValueWrite(A, 4, {"1.7": 1.0}, "r4"))
    expected = analyse(ledger)
    assert expected.values[(A, "1.1")].allowed == (20.0, 40.0)
    # Nothing acknowledged of 1.7: whether the write landed or not, there is nothing to check.
    assert (A, "1.7") not in expected.values
    assert expected.revisions[A] == (4, 7)


def test_imports_follow_each_clients_order_and_an_unchanged_row_keeps_its_source() -> None:
    key, other = (U, "1.1"), (U, "1.2")
    ledger = Ledger(
        imports=[
            # The third import changed 1.2 only: 1.1 was sent with the value it already had.
            ImportWrite(0, 3, {key: 7.0, other: 2.0}, "r3", import_id="i3"),
            ImportWrite(0, 2, {key: 7.0}, "r2", import_id="i2", written=False),
            ImportWrite(0, 1, {key: 7.0, other: 1.0}, "r1", import_id="i1"),
        ]
    )
    expected = analyse(ledger).imports
    assert expected[key] == Expected((7.0,), "import:i1")
    assert expected[other] == Expected((2.0,), "import:i3")
    ledger.imports.append(ImportWrite(1, 1, {key: 8.0}, "r3", import_id="i3"))
    assert any("two clients" in p for p in analyse(ledger).problems)


def test_dossier_state_and_history_come_from_the_revisions() -> None:
    ledger = Ledger(
        dossiers=[
            DossierWrite(A, 3, "provincial_appraisal", "r3", "transition", "submit"),
            DossierWrite(A, 1, "draft", "r1", "create"),
            DossierWrite(A, 2, "draft", "r2", "document"),
        ]
    )
    expected = analyse(ledger).dossiers[A]
    assert (expected.revision, expected.status, expected.actions) == (
        3,
        "provincial_appraisal",
        ("submit",),
    )
    ledger.dossiers.append(DossierWrite(A, 3, "provincial_appraisal", "r4", "transition", "submit"))
    assert any("each answered revision 3" in p for p in analyse(ledger).problems)


def test_feed_check_wants_every_acknowledged_change_once_in_increasing_positions() -> None:
    ledger = Ledger(
        values=[ValueWrite(A, 1, {"1.1": 1.0}, "r1", revision=2)],
        dossiers=[DossierWrite(U, 1, "draft", "r2", "create")],
    )
    events = [
        {"position": 5, "entity": "assessment_values", "entity_id": A, "version": 2},
        {"position": 6, "entity": "dossier", "entity_id": U, "version": 1},
    ]
    assert check_feed(events, ledger).passed
    assert not check_feed(events[:1], ledger).passed
    assert not check_feed([events[1], {**events[0], "position": 4}], ledger).passed


async def _run_clients(
    admin_client: AsyncClient, database: Database
) -> tuple[Ledger, Stats, str, list[dict[str, object]], int]:
    world = await set_up(admin_client, database, 1, random.Random(3), shared_assessments=2)
    stats = Stats()
    client = Client(0, admin_client, world, stats, seed=5, concurrent=False, jobs=False)
    for _ in range(4):
        await client.write_values()
    for _ in range(3):
        await client.import_values()
    for _ in range(6):  # open, documents, submit, minutes, appraise or return, …
        await client.dossier_step()
    await client.poll_feed()
    for _ in range(4):
        await client.read()
    events = await read_feed(admin_client, world.feed_start)
    return client.ledger, stats, world.set_id, events, len(world.value_assessments)


async def test_the_load_clients_against_the_app_pass_the_checks_until_a_row_is_changed(
    admin_client: AsyncClient, database: Database, session: AsyncSession
) -> None:
    ledger, stats, set_id, events, _pool = await _run_clients(admin_client, database)
    statuses = {s.status for s in stats.samples}
    assert not stats.server_errors, stats.server_errors
    assert not stats.transport_errors, stats.transport_errors
    assert not stats.protocol_problems, stats.protocol_problems
    assert not stats.feed_problems, stats.feed_problems
    assert statuses <= {200, 201, 412}, statuses
    assert any(w.changed for w in ledger.values)
    assert any(w.written for w in ledger.imports)
    assert any(w.kind == "transition" for w in ledger.dossiers)

    checks = await check_database(session, ledger, criteria_set_id=set_id, year=YEAR)
    checks.append(check_feed(events, ledger))
    assert all(c.checked for c in checks), [c.name for c in checks if not c.checked]
    assert [c.failures for c in checks if not c.passed] == []

    # A value changed behind the ledger's back.
    write = next(w for w in reversed(ledger.values) if w.changed)
    code, value = next(iter(write.values.items()))
    indicator = (
        select(Indicator.id)
        .where(Indicator.criteria_set_id == uuid.UUID(set_id), Indicator.code == code)
        .scalar_subquery()
    )
    changed = {"value_bool": not value} if isinstance(value, bool) else {"value_number": -1.0}
    await session.execute(
        update(IndicatorValue)
        .where(
            IndicatorValue.assessment_id == uuid.UUID(write.assessment_id),
            IndicatorValue.indicator_id == indicator,
        )
        .values(**changed)
    )
    # An imported row's assessment moved to another year: its rows are gone from the import.
    imported = next(w for w in ledger.imports if w.written)
    unit_id = next(iter(imported.rows))[0]
    await session.execute(
        update(Assessment)
        .where(
            Assessment.unit_id == uuid.UUID(unit_id),
            Assessment.criteria_set_id == uuid.UUID(set_id),
        )
        .values(year=YEAR - 1)
    )
    # A dossier put back a step.
    dossier = ledger.dossiers[-1].dossier_id
    await session.execute(
        update(Dossier)
        .where(Dossier.id == uuid.UUID(dossier))
        .values(revision=Dossier.revision + 5)
    )
    await session.flush()
    failed = {
        c.name: c.failures
        for c in await check_database(session, ledger, criteria_set_id=set_id, year=YEAR)
        if not c.passed
    }
    assert set(failed) == {
        "value writes: last acknowledged value, once",
        "imports: every acknowledged row there once, last value and source",
        "dossiers: state = last acknowledged transition, history exactly once",
    }, failed
    value_failures = failed["value writes: last acknowledged value, once"]
    assert any(write.assessment_id in f and code in f for f in value_failures)
