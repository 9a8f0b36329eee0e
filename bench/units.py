"""Benchmark of the units feature: ``python -m bench.units [--rounds N] [--no-postgres]``.

On throwaway databases (a temporary SQLite file; a PostgreSQL database ``ntm_bench_units`` that
is created and dropped), it measures:

- the seed of the national dataset (first load; then an unchanged rerun), next to the time to
  read and parse the bundled files alone;
- p50/p99 of ``GET /units?parent_id=…`` (a page of 50), ``GET /units/{id}`` and
  ``GET /units/tree`` of a pre-2025 province (Bắc Giang on 2024-06-01: 10 districts, 209
  communes) and ``GET /units?within=…&level=commune`` (a page of its communes), in-process
  through httpx's ASGI transport, next to two baselines measured in the same run: the service
  call without HTTP, and the same SQL through the bare driver (sqlite3 / asyncpg).

Targets (issue 3): seed under 30 s; list and get p50 under 10 ms; tree under 100 ms.
No network traffic beyond the local PostgreSQL; bounded by ``--rounds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.db import migrate
from app.db.engine import Database, build_engine
from app.main import create_app
from app.models.enums import UnitLevel
from app.units import service
from app.units.seed import DATA_DIR, read_dataset, seed_units, unit_id_for

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ntm_bench_units"
AS_OF_OLD = date(2024, 6, 1)
AS_OF_NEW = date(2026, 1, 1)
PROVINCE = unit_id_for("province:24:pre2025")  # Tỉnh Bắc Giang
COMMUNE = unit_id_for("commune:07444:2025")  # Xã Lục Nam
LIST_PARENT = unit_id_for("province:01:pre2025")  # Hà Nội: 126 communes from 2025-07-01

Timer = Callable[[], Awaitable[Any]]

LIST_SQL = """
SELECT v.unit_id, v.level, v.code, v.name, v.type, v.parent_id, v.valid_from, v.valid_to,
       u.updated_at
FROM unit_versions v JOIN units u ON u.id = v.unit_id
WHERE v.parent_id = {p} AND v.valid_from <= {d} AND v.valid_to > {d}
ORDER BY CASE v.level WHEN 'province' THEN 1 WHEN 'district' THEN 2 WHEN 'commune' THEN 3
         ELSE 4 END, v.code, v.unit_id
LIMIT 51
"""
GET_SQL = (
    """
SELECT v.id, v.unit_id, v.level, v.code, v.name, v.type, v.parent_id, v.valid_from, v.valid_to,
       u.updated_at, u.source_key, u.created_at,
       p.id, p.level, p.code, p.name, p.type
FROM unit_versions v JOIN units u ON u.id = v.unit_id
LEFT JOIN unit_versions p ON p.unit_id = v.parent_id AND p.valid_from <= {d} AND p.valid_to > {d}
WHERE v.unit_id = {p} AND v.valid_from <= {d} AND v.valid_to > {d}
""",
    """
SELECT * FROM unit_classifications c
WHERE c.unit_id = {p} AND c.valid_from <= {d} AND c.valid_to > {d} ORDER BY c.kind, c.valid_from
""",
)
TREE_SQL = """
WITH RECURSIVE tree(unit_id, depth) AS (
  SELECT v.unit_id, 0 FROM unit_versions v
  WHERE v.unit_id = {p} AND v.valid_from <= {d} AND v.valid_to > {d}
  UNION ALL
  SELECT s.unit_id, tree.depth + 1 FROM unit_versions s JOIN tree ON s.parent_id = tree.unit_id
  WHERE s.valid_from <= {d} AND s.valid_to > {d} AND tree.depth < 4
)
SELECT v.unit_id, v.parent_id, v.level, v.code, v.name, v.type, v.valid_from, v.valid_to,
       tree.depth
FROM unit_versions v JOIN tree ON tree.unit_id = v.unit_id
WHERE v.valid_from <= {d} AND v.valid_to > {d}
ORDER BY tree.depth, v.code, v.unit_id
"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1000, p99 * 1000


async def measure(call: Timer, rounds: int) -> tuple[float, float]:
    for _ in range(max(5, rounds // 10)):
        await call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


async def recreate_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            )
            await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()


async def drop_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            )
    finally:
        await admin.dispose()


def raw_sqlite(path: Path) -> dict[str, Timer]:
    connection = sqlite3.connect(path, check_same_thread=False)

    def run(sql: str, unit: uuid.UUID, on: date) -> Timer:
        statement = sql.format(p=":p", d=":d")
        # Uuid is CHAR(32) hex on SQLite; dates are ISO text.
        args = {"p": unit.hex, "d": on.isoformat()}

        async def call() -> Any:
            return connection.execute(statement, args).fetchall()

        return call

    get_calls = [run(sql, COMMUNE, AS_OF_NEW) for sql in GET_SQL]

    async def get() -> None:
        for call in get_calls:
            await call()

    return {
        "list": run(LIST_SQL, LIST_PARENT, AS_OF_NEW),
        "get": get,
        "tree": run(TREE_SQL, PROVINCE, AS_OF_OLD),
    }


async def raw_postgres(url: str) -> tuple[dict[str, Timer], Callable[[], Awaitable[None]]]:
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        server_settings={"jit": "off"},
    )

    def run(sql: str, unit: uuid.UUID, on: date) -> Timer:
        statement = sql.format(p="$1", d="$2")

        async def call() -> Any:
            return await connection.fetch(statement, unit, on)

        return call

    get_calls = [run(sql, COMMUNE, AS_OF_NEW) for sql in GET_SQL]

    async def get() -> None:
        for call in get_calls:
            await call()

    timers = {
        "list": run(LIST_SQL, LIST_PARENT, AS_OF_NEW),
        "get": get,
        "tree": run(TREE_SQL, PROVINCE, AS_OF_OLD),
    }
    return timers, connection.close


async def bench_backend(label: str, url: str, rounds: int) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        log_level="WARNING",
    )
    engine = build_engine(settings)
    results: dict[str, Any] = {"backend": label}
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        started = time.perf_counter()
        async with database.session() as session:
            await seed_units(session, lambda _m: None)
            await session.commit()
        results["seed"] = time.perf_counter() - started
        started = time.perf_counter()
        async with database.session() as session:
            skipped = await seed_units(session, lambda _m: None)
            assert skipped.skipped
        results["reseed"] = time.perf_counter() - started

        app = create_app(settings, database=database)
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://bench") as client:

            def http(path: str, **params: Any) -> Timer:
                async def call() -> None:
                    response = await client.get(path, params=params)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")

                return call

            list_page = await client.get(
                "/api/v1/units", params={"parent_id": str(LIST_PARENT), "as_of": "2026-01-01"}
            )
            assert len(list_page.json()["items"]) == 50, list_page.text[:300]
            tree = await client.get(
                "/api/v1/units/tree", params={"root_id": str(PROVINCE), "as_of": "2024-06-01"}
            )
            # the list of 2024-05-01: 10 district-level units, 209 communes (issue 12)
            assert tree.json()["count"] == 220, tree.text[:300]
            within = await client.get(
                "/api/v1/units",
                params={"within": str(PROVINCE), "level": "commune", "as_of": "2024-06-01"},
            )
            assert len(within.json()["items"]) == 50, within.text[:300]

            http_timers = {
                "list": http("/api/v1/units", parent_id=str(LIST_PARENT), as_of="2026-01-01"),
                "get": http(f"/api/v1/units/{COMMUNE}", as_of="2026-01-01"),
                "tree": http("/api/v1/units/tree", root_id=str(PROVINCE), as_of="2024-06-01"),
                "within": http(
                    "/api/v1/units", within=str(PROVINCE), level="commune", as_of="2024-06-01"
                ),
            }

            async def in_session(work: Callable[[Any], Awaitable[Any]]) -> Timer:
                async def call() -> None:
                    async with database.session() as session:
                        await work(session)

                return call

            filters = service.UnitFilters(as_of=AS_OF_NEW, parent_id=LIST_PARENT)
            within_filters = service.UnitFilters(
                as_of=AS_OF_OLD, within=PROVINCE, level=UnitLevel.COMMUNE
            )
            service_timers = {
                "list": await in_session(lambda s: service.list_units(s, filters, 50, None)),
                "get": await in_session(lambda s: service.get_unit(s, COMMUNE, AS_OF_NEW)),
                "tree": await in_session(lambda s: service.tree(s, PROVINCE, 4, AS_OF_OLD)),
                "within": await in_session(
                    lambda s: service.list_units(s, within_filters, 50, None)
                ),
            }
            close: Callable[[], Awaitable[None]] | None = None
            if label == "sqlite":
                raw_timers = raw_sqlite(Path(make_url(url).database or ""))
            else:
                raw_timers, close = await raw_postgres(url)
            try:
                for name in ("list", "get", "tree", "within"):
                    results[name] = {
                        "http": await measure(http_timers[name], rounds),
                        "service": await measure(service_timers[name], rounds),
                        "raw": await measure(raw_timers[name], rounds)
                        if name in raw_timers
                        else (float("nan"), float("nan")),
                    }
            finally:
                if close is not None:
                    await close()
    finally:
        await engine.dispose()
    return results


def report(results: list[dict[str, Any]], parse_seconds: float) -> None:
    print(f"\nReading and parsing the bundled files alone: {parse_seconds:.2f} s")
    print(
        "\nSeed of the national dataset (15,197 units, 17,578 versions, 8,041 events, "
        "10,834 links, 3,379 classifications):"
    )
    for result in results:
        print(
            f"  {result['backend']:<10} first load {result['seed']:6.2f} s   "
            f"unchanged rerun {result['reseed'] * 1000:6.1f} ms   (target < 30 s)"
        )
    labels = {
        "list": "GET /units?parent_id=… (50 items)  target p50 < 10 ms",
        "get": "GET /units/{id}                    target p50 < 10 ms",
        "tree": "GET /units/tree (Bắc Giang, 220)   target < 100 ms",
        "within": "GET /units?within=Bắc Giang&level=commune (50)  target p50 < 10 ms",
    }
    print("\nLatency in ms, p50 / p99 (HTTP in-process; baselines: service call without HTTP,")
    print("the same SQL through the bare driver):")
    for name, label in labels.items():
        print(f"  {label}")
        for result in results:
            figures = result[name]
            cells = "   ".join(
                f"{kind} {figures[kind][0]:6.2f} / {figures[kind][1]:6.2f}"
                for kind in ("http", "service", "raw")
            )
            print(f"    {result['backend']:<10} {cells}")


async def run(rounds: int, postgres_url: str | None) -> None:
    started = time.perf_counter()
    read_dataset(DATA_DIR, __import__("app.db.types", fromlist=["utcnow"]).utcnow())
    parse_seconds = time.perf_counter() - started
    results = []
    with tempfile.TemporaryDirectory(prefix="ntm-bench-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        print(f"sqlite: {url}", flush=True)
        results.append(await bench_backend("sqlite", url, rounds))
    if postgres_url:
        print(f"postgresql: {postgres_url}", flush=True)
        try:
            await recreate_postgres(postgres_url)
        except (OSError, ConnectionError) as exc:
            print(f"postgresql: skipped, not reachable ({type(exc).__name__})")
        else:
            try:
                results.append(await bench_backend("postgresql", postgres_url, rounds))
            finally:
                with contextlib.suppress(Exception):
                    await drop_postgres(postgres_url)
    report(results, parse_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.units", description=__doc__)
    parser.add_argument("--rounds", type=int, default=300, help="requests per figure")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(run(args.rounds, None if args.no_postgres else args.postgres_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
