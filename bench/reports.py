"""Benchmark of reports and exports: ``python -m bench.reports [--no-national] [--database-url …]``.

On a throwaway PostgreSQL database (``ntm_bench_reports`` unless ``--database-url`` names another;
created and dropped) with the national map seeded, every pre-2025 commune assessed for 2024
against a 66-indicator set (≈ 663,000 values, imported through the API as ``bench.assessments``
does) and NTM titles recorded for 70 % of them:

- ``GET /reports/summary`` for Bắc Giang (≈ 200 communes) and for the whole country as of 2024
  (≈ 10,000 communes), first before any result is kept (every assessment evaluated by the engine,
  as reports did before results were kept: the baseline of the same run), then after the
  worker's refresh stored them (timed too); beside it its parts alone: the map and register reads
  (``units_in_subtree`` + ``titles_held``) and the evaluation of the same assessments
  (``evaluate_many``), so the figure shows where the time goes;
- ``GET /reports/series`` for the whole country 2019–2026 (a 2016–2020 copy of the set makes
  2019 a year with a published set), each year on its own map;
- ``GET /exports/indicator-values?year=2024`` as CSV: rows per second and the process's peak
  resident memory while it streams (the ASGI app is called directly and the body is counted, not
  kept); beside it, PostgreSQL's own ``COPY (SELECT …) TO STDOUT`` of the same rows.

Targets (issue 15): province summary < 200 ms, national < 2 s, national series 2019–2026 < 10 s;
CSV ≥ 100,000 rows/s with flat memory.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import insert, select, text

from app.assessments.service import evaluation, results
from app.config import Settings
from app.db import migrate
from app.db.engine import Database, build_engine
from app.main import create_app
from app.models.assessments import Assessment
from app.models.recognitions import Recognition
from app.models.units import UnitVersion
from app.recognitions import query as register
from app.seed import run_all
from app.units import query as units
from bench.assessments import (
    PROVINCE_CODE,
    PeakMemory,
    admin_headers,
    bench_set,
    commune_codes,
    recreate_postgres,
    timed,
    write_csv,
)

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ntm_bench_reports"
ON = date(2024, 6, 1)
YEAR = 2024


async def _asgi_get(app: Any, path: str, query: str, headers: dict[str, str]) -> tuple[int, int]:
    """Call the app as a server would and count the body's bytes and lines without keeping it."""
    state = {"status": 0, "bytes": 0, "lines": 0}
    asked = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        # The request once, then what a server does: wait until the client goes away. (Answering
        # the request again at once made a streaming response's disconnect listener spin without
        # ever yielding, so the export never progressed.)
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            state["bytes"] += len(body)
            state["lines"] += body.count(b"\n")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "server": ("bench", 80),
        "client": ("127.0.0.1", 50000),
    }
    try:
        await app(scope, receive, send)
    finally:
        done.set()
    if state["status"] != 200:
        raise RuntimeError(f"{path} answered {state['status']}")
    return state["lines"], state["bytes"]


async def _grant_titles(database: Database, share: float) -> int:
    v = UnitVersion.__table__
    rng = random.Random(15)
    async with database.session() as session:
        ids = (
            await session.execute(
                select(v.c.unit_id).where(
                    v.c.level == "commune", v.c.type == "xa", v.c.valid_from <= ON,
                    v.c.valid_to > ON,
                )
            )
        ).scalars().all()  # fmt: skip
        chosen = [unit_id for unit_id in ids if rng.random() < share]
        rows = [
            {
                "id": uuid.uuid4(),
                "unit_id": unit_id,
                "title": "ntm_commune",
                "year_for": 2022,
                "decision_number": f"BENCH-{n}/QĐ-UBND",
                "decision_date": date(2023, 1, 15),
                "signer": "bench",
                "source": "historical",
            }
            for n, unit_id in enumerate(chosen)
        ]
        await session.execute(insert(Recognition), rows)
        await session.commit()
        await session.execute(text("ANALYZE"))
        await session.commit()
    return len(chosen)


async def _parts(database: Database, root: uuid.UUID | None, set_id: str) -> dict[str, float]:
    """The summary's parts alone: map + register reads, and the evaluation of its assessments."""
    async with database.session() as session:
        started = time.perf_counter()
        if root is None:
            roots = [p.unit_id for p in await units.versions_at_level(session, "province", _on())]
        else:
            roots = [root]
        inside = await units.units_in_subtree(session, roots, ON)
        communes = [u.unit_id for u in inside if u.level == "commune"]
        await register.titles_held(session, [u.unit_id for u in inside], ON)
        reads = time.perf_counter() - started
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
        started = time.perf_counter()
        for start in range(0, len(ids), 500):
            await evaluation.evaluate_many(session, ids[start : start + 500])
        evaluated = time.perf_counter() - started
    return {"reads_ms": reads * 1e3, "evaluate_ms": evaluated * 1e3, "assessments": len(ids)}


def _on() -> Any:
    from app.db.intervals import Period

    return Period.on(ON)


async def _summaries(
    client: AsyncClient, params: dict[str, Any], samples: int
) -> tuple[float, dict[str, Any]]:
    """The median of ``samples`` summaries (the first one too: each is read the same way)."""
    times = []
    body: dict[str, Any] = {}
    for _ in range(samples):
        elapsed, response = await timed(
            lambda: client.get("/api/v1/reports/summary", params=params)
        )
        response.raise_for_status()
        body = response.json()
        times.append(elapsed)
    return statistics.median(times), body


def _older_set() -> dict[str, Any]:
    """The bench set for 2016–2020, so that a series may start in 2019."""
    older = bench_set()
    older.update(code="BENCH-2016-2020", period={"start_year": 2016, "end_year": 2020})
    return older


async def run(work: Path, national: bool, url: str) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        var_dir=work,
        data_dir=work / "files",
        log_level="WARNING",
    )
    engine = build_engine(settings)
    out: dict[str, Any] = {}
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        async with database.session() as session:
            await run_all(session, lambda _message: None)
            codes = await commune_codes(session)
        headers = await admin_headers(database, settings)
        app = create_app(settings, database=database)
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://bench", headers=headers,
            timeout=600,
        ) as client:  # fmt: skip
            created = await client.post("/api/v1/criteria-sets", json=bench_set())
            created.raise_for_status()
            set_id = created.json()["id"]
            (await client.post(f"/api/v1/criteria-sets/{set_id}/publish")).raise_for_status()
            csv_path = work / "values.csv"
            out["values"] = write_csv(csv_path, codes)
            with csv_path.open("rb") as handle:
                imported = await client.post(
                    "/api/v1/indicator-values/import",
                    params={"criteria_set_id": set_id, "async": "false"},
                    files={"file": ("values.csv", handle, "text/csv")},
                )
            if imported.status_code not in (200, 201):
                raise RuntimeError(imported.text[:2000])
            out["titled_communes"] = await _grant_titles(database, 0.7)
            found = await client.get(
                "/api/v1/units",
                params={"code": PROVINCE_CODE, "level": "province", "as_of": ON.isoformat()},
            )
            province = uuid.UUID(found.json()["items"][0]["id"])

            params = {"unit_id": str(province), "year": YEAR, "as_of": ON.isoformat(),
                      "criteria_set_id": set_id}  # fmt: skip
            national_params = {k: v for k, v in params.items() if k != "unit_id"}
            # Before any result is kept: every assessment evaluated by the engine (the baseline).
            out["province_engine_ms"], cold = await _summaries(client, params, 3)
            out["province_engine_ms"] *= 1e3
            if national:
                out["national_engine_s"], national_cold = await _summaries(
                    client, national_params, 1
                )
            started = time.perf_counter()
            out["refreshed"] = await results.refresh_all(database)
            out["refresh_s"] = time.perf_counter() - started

            elapsed, body = await _summaries(client, params, 7)
            if body["computed_attainment"] != cold["computed_attainment"]:
                raise RuntimeError("kept results differ from the engine's (province)")
            out["province_communes"] = body["communes"]["denominator"]
            out["province_summary_p50_ms"] = elapsed * 1e3
            out["province_parts"] = await _parts(database, province, set_id)

            if national:
                elapsed, body = await _summaries(client, national_params, 3)
                if body["computed_attainment"] != national_cold["computed_attainment"]:
                    raise RuntimeError("kept results differ from the engine's (national)")
                out["national_communes"] = body["communes"]["denominator"]
                out["national_summary_s"] = elapsed
                out["national_parts"] = await _parts(database, None, set_id)

                older = await client.post("/api/v1/criteria-sets", json=_older_set())
                older.raise_for_status()
                published = await client.post(f"/api/v1/criteria-sets/{older.json()['id']}/publish")
                published.raise_for_status()
                series_params = {"from": 2019, "to": 2026, "group_by": "province"}
                times = []
                for _ in range(2):
                    elapsed, response = await timed(
                        lambda: client.get("/api/v1/reports/series", params=series_params)
                    )
                    response.raise_for_status()
                    times.append(elapsed)
                out["series_s"] = statistics.median(times)
                out["series_years"] = len(response.json()["items"])

        report_reports(out)  # printed now: the export below takes a while
        query = f"year={YEAR}&criteria_set_id={set_id}&format=csv"
        with PeakMemory() as memory:
            before = memory.rss_kib()
            cpu = time.process_time()
            elapsed, (lines, size) = await timed(
                lambda: _asgi_get(app, "/api/v1/exports/indicator-values", query, headers)
            )
            out["csv_cpu_s"] = time.process_time() - cpu
        out["csv_rows"] = lines - 1
        out["csv_mib"] = size / 2**20
        out["csv_s"] = elapsed
        out["csv_rows_per_s"] = (lines - 1) / elapsed
        out["csv_rss_before_mib"] = before / 1024
        out["csv_peak_rss_mib"] = memory.peak_kib / 1024

        raw = await engine.raw_connection()
        try:
            connection = raw.driver_connection
            rows_sql = (
                "SELECT v.assessment_id, a.unit_id, a.year, a.kind, a.status, v.indicator_id,"
                " v.value_number, v.value_bool, v.judgement, v.note, v.source, v.entered_at"
                " FROM indicator_values v JOIN assessments a ON a.id = v.assessment_id"
                f" WHERE a.year = {YEAR}"
            )
            counted = {"bytes": 0}

            async def sink(chunk: bytes) -> None:
                counted["bytes"] += len(chunk)

            started = time.perf_counter()
            await connection.copy_from_query(rows_sql, output=sink, format="csv")
            out["copy_s"] = time.perf_counter() - started
            out["copy_rows_per_s"] = out["csv_rows"] / out["copy_s"]
        finally:
            raw.close()
    finally:
        await engine.dispose()
    return out


def report(out: dict[str, Any]) -> None:
    report_reports(out)
    report_export(out)


def report_reports(out: dict[str, Any]) -> None:
    print(f"values imported: {out['values']:,}; communes titled NTM: {out['titled_communes']:,}")
    print(
        f"worker's refresh of the kept results: {out['refreshed']:,} assessments evaluated and "
        f"stored in {out['refresh_s']:.1f} s"
    )
    parts = out["province_parts"]
    print(
        f"summary, Bắc Giang ({out['province_communes']} rural communes): "
        f"p50 {out['province_summary_p50_ms']:.0f} ms with kept results (target < 200 ms) | "
        f"same run: {out['province_engine_ms']:.0f} ms before any was kept (engine); parts "
        f"alone: map + register {parts['reads_ms']:.0f} ms, evaluating its "
        f"{parts['assessments']} assessments {parts['evaluate_ms']:.0f} ms"
    )
    if "national_summary_s" in out:
        parts = out["national_parts"]
        print(
            f"summary, national ({out['national_communes']:,} rural communes): "
            f"p50 {out['national_summary_s']:.2f} s with kept results (target < 2 s) | same run: "
            f"{out['national_engine_s']:.2f} s before any was kept (engine); parts alone: map + "
            f"register {parts['reads_ms']:.0f} ms, evaluating {parts['assessments']:,} "
            f"assessments {parts['evaluate_ms'] / 1e3:.2f} s"
        )
        print(
            f"series, national 2019–2026 by province ({out['series_years']} years): "
            f"p50 {out['series_s']:.2f} s (target < 10 s)"
        )


def report_export(out: dict[str, Any]) -> None:
    print(
        f"CSV export of {out['csv_rows']:,} indicator values ({out['csv_mib']:.0f} MiB): "
        f"{out['csv_s']:.2f} s, {out['csv_rows_per_s']:,.0f} rows/s (target ≥ 100,000) | "
        f"baseline COPY TO STDOUT of the same rows: {out['copy_s']:.2f} s, "
        f"{out['copy_rows_per_s']:,.0f} rows/s"
    )
    print(
        f"CPU of this process while exporting: {out['csv_cpu_s']:.2f} s, "
        f"{out['csv_rows'] / out['csv_cpu_s']:,.0f} rows per CPU-second (the wall-clock rate "
        "above is lower when other processes share the cores)"
    )
    print(
        f"memory while exporting: {out['csv_rss_before_mib']:.0f} MiB before, peak "
        f"{out['csv_peak_rss_mib']:.0f} MiB"
    )


async def amain(args: argparse.Namespace) -> int:
    await recreate_postgres(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="ntm-bench-reports-") as folder:
            out = await run(Path(folder), not args.no_national, args.database_url)
    finally:
        if not args.keep:
            await recreate_postgres(args.database_url, drop_only=True)
    report_export(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--no-national", action="store_true")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards (to profile against it)"
    )
    parser.add_argument(
        "--database-url",
        default=POSTGRES_URL,
        help="the throwaway PostgreSQL database (created, then dropped)",
    )
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
