"""The `ntm` command line: serve, db upgrade/current/downgrade, seed."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from app.config import Settings, get_settings


class CommandError(Exception):
    """A failure to report as one line on stderr with a non-zero exit."""


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise CommandError(f"invalid setting {field}: {first['msg']}") from exc


def _check_sqlite_path(settings: Settings) -> None:
    # Fail before connecting: aiosqlite's worker thread outlives a failed connect and prints a
    # traceback when asyncio.run() closes the loop.
    if not settings.is_sqlite:
        return
    database = make_url(settings.database_url).database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return
    folder = Path(database).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CommandError(f"the database cannot be reached: cannot write to the folder {folder}")


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def _with_engine(work: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
    from app.db.engine import build_engine

    settings = _settings()
    engine = build_engine(settings)
    _check_sqlite_path(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    from app.db import migrate

    async def work(engine: Any) -> None:
        await migrate.upgrade(engine, args.revision)
        async with engine.connect() as connection:
            print(f"database at revision {await migrate.current_revision(connection)}")

    _run(_with_engine(work))


def cmd_db_downgrade(args: argparse.Namespace) -> None:
    from app.db import migrate

    async def work(engine: Any) -> None:
        await migrate.downgrade(engine, args.revision)
        async with engine.connect() as connection:
            print(f"database at revision {await migrate.current_revision(connection) or 'base'}")

    _run(_with_engine(work))


def cmd_db_current(_args: argparse.Namespace) -> None:
    from app.db import migrate

    async def work(engine: Any) -> None:
        async with engine.connect() as connection:
            current = await migrate.current_revision(connection)
        head = migrate.head_revision()
        state = "up to date" if current == head else f"behind (head is {head})"
        print(f"{current or 'empty'}: {state}")

    _run(_with_engine(work))


def cmd_seed(_args: argparse.Namespace) -> None:
    from app.db.engine import Database
    from app.seed import run_all

    async def work(engine: Any) -> None:
        database = Database(engine)
        async with database.session() as session:
            for result in await run_all(session, _progress):
                print(result.describe())

    _run(_with_engine(work))


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = _settings()
    from app.main import configure

    configure(settings)
    for hook in startup_hooks():
        hook(settings)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
    )


def startup_hooks() -> list[Callable[[Settings], None]]:
    """Work done once before serving (e.g. the first administrator of an embedded install)."""
    return []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ntm", description="NTM data platform service")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="migrate to the latest (or a given) revision")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    down = db_sub.add_parser("downgrade", help="migrate down to a revision ('base' empties it)")
    down.add_argument("revision")
    down.set_defaults(func=cmd_db_downgrade)
    db_sub.add_parser("current", help="show the current revision").set_defaults(func=cmd_db_current)

    seed = sub.add_parser("seed", help="load the bundled reference data (idempotent)")
    seed.set_defaults(func=cmd_seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CommandError as exc:
        print(f"ntm: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from app.core.errors import is_database_unavailable

        cause = getattr(exc, "orig", None) or exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        if is_database_unavailable(exc):
            print(f"ntm: the database cannot be reached: {reason}", file=sys.stderr)
        else:
            print(f"ntm: {type(exc).__name__}: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
