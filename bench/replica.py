"""Reads from a streaming replica: ``python -m bench.replica [--rounds N] [--per-block M]``.

Starts a PostgreSQL primary and a streaming replica of it on loopback (the fault tests' helper,
``tests/faults/pgcluster.py``: ports 18350-18399, as the postgres user when run as root), then:

1. ``GET /api/v1/units/{id}`` through the app (one process, httpx ASGI transport), in blocks
   alternating four set-ups: no replica configured (the baseline), an anonymous caller served
   by the replica, the same with the primary's URL given as the replica's (the routing's own
   cost, without the second server), and a caller who has just written (sticky: the primary,
   after the rule's bookkeeping). p50 / p99 of each, and the ratio of the p50s to the
   baseline's.
2. How long a write takes to be visible on the replica: ``POST /units`` on the primary, then
   the replica polled every millisecond for the row (p50 / p99 / max): the figure to set
   ``NTM_REPLICA_MAX_LAG_SECONDS`` against.

Both servers share this machine's cores, so (1) measures the routing's own cost, not the relief
a replica on its own machine gives the primary.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from tests.faults.conftest import bearer, fault_settings, prepare
from tests.faults.pgcluster import PgCluster

DATABASE = "ntm_bench_replica"
UNITS = 50


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run(rounds: int, per_block: int, writes: int) -> None:
    primary = PgCluster.create(replication=True, lifetime=1800)
    replica: PgCluster | None = None
    try:
        primary.start()
        tmp = Path(tempfile.mkdtemp(prefix="ntm-bench-replica-"))
        settings = fault_settings(primary.url(DATABASE), tmp)
        engine, admin = await prepare(settings)
        await engine.dispose()
        replica = primary.replica()
        replica.start()
        with_replica = settings.model_copy(
            update={"database_replica_url": replica.url(DATABASE), "replica_max_lag_seconds": 60}
        )
        # The same routing, with the primary standing in for the replica: the code's own cost
        # apart from the replica server's.
        to_itself = settings.model_copy(
            update={"database_replica_url": settings.database_url, "replica_max_lag_seconds": 60}
        )
        plain_app, replica_app = create_app(settings), create_app(with_replica)
        itself_app = create_app(to_itself)
        headers = bearer(settings, admin)
        async with (
            AsyncClient(transport=ASGITransport(app=plain_app), base_url="http://t") as plain,
            AsyncClient(transport=ASGITransport(app=replica_app), base_url="http://t") as anon,
            AsyncClient(transport=ASGITransport(app=itself_app), base_url="http://t") as itself,
            AsyncClient(
                transport=ASGITransport(app=replica_app), base_url="http://t", headers=headers
            ) as writer,
        ):
            ids = []
            for i in range(UNITS):
                body = {"type": "tinh", "code": f"B{i}", "name": f"Tỉnh {i}"}
                response = await writer.post("/api/v1/units", json=body)
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            await asyncio.sleep(1)  # let the replica catch up before timing reads from it
            setups = {
                "primary only (baseline)": plain,
                "replica": anon,
                "routing to the primary": itself,
                "sticky writer": writer,
            }
            timings: dict[str, list[float]] = {name: [] for name in setups}
            names = list(setups)
            for round_ in range(rounds):
                for name in names[round_ % 4 :] + names[: round_ % 4]:
                    client = setups[name]
                    for i in range(per_block):
                        started = time.perf_counter()
                        response = await client.get(f"/api/v1/units/{ids[i % UNITS]}")
                        timings[name].append(time.perf_counter() - started)
                        assert response.status_code == 200, response.text
            state = replica_app.state.database.replica.status.state
            print(f"replica state after the reads: {state}")
            base = _percentiles(timings[names[0]])[0]
            for name in names:
                p50, p99 = _percentiles(timings[name])
                print(
                    f"GET /units/{{id}} {name:24} p50 {p50 * 1000:6.2f} ms  "
                    f"p99 {p99 * 1000:6.2f} ms  p50 ratio {p50 / base:.2f}"
                )

            connection = await asyncpg.connect(
                host="127.0.0.1", port=replica.port, user="postgres", database=DATABASE
            )
            delays = []
            for i in range(writes):
                body = {"type": "tinh", "code": f"L{i}", "name": f"Tỉnh L{i}"}
                response = await writer.post("/api/v1/units", json=body)
                acknowledged = time.perf_counter()
                unit = response.json()["id"]
                while not await connection.fetchval(  # noqa: ASYNC110 - another server's state
                    "SELECT count(*) FROM units WHERE id = $1::uuid", unit
                ):
                    await asyncio.sleep(0.001)
                delays.append(time.perf_counter() - acknowledged)
            await connection.close()
            p50, p99 = _percentiles(delays)
            print(
                f"write acknowledged → visible on the replica ({writes} writes): "
                f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {max(delays) * 1000:.1f} ms"
            )
        await plain_app.state.database.dispose()
        await replica_app.state.database.dispose()
        await itself_app.state.database.dispose()
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replica")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--per-block", type=int, default=100)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args(argv)
    asyncio.run(run(args.rounds, args.per_block, args.writes))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
