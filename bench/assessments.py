"""Benchmark of assessments: ``python -m bench.assessments [--no-postgres] [--no-sqlite]``.

On throwaway databases (``ntm_bench_assess`` on the local PostgreSQL, created and dropped; a
temporary SQLite file), with the national map seeded and a criteria set of 66 indicators:

- the import of every pre-2025 commune × 66 indicators (≈ 663,000 values) from one CSV through
  ``POST /api/v1/indicator-values/import`` (in-process, httpx ASGI transport, the file streamed
  from disk), then the same file again (everything unchanged);
- next to it, measured in the same run on the same database: the database-only baseline (the
  same typed rows ``COPY``'d into a staging table and upserted into ``indicator_values`` with one
  ``INSERT … ON CONFLICT``), and a raw ``COPY`` into an empty table;
- the peak resident memory of the process while the import runs (sampled), and overall;
- evaluating one assessment (p50 of the service call and of ``GET …/evaluation``), and
  re-evaluating every commune of a pre-2025 province (Bắc Giang, ~200) in one call.

Targets (issue 6): import ≥ half the baseline rate; SQLite under 3× PostgreSQL; memory under
500 MB; one evaluation under 20 ms; a province's ~200 communes under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import resource
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.assessments.service import evaluation
from app.config import Settings
from app.core.permissions import Role
from app.core.query import prepare as prepare_query_check
from app.core.security import PrincipalKind, issue_access_token
from app.db import migrate
from app.db.engine import Database, build_engine
from app.main import create_app
from app.models.assessments import Assessment
from app.models.identity import RoleAssignment, User
from app.models.units import UnitVersion
from app.seed import run_all

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ntm_bench_assess"
YEAR = 2024
ON = date(2024, 6, 1)
CRITERIA = 11
PER_CRITERION = 6
PROVINCE_CODE = "24"  # Bắc Giang before 2025
REGIONS = ("TDMNPB", "DBSH", "BTB", "DHNTB", "TN", "DNB", "DBSCL")


# --- the criteria set and the file ----------------------------------------------------------


def bench_set() -> dict[str, Any]:
    """A set shaped like a national one. Its numbers are benchmark fixtures, not legal values."""
    criteria = []
    for number in range(1, CRITERIA + 1):
        indicators = []
        for k in range(1, PER_CRITERION + 1):
            code = f"{number}.{k}"
            if k == PER_CRITERION:
                indicators.append(
                    {
                        "code": code,
                        "name": {"vi": f"Chỉ tiêu {code}"},
                        "kind": "boolean",
                        "comparator": "eq",
                        "thresholds": [{"value": True}],
                    }
                )
                continue
            thresholds: list[dict[str, Any]] = [{"value": 50 + k}]
            if k == 1:
                thresholds = [
                    {"value": 40 + i, "when": {"region": region}}
                    for i, region in enumerate(REGIONS)
                ]
            indicators.append(
                {
                    "code": code,
                    "name": {"vi": f"Chỉ tiêu {code}"},
                    "kind": "number",
                    "unit": "%",
                    "comparator": "ge",
                    "value_min": 0,
                    "value_max": 100,
                    "thresholds": thresholds,
                }
            )
        criteria.append(
            {
                "number": number,
                "name": {"vi": f"Tiêu chí {number}"},
                "rule": {"kind": "all"},
                "indicators": indicators,
            }
        )
    return {
        "code": "BENCH-ASSESSMENTS",
        "name": {"vi": "Bộ tiêu chí đo hiệu năng (không phải văn bản pháp lý)"},
        "title": "ntm_commune",
        "level": "commune",
        "period": {"start_year": 2021, "end_year": 2025},
        "legal_basis": {"number": "BENCH"},
        "criteria": criteria,
    }


def write_csv(path: Path, codes: list[str], seed: int = 6) -> int:
    """One row per commune and indicator, written as a stream."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_code", "year", "indicator_code", "value", "note"])
        for code in codes:
            for number in range(1, CRITERIA + 1):
                for k in range(1, PER_CRITERION + 1):
                    if k == PER_CRITERION:
                        value = "true" if rng.random() < 0.8 else "false"
                    else:
                        value = f"{rng.uniform(20, 100):.1f}"
                    writer.writerow([code, YEAR, f"{number}.{k}", value, ""])
                    rows += 1
    return rows


# --- measuring -------------------------------------------------------------------------------


class PeakMemory:
    """Samples the resident set size every 20 ms while active (Linux /proc)."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def rss_kib() -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self.rss_kib())
            self._stop.wait(0.02)

    def __enter__(self) -> PeakMemory:
        self.peak_kib = self.rss_kib()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await fn()
    return time.perf_counter() - started, result


def cpu_seconds() -> float:
    """This process's CPU time (every thread): unlike the wall clock, it does not grow when
    other programs take the machine's cores, so it compares two runs on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


# --- databases -----------------------------------------------------------------------------


async def recreate_postgres(url: str, *, drop_only: bool = False) -> None:
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            )
            if not drop_only:
                await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()


async def admin_headers(database: Database, settings: Settings) -> dict[str, str]:
    user_id = uuid.uuid4()
    async with database.session() as session:
        session.add(
            User(
                id=user_id,
                username="bench-admin",
                display_name="bench",
                password_hash="not-a-password",
            )
        )
        await session.flush()
        session.add(RoleAssignment(user_id=user_id, role=str(Role.SYSTEM_ADMIN), unit_id=None))
        await session.commit()
    issued = issue_access_token(settings, subject=user_id, kind=PrincipalKind.USER)
    return {"Authorization": f"Bearer {issued.token}"}


async def commune_codes(session: AsyncSession) -> list[str]:
    v = UnitVersion.__table__
    rows = await session.execute(
        select(v.c.code)
        .where(v.c.level == "commune", v.c.valid_from <= ON, v.c.valid_to > ON)
        .order_by(v.c.code)
    )
    return [row.code for row in rows]


# --- one backend -------------------------------------------------------------------------------


async def run_backend(name: str, url: str, work: Path, csv_path: Path | None) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        var_dir=work / name,
        data_dir=work / name / "files",
        log_level="WARNING",
    )
    engine = build_engine(settings)
    out: dict[str, Any] = {"backend": name}
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        started = time.perf_counter()
        async with database.session() as session:
            await run_all(session, lambda _message: None)
        out["seed_s"] = time.perf_counter() - started
        headers = await admin_headers(database, settings)
        app = create_app(settings, database=database)
        # What a started server does in its lifespan (httpx's ASGI transport runs none): the
        # query-parameter check's table, from the OpenAPI document, is made before any request.
        prepare_query_check(app)
        transport = ASGITransport(app=app)
        async with AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=600
        ) as client:
            created = await client.post("/api/v1/criteria-sets", json=bench_set())
            created.raise_for_status()
            set_id = created.json()["id"]
            (await client.post(f"/api/v1/criteria-sets/{set_id}/publish")).raise_for_status()

            if csv_path is None:
                async with database.session() as session:
                    codes = await commune_codes(session)
                csv_path = work / "values.csv"
                out["communes"] = len(codes)
                out["rows_written"] = write_csv(csv_path, codes)
            out["csv_path"] = csv_path

            async def post() -> dict[str, Any]:
                with csv_path.open("rb") as handle:  # type: ignore[union-attr]
                    response = await client.post(
                        "/api/v1/indicator-values/import",
                        params={"criteria_set_id": set_id, "async": "false"},
                        files={"file": ("values.csv", handle, "text/csv")},
                    )
                # 201 when the run created values, 200 when nothing changed (the import rule).
                if response.status_code not in (200, 201):
                    raise RuntimeError(response.text[:2000])
                return dict(response.json())

            await checkpoint(engine)
            cpu = cpu_seconds()
            with PeakMemory() as memory:
                out["import_s"], summary = await timed(post)
            out["import_cpu_s"] = cpu_seconds() - cpu
            out["import_peak_rss_mib"] = memory.peak_kib / 1024
            out["import_summary"] = {
                k: summary[k] for k in ("rows", "created", "updated", "unchanged", "rejected")
            }
            await checkpoint(engine)
            cpu = cpu_seconds()
            out["reimport_s"], again = await timed(post)
            out["reimport_cpu_s"] = cpu_seconds() - cpu
            out["reimport_summary"] = {k: again[k] for k in ("created", "updated", "unchanged")}

            await measure_evaluation(client, database, set_id, out)
            if name == "postgresql":
                await measure_baselines(engine, database, csv_path, set_id, out)
    finally:
        await engine.dispose()
    out["process_max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


async def measure_evaluation(
    client: AsyncClient, database: Database, set_id: str, out: dict[str, Any]
) -> None:
    async with database.session() as session:
        v = UnitVersion.__table__
        province = (
            await session.execute(
                select(v.c.unit_id).where(
                    v.c.level == "province",
                    v.c.code == PROVINCE_CODE,
                    v.c.valid_from <= ON,
                    v.c.valid_to > ON,
                )
            )
        ).scalar_one()
        districts = select(v.c.unit_id).where(
            v.c.parent_id == province, v.c.valid_from <= ON, v.c.valid_to > ON
        )
        communes = select(v.c.unit_id).where(
            v.c.parent_id.in_(districts), v.c.valid_from <= ON, v.c.valid_to > ON
        )
        a = Assessment.__table__
        ids = list(
            (
                await session.execute(
                    select(a.c.id).where(
                        a.c.criteria_set_id == uuid.UUID(set_id), a.c.unit_id.in_(communes)
                    )
                )
            ).scalars()
        )
    one = ids[0]
    service_samples, http_samples = [], []
    for _ in range(30):
        async with database.session() as session:
            elapsed, _result = await timed(lambda s=session: evaluation.evaluation(s, one))
        service_samples.append(elapsed)
        elapsed, response = await timed(lambda: client.get(f"/api/v1/assessments/{one}/evaluation"))
        response.raise_for_status()
        http_samples.append(elapsed)
    out["evaluate_one_service_p50_ms"] = p50(service_samples)
    out["evaluate_one_http_p50_ms"] = p50(http_samples)
    many = []
    for _ in range(5):
        async with database.session() as session:
            elapsed, result = await timed(lambda s=session: evaluation.evaluate_many(s, ids))
        many.append(elapsed)
    out["province_communes"] = len(result)
    out["evaluate_province_p50_ms"] = p50(many)


BASELINE_COLUMNS = ("assessment_id", "indicator_id", "value_number", "value_bool")


async def checkpoint(engine: Any) -> None:
    """Start each timed step on PostgreSQL from a settled database, as autovacuum keeps a
    production one (this machine's PostgreSQL runs with ``autovacuum = off``): the dead row
    versions the step before left vacuumed (each import bumps the revision of every assessment
    it touches, and every foreign-key check of the next step would walk those versions), the
    statistics fresh, and the WAL flushed (otherwise a checkpoint forced by the previous step's
    WAL volume lands inside whichever step comes next)."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) assessments, indicators, indicator_values"))
        await autocommit.execute(text("CHECKPOINT"))


async def measure_baselines(
    engine: Any, database: Database, csv_path: Path, set_id: str, out: dict[str, Any]
) -> None:
    """The same rows, typed in memory beforehand, through the database alone."""
    async with database.session() as session:
        units = dict(
            (
                await session.execute(
                    text(
                        "SELECT v.code, a.id FROM assessments a JOIN unit_versions v "
                        "ON v.unit_id = a.unit_id AND v.valid_from <= :on AND v.valid_to > :on "
                        "WHERE a.criteria_set_id = :set"
                    ),
                    {"on": ON, "set": uuid.UUID(set_id)},
                )
            ).all()
        )
        indicators = dict(
            (
                await session.execute(
                    text("SELECT code, id FROM indicators WHERE criteria_set_id = :set"),
                    {"set": uuid.UUID(set_id)},
                )
            ).all()
        )
    records: list[tuple[Any, ...]] = []
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for code, _year, indicator, value, _note in reader:
            number, flag = (
                (None, value == "true") if value in ("true", "false") else (float(value), None)
            )
            records.append((units[code], indicators[indicator], number, flag))
    out["baseline_rows"] = len(records)
    async with engine.connect() as connection:
        await connection.execute(text("TRUNCATE indicator_value_history, indicator_values"))
        await connection.commit()
        await checkpoint(engine)
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        started = time.perf_counter()
        async with driver.transaction():
            await driver.execute(
                "CREATE TEMPORARY TABLE bench_stage (assessment_id uuid, indicator_id uuid, "
                "value_number double precision, value_bool boolean) ON COMMIT DROP"
            )
            await driver.copy_records_to_table(
                "bench_stage", records=records, columns=BASELINE_COLUMNS
            )
            await driver.execute(
                "INSERT INTO indicator_values (assessment_id, indicator_id, value_number, "
                "value_bool, entered_at) SELECT assessment_id, indicator_id, value_number, "
                "value_bool, now() FROM bench_stage ON CONFLICT (assessment_id, indicator_id) "
                "DO UPDATE SET value_number = EXCLUDED.value_number, value_bool = "
                "EXCLUDED.value_bool WHERE (indicator_values.value_number, "
                "indicator_values.value_bool) IS DISTINCT FROM (EXCLUDED.value_number, "
                "EXCLUDED.value_bool)"
            )
        out["baseline_copy_upsert_s"] = time.perf_counter() - started
        started = time.perf_counter()
        async with driver.transaction():
            await driver.execute(
                "CREATE TABLE bench_raw (assessment_id uuid, indicator_id uuid, "
                "value_number double precision, value_bool boolean)"
            )
            await driver.copy_records_to_table(
                "bench_raw", records=records, columns=BASELINE_COLUMNS
            )
        out["baseline_raw_copy_s"] = time.perf_counter() - started
        await driver.execute("DROP TABLE bench_raw")


# --- report ----------------------------------------------------------------------------------


def report(results: list[dict[str, Any]]) -> None:
    by = {r["backend"]: r for r in results}
    print()
    print("assessments benchmark")
    for r in results:
        rows = r["import_summary"]["rows"]
        print(f"\n[{r['backend']}]  seed {r['seed_s']:.1f} s")
        print(
            f"  import of {rows:,} values through the API: {r['import_s']:.2f} s "
            f"({rows / r['import_s']:,.0f} values/s), summary {r['import_summary']}"
        )
        print(
            f"  the service's CPU for it (this process, every thread): {r['import_cpu_s']:.2f} s "
            f"({r['import_cpu_s'] / rows * 1e6:.1f} µs per value)"
        )
        print(
            f"  same file again (unchanged): {r['reimport_s']:.2f} s {r['reimport_summary']}; "
            f"CPU {r['reimport_cpu_s']:.2f} s ({r['reimport_cpu_s'] / rows * 1e6:.1f} µs per value)"
        )
        print(f"  peak RSS during the import: {r['import_peak_rss_mib']:.0f} MiB (target < 500)")
        print(f"  process max RSS (seed included): {r['process_max_rss_mib']:.0f} MiB")
        print(
            f"  evaluate one assessment: service p50 {r['evaluate_one_service_p50_ms']:.1f} ms, "
            f"HTTP p50 {r['evaluate_one_http_p50_ms']:.1f} ms (target < 20)"
        )
        print(
            f"  re-evaluate {r['province_communes']} communes of province {PROVINCE_CODE}: "
            f"p50 {r['evaluate_province_p50_ms']:.0f} ms (target < 1000)"
        )
        if "baseline_copy_upsert_s" in r:
            base, raw = r["baseline_copy_upsert_s"], r["baseline_raw_copy_s"]
            print(
                f"  baseline, same {r['baseline_rows']:,} rows: COPY to staging + one INSERT … "
                f"ON CONFLICT {base:.2f} s; raw COPY into an empty table {raw:.2f} s"
            )
            print(f"  API import rate / baseline rate = {base / r['import_s']:.2f} (target ≥ 0.5)")
    if "postgresql" in by and "sqlite" in by:
        ratio = by["sqlite"]["import_s"] / by["postgresql"]["import_s"]
        print(f"\nSQLite import time / PostgreSQL import time = {ratio:.2f} (target < 3)")


async def amain(args: argparse.Namespace) -> int:
    results = []
    with tempfile.TemporaryDirectory(prefix="ntm-bench-assess-") as folder:
        work = Path(folder)
        csv_path: Path | None = None
        if not args.no_postgres:
            await recreate_postgres(POSTGRES_URL)
            try:
                result = await run_backend("postgresql", POSTGRES_URL, work, None)
            finally:
                await recreate_postgres(POSTGRES_URL, drop_only=True)
            csv_path = result["csv_path"]
            results.append(result)
        if not args.no_sqlite:
            url = f"sqlite+aiosqlite:///{work}/bench.db"
            results.append(await run_backend("sqlite", url, work, csv_path))
    report(results)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
