"""Concurrent writers: ``python -m bench.writers [--seconds S] [--writers N] [--no-postgres]``.

Twenty writers (``--writers``) create villages through ``POST /api/v1/units`` for a bounded time
(``--seconds``, default 10) against one app in one process (httpx ASGI transport), on a throwaway
SQLite file and on PostgreSQL (``ntm_bench_writers``, created and dropped), with the national map
seeded. It prints, per database, the writes acknowledged, the 503s and any other failure, and the
rate; beside them, in the same run, the rate of the same writes made one at a time (the baseline).

Target (issue 10, item 5): 0 × 503 on SQLite for 20 concurrent writers in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import tempfile
import time
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from app.config import Settings
from app.db import migrate
from app.db.engine import Database, build_engine
from app.main import create_app
from app.models.units import UnitVersion
from app.seed import run_all
from bench.assessments import admin_headers, recreate_postgres

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ntm_bench_writers"
COMMUNE_CODE = "07444"  # Xã Lục Nam, Bắc Ninh (since 2025-07-01)


async def _writes(
    client: AsyncClient, parent_id: str, writers: int, seconds: float, tag: str
) -> tuple[collections.Counter[int], float]:
    statuses: collections.Counter[int] = collections.Counter()
    deadline = time.perf_counter() + seconds

    async def writer(number: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            i += 1
            body = {
                "type": "thon",
                "code": f"{tag}{number}-{i}",
                "name": f"Thôn {tag} {number}-{i}",
                "parent_id": parent_id,
            }
            response = await client.post("/api/v1/units", json=body)
            statuses[response.status_code] += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(n) for n in range(writers)))
    return statuses, time.perf_counter() - started


async def run_backend(name: str, url: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        var_dir=work / name,
        data_dir=work / name / "files",
        log_level="ERROR",
    )
    engine = build_engine(settings)
    out: dict[str, Any] = {"backend": name}
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        async with database.session() as session:
            await run_all(session, lambda _message: None)
            parent_id = await session.scalar(
                select(UnitVersion.unit_id)
                .where(UnitVersion.code == COMMUNE_CODE)
                .order_by(UnitVersion.valid_from.desc())
            )
        headers = await admin_headers(database, settings)
        app = create_app(settings, database=database)
        async with AsyncClient(
            transport=ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://bench",
            headers=headers,
            timeout=120,
        ) as client:
            baseline, base_s = await _writes(client, str(parent_id), 1, args.seconds / 2, "b")
            statuses, elapsed = await _writes(
                client, str(parent_id), args.writers, args.seconds, "c"
            )
        out["baseline_rate"] = sum(baseline.values()) / base_s
        out["statuses"] = dict(statuses)
        out["rate"] = statuses[201] / elapsed
    finally:
        await engine.dispose()
    return out


def report(result: dict[str, Any], writers: int) -> None:
    statuses = result["statuses"]
    ok = statuses.get(201, 0)
    unavailable = statuses.get(503, 0)
    other = {k: v for k, v in statuses.items() if k not in (201, 503)}
    print(
        f"{result['backend']:>10}: {writers} writers: {ok} acknowledged, {unavailable} × 503, "
        f"other {other or 'none'}; {result['rate']:.0f} writes/s "
        f"(one writer alone, same run: {result['baseline_rate']:.0f} writes/s)"
    )


async def amain(args: argparse.Namespace) -> int:
    status = 0
    with tempfile.TemporaryDirectory(prefix="ntm-bench-writers-") as tmp:
        work = Path(tmp)
        backends = [("sqlite", f"sqlite+aiosqlite:///{work}/bench.db")]
        if not args.no_postgres:
            backends.append(("postgresql", POSTGRES_URL))
        for name, url in backends:
            if name == "postgresql":
                await recreate_postgres(url)
            try:
                result = await run_backend(name, url, work, args)
            finally:
                if name == "postgresql":
                    await recreate_postgres(url, drop_only=True)
            report(result, args.writers)
            if name == "sqlite" and result["statuses"].get(503, 0):
                print("  target missed: the embedded default answered 503 to a writer")
                status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
