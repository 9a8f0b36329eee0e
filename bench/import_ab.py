"""The indicator import in two source trees, by instruction counts: ``bench/import_ab.py``.

Wall-clock pairs of ``python -m bench.assessments`` on a shared machine disagree by more than the
10 % issue 9 allows. This driver runs the same import in any tree (this one, or a worktree of an
older commit: it uses that tree's ``app`` and ``bench.assessments``) so that callgrind can count
the instructions of each side, which other programs on the machine do not change:

- ``setup``: on a PostgreSQL server, a template database with the national map seeded, the
  benchmark's criteria set published and an administrator; writes a JSON file for the others;
- ``csv``: the benchmark's CSV for the first N communes that every given setup knows (the same
  bytes for every tree);
- ``run``: copies the template, then POSTs the CSV to ``/api/v1/indicator-values/import``
  in-process as ``bench.assessments`` does (after a first request, and by default after the
  same ``VACUUM (ANALYZE)`` and ``CHECKPOINT``), and prints one JSON line: wall and CPU time of
  this process, CPU time of the PostgreSQL backends that served the import (``/proc``, when the
  server runs on this machine), their pids, garbage collections, and the import's summary;
- ``count``: the instruction totals of callgrind dumps.

Under ``valgrind --tool=callgrind --instr-atstart=no`` only the POST is instrumented (client
requests through a tiny C helper built with ``cc``; ``valgrind/callgrind.h`` must be installed)
and dumped to ``<out-file>.1``. For the database side, start a private cluster under
``valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=DIR/pg.%p`` (as its owner):
``run`` closes its connections before and after the import, so each backend that served it dumps
``DIR/pg.<pid>`` for the pids it prints. For example, with both trees installed::

    T=/work/wt/base; PY=$T/.venv/bin/python; D="bench/import_ab.py --tree $T --url $URL"
    $PY $D setup --template ntm_bench_x_a --out a.json      # the same in the other tree (b.json)
    $PY $D csv --communes 800 --out c800.csv a.json b.json
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=py.%p \\
        $PY $D run --setup a.json --csv c800.csv
    $PY bench/import_ab.py count py.*.1

Two scales (200 and 800 communes) separate an import's fixed cost from its cost per value; the
figures and the procedure are in bench/RESULTS.md ("Import against 84abd1a (issue 9)").
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TOGGLE_C = r"""
#include <valgrind/callgrind.h>
void cg_begin(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void cg_end(void) { CALLGRIND_DUMP_STATS_AT("import"); CALLGRIND_STOP_INSTRUMENTATION; }
int cg_running(void) { return RUNNING_ON_VALGRIND; }
"""


class Callgrind:
    """Start and stop callgrind's instrumentation from Python (no-ops outside valgrind)."""

    def __init__(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="ntm-cgtoggle-"))
        source, library = folder / "toggle.c", folder / "toggle.so"
        source.write_text(TOGGLE_C)
        subprocess.run(["cc", "-O0", "-shared", "-fPIC", "-o", library, source], check=True)
        self.lib = ctypes.CDLL(str(library))
        self.active = bool(self.lib.cg_running())

    def begin(self) -> None:
        self.lib.cg_begin()

    def end(self) -> None:
        self.lib.cg_end()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_cpu_seconds(pid: int) -> float | None:
    """User and system time of another process of this machine, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settings_for(url: str, work: Path) -> Any:
    from app.config import Settings

    return Settings(
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        var_dir=work,
        data_dir=work / "files",
        log_level="WARNING",
    )


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def admin_execute(url: str, *statements: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(with_database(url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await admin.dispose()


# --- setup ---------------------------------------------------------------------------------------


async def setup(url: str, name: str) -> dict[str, Any]:
    from httpx import ASGITransport, AsyncClient
    from sqlalchemy import text

    from app.db import migrate
    from app.db.engine import Database, build_engine
    from app.main import create_app
    from app.seed import run_all
    from bench import assessments as bench  # the tree's own benchmark helpers

    await admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin_execute(url, f'CREATE DATABASE "{name}"')
    settings = settings_for(with_database(url, name), Path(tempfile.mkdtemp(prefix="ntm-ab-")))
    engine = build_engine(settings)
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        async with database.session() as session:
            await run_all(session, lambda _message: None)
        headers = await bench.admin_headers(database, settings)
        app = create_app(settings, database=database)
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://bench", headers=headers
        ) as client:
            created = await client.post("/api/v1/criteria-sets", json=bench.bench_set())
            created.raise_for_status()
            set_id = created.json()["id"]
            (await client.post(f"/api/v1/criteria-sets/{set_id}/publish")).raise_for_status()
        async with database.session() as session:
            codes = await bench.commune_codes(session)
            user = await session.scalar(text("SELECT id FROM users WHERE username = 'bench-admin'"))
    finally:
        await engine.dispose()
    return {"template": name, "set_id": set_id, "user_id": str(user), "codes": codes}


# --- run -----------------------------------------------------------------------------------------


async def run(url: str, info: dict[str, Any], csv_path: Path, vacuum: bool) -> dict[str, Any]:
    from httpx import ASGITransport, AsyncClient
    from sqlalchemy import text

    from app.core.security import PrincipalKind, issue_access_token
    from app.db.engine import Database, build_engine
    from app.main import create_app

    toggle = Callgrind()
    name = f"{info['template']}_run_{os.getpid()}"
    await admin_execute(url, f'CREATE DATABASE "{name}" TEMPLATE "{info["template"]}"')
    settings = settings_for(with_database(url, name), Path(tempfile.mkdtemp(prefix="ntm-ab-")))
    engine = build_engine(settings)
    out: dict[str, Any] = {"tree": os.getcwd(), "csv": str(csv_path), "callgrind": toggle.active}
    try:
        database = Database(engine)
        app = create_app(settings, database=database)
        try:  # what a started server does in its lifespan, in the trees that have it
            from app.core.query import prepare

            prepare(app)
        except ImportError:
            pass
        user = uuid.UUID(info["user_id"])
        token = issue_access_token(settings, subject=user, kind=PrincipalKind.USER).token
        set_id = info["set_id"]
        async with AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {token}"},
            timeout=3600,
        ) as client:
            (await client.get(f"/api/v1/criteria-sets/{set_id}")).raise_for_status()  # warm-up
            if vacuum:  # as bench.assessments does before each timed step
                async with engine.connect() as connection:
                    auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await auto.execute(
                        text("VACUUM (ANALYZE) assessments, indicators, indicator_values")
                    )
                    await auto.execute(text("CHECKPOINT"))
            await engine.dispose()  # the import's backends are new ones
            handle = await asyncio.to_thread(csv_path.open, "rb")
            collections = [g["collections"] for g in gc.get_stats()]
            cpu, wall = cpu_seconds(), time.perf_counter()
            toggle.begin()
            try:
                response = await client.post(
                    "/api/v1/indicator-values/import",
                    params={"criteria_set_id": set_id, "async": "false"},
                    files={"file": ("values.csv", handle, "text/csv")},
                )
            finally:
                toggle.end()
                handle.close()
            out["wall_s"] = time.perf_counter() - wall
            out["py_cpu_s"] = cpu_seconds() - cpu
            out["gc_collections"] = [
                g["collections"] - n for g, n in zip(gc.get_stats(), collections, strict=True)
            ]
            if response.status_code not in (200, 201):
                raise RuntimeError(response.text[:2000])
            summary = response.json()
            out["summary"] = {k: summary[k] for k in ("rows", "created", "unchanged", "rejected")}
            # The import's backends, still open in the pool: their pids and CPU time.
            async with engine.connect() as connection:
                pids = list(
                    await connection.scalars(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "UNION SELECT pg_backend_pid()"
                        )
                    )
                )
            times = [proc_cpu_seconds(pid) for pid in pids]
            out["backend_pids"] = pids
            out["backend_cpu_s"] = None if None in times else sum(t or 0 for t in times)
    finally:
        await engine.dispose()
        await admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


# --- the rest ------------------------------------------------------------------------------------


def write_csv(out: Path, communes: int, setups: list[dict[str, Any]]) -> str:
    from bench import assessments as bench

    common = sorted(set.intersection(*(set(s["codes"]) for s in setups)))[:communes]
    rows = bench.write_csv(out, common)
    return f"{out}: {len(common)} communes, {rows} values"


def instructions(path: Path) -> int:
    """The total of a callgrind dump (its ``summary:`` or ``totals:`` line)."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise ValueError(f"{path}: not a callgrind dump")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("setup", help="a seeded template database")
    one.add_argument("--template", required=True, help="its name")
    one.add_argument("--out", type=Path, required=True, help="the JSON file for csv and run")
    two = commands.add_parser("csv", help="the benchmark's file for communes every setup knows")
    two.add_argument("--communes", type=int, required=True)
    two.add_argument("--out", type=Path, required=True)
    two.add_argument("setups", type=Path, nargs="+")
    three = commands.add_parser("run", help="one import, on a copy of the template")
    three.add_argument("--setup", type=Path, required=True)
    three.add_argument("--csv", type=Path, required=True)
    three.add_argument("--no-vacuum", action="store_true", help="no VACUUM (ANALYZE) before")
    four = commands.add_parser("count", help="instructions of callgrind dumps")
    four.add_argument("dumps", type=Path, nargs="+")
    args = parser.parse_args(argv)

    if args.command == "count":
        for dump in args.dumps:
            print(f"{instructions(dump):>16,}  {dump}")
        return 0
    # Paths are read from here, before moving into the tree.
    if args.command == "run":
        setups, out = [json.loads(args.setup.read_text())], args.csv.resolve()
    else:
        setups = [json.loads(p.read_text()) for p in getattr(args, "setups", ())]
        out = args.out.resolve()
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    if args.command == "setup":
        info = asyncio.run(setup(args.url, args.template))
        out.write_text(json.dumps(info))
        print(f"{args.template}: {len(info['codes'])} communes, set {info['set_id']}")
    elif args.command == "csv":
        print(write_csv(out, args.communes, setups))
    else:
        print(json.dumps(asyncio.run(run(args.url, setups[0], out, not args.no_vacuum))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
