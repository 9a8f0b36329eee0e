"""The database stopped (crashed: ``pg_ctl stop -m immediate``) and restarted under load: while it
is away ``/readyz`` answers 503 and requests fail fast with 503 problem+json and Retry-After;
afterwards the same service, never restarted, serves again; every write it acknowledged is
there, and every import is there whole or not at all (issue 16, part 4)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from app.db.engine import Database
from app.main import create_app
from app.models.units import UnitVersion
from tests.faults.conftest import bearer, fault_settings, prepare
from tests.faults.pgcluster import PgCluster

API = "/api/v1"
PROBLEM = "application/problem+json"
WRITERS = 6
IMPORT_ROWS = 300
FAST_SECONDS = 3.0  # a refused request while the database is away: no connect timeout, no hang


@dataclass(frozen=True)
class Outcome:
    what: str  # "write", "import", "ready"
    key: str
    started: float
    ended: float
    status: int
    content_type: str
    code: str | None
    retry_after: str | None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def _outcome(what: str, key: str, started: float, response: Response) -> Outcome:
    content_type = response.headers.get("content-type", "")
    code = response.json().get("code") if content_type.startswith(PROBLEM) else None
    return Outcome(
        what,
        key,
        started,
        time.monotonic(),
        response.status_code,
        content_type,
        code,
        response.headers.get("retry-after"),
    )


async def _create(client: AsyncClient, **body: Any) -> str:
    response = await client.post(f"{API}/units", json={"valid_from": "2020-01-01", **body})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_database_crash_under_load_loses_no_acknowledged_write(
    primary: PgCluster, tmp_path: Path
) -> None:
    settings = fault_settings(primary.url("ntm_faults_outage"), tmp_path, db_connect_timeout=2)
    engine, admin = await prepare(settings)
    app = create_app(settings)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    headers = bearer(settings, admin)
    outcomes: list[Outcome] = []
    stop = asyncio.Event()
    async with AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
        province = await _create(client, type="tinh", code="F1", name="Tỉnh Sự Cố")
        district = await _create(
            client, type="huyen", code="F10", name="Huyện A", parent_id=province
        )
        commune = await _create(client, type="xa", code="F101", name="Xã A", parent_id=district)

        async def writer(n: int) -> None:
            i = 0
            while not stop.is_set():
                i += 1
                code = f"W{n}-{i}"
                started = time.monotonic()
                body = {"type": "thon", "code": code, "name": f"Thôn {code}", "parent_id": commune}
                response = await client.post(f"{API}/units", json=body)
                outcomes.append(_outcome("write", code, started, response))
                if response.status_code != 201:
                    await asyncio.sleep(0.05)

        async def importer() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                prefix = f"I{i}"
                rows = "".join(
                    f"{prefix}-{r},Thôn {prefix} {r},thon,{commune}\n" for r in range(IMPORT_ROWS)
                )
                started = time.monotonic()
                response = await client.post(
                    f"{API}/units/import",
                    content=("code,name,type,parent_id\n" + rows).encode(),
                    headers={"Content-Type": "text/csv"},
                )
                outcomes.append(_outcome("import", prefix, started, response))
                if response.status_code != 201:
                    await asyncio.sleep(0.05)

        async def prober() -> None:
            while not stop.is_set():
                started = time.monotonic()
                response = await client.get("/readyz")
                outcomes.append(_outcome("ready", "", started, response))
                await asyncio.sleep(0.1)

        tasks = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
        tasks += [asyncio.create_task(importer()), asyncio.create_task(prober())]
        await asyncio.sleep(1.0)
        crashed = time.monotonic()
        await asyncio.to_thread(primary.stop, "immediate")
        await asyncio.sleep(1.5)
        restarting = time.monotonic()
        await asyncio.to_thread(primary.start)
        back = time.monotonic()
        # Load goes on until the service has proved it serves again (or the test gives up).
        deadline = back + 30
        while time.monotonic() < deadline:
            recovered = [o for o in outcomes if o.started > back and o.status == 201]
            ready = [o for o in outcomes if o.what == "ready" and o.started > back]
            if len(recovered) >= WRITERS and ready and ready[-1].status == 200:
                break
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*tasks)
        final_ready = await client.get("/readyz")
    await app.state.database.dispose()

    # Nothing but success or a clean, fast 503 — no 500, no hang.
    by_status = {(o.what, o.status) for o in outcomes}
    assert by_status <= {
        ("write", 201),
        ("write", 503),
        ("import", 201),
        ("import", 503),
        ("ready", 200),
        ("ready", 503),
    }, by_status
    refused = [o for o in outcomes if o.status == 503]
    assert refused, "the outage was never seen"
    for o in refused:
        assert o.content_type.startswith(PROBLEM), o
        assert o.code == "database_unavailable", o
        assert o.retry_after is not None, o
        assert int(o.retry_after) > 0, o
    slowest = max(o.seconds for o in refused)
    assert slowest < FAST_SECONDS, f"a refusal took {slowest:.2f} s"
    # /readyz followed the database: ok before, 503 while it was away, ok again.
    ready = [o for o in outcomes if o.what == "ready"]
    assert any(o.status == 200 for o in ready if o.ended < crashed)
    assert any(o.status == 503 for o in ready if crashed < o.started < restarting)
    assert final_ready.status_code == 200, final_ready.text
    # Writes were refused while it was away and accepted after, by the same process.
    assert any(o.status == 503 for o in outcomes if o.what == "write")
    assert sum(o.status == 201 for o in outcomes if o.what == "write" and o.started > back) >= 1

    # Every acknowledged write is there; every import is all there or not at all.
    database = Database(engine)
    async with database.session(read_only=True) as session:
        codes = set(
            await session.scalars(
                select(UnitVersion.code).where(UnitVersion.parent_id == uuid.UUID(commune))
            )
        )
        acknowledged = {o.key for o in outcomes if o.what == "write" and o.status == 201}
        lost = acknowledged - codes
        assert not lost, f"{len(lost)} acknowledged write(s) lost: {sorted(lost)[:10]}"
        for o in (o for o in outcomes if o.what == "import"):
            count = await session.scalar(
                select(func.count())
                .select_from(UnitVersion)
                .where(UnitVersion.code.like(f"{o.key}-%"))
            )
            expected = {IMPORT_ROWS} if o.status == 201 else {0, IMPORT_ROWS}
            assert count in expected, (o, count)
    await engine.dispose()
    writes = [o for o in outcomes if o.what == "write"]
    imports = [o for o in outcomes if o.what == "import"]
    print(  # noqa: T201 - the figures the README quotes (pytest -s)
        f"\noutage {restarting - crashed:.1f} s, restart {back - restarting:.1f} s; "
        f"{len(writes)} writes: {len(acknowledged)} acknowledged, all present; "
        f"{sum(o.status == 503 for o in writes)} refused with 503 "
        f"(slowest refusal {slowest * 1000:.0f} ms); {len(imports)} imports of {IMPORT_ROWS} "
        f"rows ({sum(o.status == 201 for o in imports)} acknowledged), none partial"
    )
