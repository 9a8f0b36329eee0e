"""The database crashes while the worker runs an indicator import job: no value of it is ever
visible until all are, the worker survives the outage, and the job is run again from the start
once its heartbeat is stale and succeeds whole (issue 16, part 4: "no import is left
half-written")."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.db.engine import Database
from app.main import create_app
from app.models.assessments import ImportJob, IndicatorValue
from app.models.units import UnitVersion
from app.seed import run_all
from app.worker.runner import Worker
from tests.assessments.conftest import TEST_SET
from tests.faults.conftest import bearer, fault_settings, prepare
from tests.faults.pgcluster import PgCluster

VALUES = [
    ("1.1", "42"),
    ("2.1", "85"),
    ("2.2", "true"),
    ("3.1", "14"),
    ("3.2", "1"),
    ("4.1", "met"),
]
COMMUNES = 6000
DAY = date(2023, 6, 1)


async def test_an_import_job_cut_by_a_database_crash_is_all_or_nothing(
    primary: PgCluster, tmp_path: Path
) -> None:
    settings = fault_settings(
        primary.url("ntm_faults_jobs"), tmp_path, job_stale_seconds=5, worker_poll_seconds=0.2
    )
    engine, admin = await prepare(settings)
    database = Database(engine)
    async with database.session() as session:
        await run_all(session, lambda _message: None)
    async with database.session(read_only=True) as session:
        communes = list(
            await session.scalars(
                select(UnitVersion.unit_id)
                .where(
                    UnitVersion.level == "commune",
                    UnitVersion.valid_from <= DAY,
                    UnitVersion.valid_to > DAY,
                )
                .distinct()
                .limit(COMMUNES)
            )
        )
    assert len(communes) == COMMUNES
    lines = ["unit_id,year,indicator_code,value,note"]
    lines += [f"{unit},2023,{code},{value}," for unit in communes for code, value in VALUES]
    total = len(lines) - 1

    app = create_app(settings)
    worker = Worker(app.state.database, settings, app.state.storage)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    headers = bearer(settings, admin)
    seen: set[int] = set()

    async def values() -> int:
        async with database.session(read_only=True) as session:
            count = int(await session.scalar(select(func.count()).select_from(IndicatorValue)) or 0)
        seen.add(count)
        return count

    async def job() -> ImportJob:
        async with database.session(read_only=True) as session:
            found = (await session.scalars(select(ImportJob))).one()
            session.expunge(found)
            return found

    try:
        async with AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            created = await client.post("/api/v1/criteria-sets", json=TEST_SET)
            assert created.status_code == 201, created.text
            set_id = created.json()["id"]
            published = await client.post(f"/api/v1/criteria-sets/{set_id}/publish")
            assert published.status_code == 200, published.text
            accepted = await client.post(
                "/api/v1/indicator-values/import",
                params={"criteria_set_id": set_id, "async": "true"},
                files={"file": ("values.csv", "\n".join(lines).encode(), "text/csv")},
            )
            assert accepted.status_code == 202, accepted.text
        worker.start()
        deadline = time.monotonic() + 60
        while (await job()).status != "running":
            assert time.monotonic() < deadline, "the worker never started the job"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # into the job's transaction
        assert (await job()).status == "running", "the job ended before the crash"
        await asyncio.to_thread(primary.stop, "immediate")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(primary.start)
        crashed_at = time.monotonic()
        deadline = crashed_at + 120
        while True:
            try:
                await values()
                state = await job()
            except OSError:
                await asyncio.sleep(0.2)  # the test's own pool reconnecting
                continue
            if state.status in {"succeeded", "failed"}:
                break
            assert time.monotonic() < deadline, f"the job is still {state.status}"
            await asyncio.sleep(0.2)
    finally:
        await worker.stop()
        await app.state.database.dispose()
    final = await values()
    await engine.dispose()
    assert state.status == "succeeded", state.error
    assert state.attempts >= 2  # the interrupted attempt, then the one that finished
    assert final == total
    assert seen <= {0, total}, sorted(seen)
    print(  # noqa: T201 - the figure the README quotes (pytest -s)
        f"\nimport job of {total} values cut by a crash: attempts {state.attempts}, counts seen "
        f"{sorted(seen)}, finished {time.monotonic() - crashed_at:.1f} s after the restart"
    )
