"""The service under concurrency: ``python -m bench.concurrency [--quick] [--rounds N]``.

Issue 16. The service is started as production starts it (``ntm serve``, one uvicorn worker,
PostgreSQL migrated and seeded, a published criteria set with values imported for every pre-2025
commune through the API — the helpers of ``bench.assessments``), and driven by ``wrk`` at 64
connections for a bounded time per round. Two baselines are served the same way in the same run
(``bench.baselines``): a bare FastAPI ``/ping`` (no database, no middleware) and a raw-asyncpg app
replaying the SQL the service sent for the same URLs. Rounds are interleaved (every target once
per round, order rotated), so that a noisy machine moves the service and its baseline together;
each ratio is computed within a round and the median over rounds is reported.

Printed and written to ``bench/RESULTS.md``: req/s, p50/p99 latency (``wrk --latency``), the
server's CPU per request (``/proc/<pid>/stat`` utime+stime before and after a round), the ratios,
the date, the machine and how processes were placed (``taskset``). Non-2xx answers or socket
errors fail the run: a fast error is not a result.

Needs ``wrk`` (Debian package ``wrk``; ``make bench-http`` installs it with apt-get when missing)
and PostgreSQL at ``--database-url`` (default the local server; database ``ntm_bench_http_run``,
created and dropped). ``--quick``: values for one province only, 2 rounds of 4 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.core.query import prepare as prepare_query_check
from app.db import migrate
from app.db.engine import Database, build_engine
from app.main import create_app
from app.models.units import UnitVersion
from app.seed import run_all
from bench.assessments import (
    ON,
    admin_headers,
    bench_set,
    commune_codes,
    recreate_postgres,
    write_csv,
)
from bench.baselines import Recipe, Statement

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ntm_bench_http_run"
SECRET = "bench-secret-key-that-is-long-enough-for-hs256"
CONNECTIONS = 64
PORTS = {"service": 18201, "ping": 18202, "raw": 18203, "service2": 18204}
RESULTS = Path(__file__).with_name("RESULTS.md")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
QUICK_PROVINCE = "24"  # Bắc Giang before 2025: ~200 communes


@dataclass(frozen=True)
class Target:
    """One URL driven by wrk; ``baseline`` names the target its ratio is taken against."""

    name: str
    label: str
    server: str
    path: str
    baseline: str | None = None
    goal: float | None = None
    authorized: bool = False


@dataclass
class Sample:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    timeouts: int = 0


@dataclass
class Measured:
    target: Target
    samples: list[Sample] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(s, attribute) for s in self.samples)


# --- setting up the database -----------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """What the targets' URLs name, and the caller's token."""

    unit_id: uuid.UUID
    assessed_unit_id: uuid.UUID
    set_id: uuid.UUID
    assessment_id: uuid.UUID
    authorization: str
    values: int
    seconds: float


def settings_for(url: str, work: Path) -> Settings:
    return Settings(
        database_url=url,
        secret_key=SECRET,  # type: ignore[arg-type]
        var_dir=work / "var",
        data_dir=work / "var" / "files",
        log_level="WARNING",
    )


async def prepare(url: str, work: Path, quick: bool) -> Fixture:
    """Migrate, seed, publish the benchmark's criteria set and import its values (the API)."""
    started = time.perf_counter()
    await recreate_postgres(url)
    settings = settings_for(url, work)
    engine = build_engine(settings)
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        async with database.session() as session:
            await run_all(session, lambda _message: None)
        headers = await admin_headers(database, settings)
        app = create_app(settings, database=database)
        prepare_query_check(app)
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://bench", headers=headers, timeout=900
        ) as client:
            created = await client.post("/api/v1/criteria-sets", json=bench_set())
            created.raise_for_status()
            set_id = created.json()["id"]
            (await client.post(f"/api/v1/criteria-sets/{set_id}/publish")).raise_for_status()
            async with database.session() as session:
                codes = await commune_codes(session)
                if quick:
                    codes = await _province_communes(session, codes, QUICK_PROVINCE)
            csv_path = work / "values.csv"
            rows = write_csv(csv_path, codes)
            with csv_path.open("rb") as handle:
                response = await client.post(
                    "/api/v1/indicator-values/import",
                    params={"criteria_set_id": set_id, "async": "false"},
                    files={"file": ("values.csv", handle, "text/csv")},
                )
            if response.status_code not in (200, 201):
                raise RuntimeError(response.text[:2000])
        async with database.session() as session:
            unit_id, assessed_unit_id, assessment_id = await _picks(session, uuid.UUID(set_id))
    finally:
        await engine.dispose()
    return Fixture(
        unit_id=unit_id,
        assessed_unit_id=assessed_unit_id,
        set_id=uuid.UUID(set_id),
        assessment_id=assessment_id,
        authorization=headers["Authorization"],
        values=rows,
        seconds=time.perf_counter() - started,
    )


async def _province_communes(session: Any, codes: list[str], province_code: str) -> list[str]:
    rows = await session.execute(
        text(
            "SELECT c.code FROM unit_versions c JOIN unit_versions d ON d.unit_id = c.parent_id "
            "AND d.valid_from <= :on AND d.valid_to > :on JOIN unit_versions p "
            "ON p.unit_id = d.parent_id AND p.valid_from <= :on AND p.valid_to > :on "
            "WHERE c.level = 'commune' AND c.valid_from <= :on AND c.valid_to > :on "
            "AND p.code = :province"
        ),
        {"on": ON, "province": province_code},
    )
    wanted = {row.code for row in rows}
    return [code for code in codes if code in wanted]


async def _picks(session: Any, set_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A commune as it stands today (by its code, the first one); an assessment and its unit."""
    v = UnitVersion.__table__
    today = datetime.now(UTC).date()
    commune = (
        await session.execute(
            select(v.c.unit_id)
            .where(v.c.level == "commune", v.c.valid_from <= today, v.c.valid_to > today)
            .order_by(v.c.code)
            .limit(1)
        )
    ).scalar_one()
    assessment = (
        await session.execute(
            text(
                "SELECT a.id, a.unit_id FROM assessments a WHERE a.criteria_set_id = :set "
                "ORDER BY a.id LIMIT 1"
            ),
            {"set": set_id},
        )
    ).one()
    return commune, assessment.unit_id, assessment.id


# --- the raw baseline's SQL, taken from the service ------------------------------------------


RAW_TARGETS = {
    "raw_unit": ("/raw/unit/{unit_id}", "unit"),
    "raw_list": ("/raw/units/list", "list"),
    "raw_search": ("/raw/units/search", "search"),
}


async def capture(url: str, work: Path, paths: dict[str, str], fixture: Fixture) -> list[Recipe]:
    """The statements the service sends for each of ``paths`` (its second request: the first
    warms the connection and the caches), as recipes for ``bench.baselines.raw_app``."""
    settings = settings_for(url, work)
    engine = build_engine(settings)
    sent: list[Statement] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append(Statement(statement, tuple(parameters or ())))

    recipes = []
    try:
        app = create_app(settings, database=Database(engine))
        prepare_query_check(app)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
            for raw_path, service_target in RAW_TARGETS.values():
                path = paths[service_target]
                (await client.get(path)).raise_for_status()
                sent.clear()
                (await client.get(path)).raise_for_status()
                by_id = "{unit_id}" in raw_path
                recipes.append(
                    Recipe(
                        path=raw_path,
                        statements=tuple(sent),
                        unit_id=fixture.unit_id if by_id else None,
                    )
                )
    finally:
        await engine.dispose()
    return recipes


# --- servers and wrk -------------------------------------------------------------------------


class Server:
    """A server process on a loopback port, pinned with ``taskset`` when asked, stopped by pid."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("wb")
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=handle, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        """utime+stime of the process and its children (uvicorn's workers when there are)."""
        total = 0
        for pid in [self.pid, *_children(self.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return total / CLOCK_TICKS

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def wait_ready(url: str, server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(
        f"{server.name} did not answer {url} in {timeout} s: {server.log.read_text()[-3000:]}"
    )


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _duration_ms(text_value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text_value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: str
    # Requests wrk gave up on after --timeout: counted, not an error (a latency, not an answer).
    timeouts: int = 0


def parse_wrk(output: str) -> WrkResult:
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
    problems = [line.strip() for line in output.splitlines() if "Non-2xx" in line]
    timeouts = 0
    if found := re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        connect, read, write, timeouts = (int(x) for x in found.groups())
        if connect or read or write:
            problems.append(found.group(0))
    return WrkResult(
        requests, rate, _duration_ms(p50), _duration_ms(p99), "; ".join(problems), timeouts
    )


def run_wrk(url: str, seconds: float, headers: Sequence[str], pin: str | None) -> WrkResult:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    if pin is not None:
        command = ["taskset", "-c", pin, *command]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


# --- the run ---------------------------------------------------------------------------------


def targets(fixture: Fixture) -> list[Target]:
    unit = f"/api/v1/units/{fixture.unit_id}"
    return [
        Target("ping", "bare FastAPI `/ping` (no database)", "ping", "/ping"),
        Target("healthz", "`GET /healthz`", "service", "/healthz", "ping", 0.9),
        Target("raw_unit", "raw asyncpg: unit by id", "raw", f"/raw/unit/{fixture.unit_id}"),
        Target("unit", "`GET /units/{id}`", "service", unit, "raw_unit", 0.7),
        Target("raw_list", "raw asyncpg: list of 50", "raw", "/raw/units/list"),
        Target("list", "`GET /units?level=commune` (50)", "service", LIST_PATH, "raw_list", 0.7),
        Target("raw_search", "raw asyncpg: search", "raw", "/raw/units/search"),
        Target("search", "`GET /units?q=luc nam`", "service", SEARCH_PATH, "raw_search", 0.7),
        Target(
            "criteria_set",
            "`GET /criteria-sets/{id}` (published, cached)",
            "service",
            f"/api/v1/criteria-sets/{fixture.set_id}",
            "ping",
            0.8,
        ),
        Target(
            "thresholds",
            "`GET /criteria-sets/{id}/thresholds` (cached reference read)",
            "service",
            f"/api/v1/criteria-sets/{fixture.set_id}/thresholds?unit_id={fixture.assessed_unit_id}"
            "&year=2024",
            "ping",
            0.8,
        ),
        Target(
            "evaluation",
            "`GET /assessments/{id}/evaluation` (authenticated)",
            "service",
            f"/api/v1/assessments/{fixture.assessment_id}/evaluation",
            "ping",
            0.1,
            authorized=True,
        ),
    ]


LIST_PATH = "/api/v1/units?level=commune&limit=50"
SEARCH_PATH = "/api/v1/units?q=luc%20nam"


def measure_round(
    chosen: list[Target],
    servers: dict[str, Server],
    fixture: Fixture,
    seconds: float,
    pin: str | None,
    results: dict[str, Measured],
) -> None:
    for target in chosen:
        server = servers[target.server]
        headers = [f"Authorization: {fixture.authorization}"] if target.authorized else []
        before = server.cpu_seconds()
        outcome = run_wrk(
            f"http://127.0.0.1:{PORTS[target.server]}{target.path}", seconds, headers, pin
        )
        used = server.cpu_seconds() - before
        if outcome.errors:
            raise RuntimeError(f"{target.name}: {outcome.errors}")
        results[target.name].samples.append(
            Sample(
                requests_per_s=outcome.requests_per_s,
                p50_ms=outcome.p50_ms,
                p99_ms=outcome.p99_ms,
                cpu_ms_per_request=used * 1e3 / max(outcome.requests, 1),
                timeouts=outcome.timeouts,
            )
        )
        print(
            f"  {target.name:<13} {outcome.requests_per_s:9.0f} req/s  p50 {outcome.p50_ms:7.1f} "
            f"ms  p99 {outcome.p99_ms:7.1f} ms  cpu {used * 1e3 / max(outcome.requests, 1):.2f} "
            f"ms/req{f'  ({outcome.timeouts} timeouts)' if outcome.timeouts else ''}",
            flush=True,
        )


def ratio(results: dict[str, Measured], name: str, baseline: str) -> float:
    """Median over rounds of the within-round ratio."""
    mine, theirs = results[name].samples, results[baseline].samples
    return statistics.median(
        a.requests_per_s / b.requests_per_s for a, b in zip(mine, theirs, strict=True)
    )


def machine() -> dict[str, str]:
    model = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def render(
    results: dict[str, Measured],
    workers: tuple[float, float] | None,
    args: argparse.Namespace,
    fixture: Fixture,
    placement: str,
    started_load: str,
) -> str:
    info = machine()
    lines = [
        "# Under concurrency (issue 16)",
        "",
        f"Written by `python -m bench.concurrency{' --quick' if args.quick else ''}` "
        f"(`make bench-http`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"- Machine: {info['nproc']} CPUs ({info['cpu']}), Linux {info['kernel']}, Python "
        f"{info['python']}; load average {started_load} at the start, {info['load']} at the end "
        "(other work shared the machine).",
        f"- Placement: {placement}",
        f"- Load: wrk, {CONNECTIONS} connections, 2 threads, {args.seconds:g} s per target per "
        f"round, {args.rounds} rounds, targets interleaved (order rotated each round). Figures "
        "are medians over the rounds; a ratio is taken within each round, then its median.",
        "- Service: `ntm serve` (one uvicorn worker, the options production uses), PostgreSQL "
        f"migrated and seeded, {fixture.values:,} indicator values imported through the API "
        f"(setup {fixture.seconds:.0f} s); log level WARNING (the access log is INFO).",
        "- Baselines: `bench/baselines.py` — a bare FastAPI `/ping` under the same uvicorn "
        "options, and a raw-asyncpg app replaying the SQL the service sent for the same URL.",
        "- CPU per request: the server's utime+stime (`/proc/<pid>/stat`) over the round, "
        "divided by the requests wrk completed. Timeouts: requests wrk gave up on after 5 s "
        "(all rounds); any other socket error or non-2xx answer fails the run.",
        "",
        "| target | req/s | p50 ms | p99 ms | server CPU ms/req | timeouts | ratio | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for measured in results.values():
        target = measured.target
        if target.baseline is not None:
            value = ratio(results, target.name, target.baseline)
            met = "met" if value >= (target.goal or 0) else "**not met**"
            shown = f"{value:.2f}× {target.baseline}"
            goal = f"≥ {target.goal}× ({met})"
        else:
            shown, goal = "—", "baseline"
        lines.append(
            f"| {target.label} | {measured.median('requests_per_s'):,.0f} | "
            f"{measured.median('p50_ms'):.1f} | {measured.median('p99_ms'):.1f} | "
            f"{measured.median('cpu_ms_per_request'):.2f} | "
            f"{sum(x.timeouts for x in measured.samples)} | {shown} | {goal} |"
        )
    if workers is not None:
        one, two = workers
        lines += [
            "",
            f"Two uvicorn workers against one, `GET /units/{{id}}`: {one:,.0f} → {two:,.0f} req/s "
            f"= {two / one:.2f}× (goal ≥ 1.6× with a core for the load generator; see below).",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--quick", action="store_true", help="one province; 2 rounds of 4 s")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--only", default="", help="comma-separated target names (and baselines)")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin servers and wrk to separate CPUs"
    )
    parser.add_argument("--no-workers", action="store_true", help="skip the two-worker round")
    parser.add_argument("--keep", action="store_true", help="keep the database (for py-spy)")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 4)
    args.seconds = args.seconds or (4.0 if args.quick else 6.0)
    if shutil.which("wrk") is None:
        print("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu), or `make bench-http`.")
        return 2
    started_load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    url = args.database_url
    name = make_url(url).database or ""
    if "bench" not in name:
        parser.error("the database is dropped and created: its name must contain 'bench'")
    with tempfile.TemporaryDirectory(prefix="ntm-bench-http-") as folder:
        work = Path(folder)
        print(f"setting up {name} …", flush=True)
        fixture = asyncio.run(prepare(url, work, args.quick))
        print(f"  {fixture.values:,} values imported; setup {fixture.seconds:.0f} s", flush=True)
        try:
            return run(args, url, work, fixture, started_load)
        finally:
            if not args.keep:
                asyncio.run(recreate_postgres(url, drop_only=True))


def run(args: argparse.Namespace, url: str, work: Path, fixture: Fixture, started_load: str) -> int:
    chosen = targets(fixture)
    if args.only:
        wanted = set(args.only.split(","))
        wanted |= {t.baseline for t in chosen if t.name in wanted and t.baseline}
        chosen = [t for t in chosen if t.name in wanted]
    paths = {"unit": f"/api/v1/units/{fixture.unit_id}", "list": LIST_PATH, "search": SEARCH_PATH}
    recipes = asyncio.run(capture(url, work, paths, fixture))
    recipes_file = work / "recipes.pickle"
    recipes_file.write_bytes(pickle.dumps(recipes))
    cpus = os.cpu_count() or 1
    pin_server = None if args.no_pin or cpus < 2 else "0"
    pin_wrk = None if args.no_pin or cpus < 2 else ",".join(str(c) for c in range(1, cpus))
    placement = (
        f"servers pinned to CPU {pin_server} and wrk to CPU {pin_wrk} (`taskset`)"
        if pin_server
        else "not pinned (servers and wrk share every CPU)"
    )
    env = {
        **os.environ,
        "NTM_ENV": "production",
        "NTM_DATABASE_URL": url,
        "NTM_SECRET_KEY": SECRET,
        "NTM_LOG_LEVEL": "WARNING",
        "NTM_VAR_DIR": str(work / "var"),
        "NTM_DATA_DIR": str(work / "var" / "files"),
        "NTM_WORKER_IN_PROCESS": "false",
        "NTM_BOOTSTRAP_ADMIN": "false",
        "NTM_CORS_ORIGINS": "https://ntm.example.vn",
    }
    python = sys.executable
    ntm = str(Path(python).with_name("ntm"))

    def pinned(command: list[str]) -> list[str]:
        return ["taskset", "-c", pin_server, *command] if pin_server else command

    def serve(port: int, workers: int = 1, *, pin: bool = True) -> list[str]:
        command = [ntm, "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers)]
        return pinned(command) if pin else command

    base = [python, "-m", "bench.baselines"]
    servers = {
        "service": Server("service", serve(PORTS["service"]), env, work / "service.log"),
        "ping": Server(
            "ping", pinned([*base, "ping", "--port", str(PORTS["ping"])]), env, work / "ping.log"
        ),
        "raw": Server(
            "raw",
            pinned([*base, "raw", "--port", str(PORTS["raw"]), "--recipes", str(recipes_file)]),
            env,
            work / "raw.log",
        ),
    }
    results = {t.name: Measured(t) for t in chosen}
    workers: tuple[float, float] | None = None
    try:
        for server in servers.values():
            server.start()
        wait_ready(f"http://127.0.0.1:{PORTS['service']}/healthz", servers["service"])
        wait_ready(f"http://127.0.0.1:{PORTS['ping']}/ping", servers["ping"])
        wait_ready(f"http://127.0.0.1:{PORTS['raw']}/raw/units/list", servers["raw"])
        print(f"servers: {', '.join(f'{s.name} pid {s.pid}' for s in servers.values())}")
        print(f"placement: {placement}")
        # Warm-up: every target once, short, not recorded (caches, pools, JIT-less plans).
        warm = {t.name: Measured(t) for t in chosen}
        measure_round(chosen, servers, fixture, 1, pin_wrk, warm)
        for number in range(args.rounds):
            shift = number % len(chosen)
            order = chosen[shift:] + chosen[:shift]
            print(f"round {number + 1}/{args.rounds}", flush=True)
            measure_round(order, servers, fixture, args.seconds, pin_wrk, results)
        if not args.no_workers and "unit" in results:
            workers = two_workers(args, serve, env, work, fixture)
    finally:
        for server in servers.values():
            server.stop()
    report = render(results, workers, args, fixture, placement, started_load)
    print()
    print(report)
    if not args.no_write and not args.only:
        write_results(report)
    return 0


def two_workers(
    args: argparse.Namespace, serve: Any, env: dict[str, str], work: Path, fixture: Fixture
) -> tuple[float, float]:
    """``GET /units/{id}`` against one worker, then two, both unpinned (two workers on one
    pinned CPU could not scale), the pair interleaved twice."""
    path = f"/api/v1/units/{fixture.unit_id}"
    ports = {"one": PORTS["service"] + 50, "two": PORTS["service2"]}
    pair = {
        "one": Server("one", serve(ports["one"], 1, pin=False), env, work / "one.log"),
        "two": Server("two", serve(ports["two"], 2, pin=False), env, work / "two.log"),
    }
    rates: dict[str, list[float]] = {"one": [], "two": []}
    try:
        for key, server in pair.items():
            server.start()
            wait_ready(f"http://127.0.0.1:{ports[key]}/healthz", server)
            run_wrk(f"http://127.0.0.1:{ports[key]}{path}", 1, [], None)
        print("one worker / two workers (unpinned)", flush=True)
        for _ in range(2):
            for key, port in ports.items():
                result = run_wrk(f"http://127.0.0.1:{port}{path}", args.seconds, [], None)
                rates[key].append(result.requests_per_s)
                print(f"  {key}: {result.requests_per_s:.0f} req/s", flush=True)
    finally:
        for server in pair.values():
            server.stop()
    return statistics.median(rates["one"]), statistics.median(rates["two"])


MARK = "<!-- bench.concurrency: the latest run above this line -->"


def write_results(report: str) -> None:
    """The latest run replaces the one before; notes written below the mark are kept."""
    notes = ""
    if RESULTS.exists():
        old = RESULTS.read_text()
        if MARK in old:
            notes = old.split(MARK, 1)[1]
    RESULTS.write_text(report + "\n" + MARK + notes)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
