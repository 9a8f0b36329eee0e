"""The `ntm` command line: serve, worker, db upgrade/current/downgrade, seed, users, clients."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Callable, Coroutine
from datetime import date
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
    uvicorn.run("app.main:create_app", **serve_options(settings, args))


def serve_options(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn's options for ``ntm serve``.

    X-Forwarded-For is believed only from ``NTM_TRUSTED_PROXIES`` (uvicorn would otherwise trust
    loopback, and a client could then pick the address its failed logins are counted under).
    The logging set-up is passed as a dictionary so that every worker process applies it.
    """
    from app.core.logging import logging_config

    proxies = args.forwarded_allow_ips or ",".join(settings.trusted_proxies)
    return {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "log_config": logging_config(settings.log_level),
        "log_level": settings.log_level.lower(),
        # The access log is ours (app.access, with the request id and the route).
        "access_log": False,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or "",
        "server_header": False,
    }


def cmd_worker(_args: argparse.Namespace) -> None:
    """Run background work (import jobs) until interrupted; the job in hand goes back to the
    queue on Ctrl-C or SIGTERM."""
    import signal

    from app.db.engine import Database, build_engine
    from app.main import configure
    from app.worker.runner import Worker

    settings = _settings()
    configure(settings)

    async def work() -> None:
        database = Database(build_engine(settings))
        worker = Worker(database, settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        worker.start()
        try:
            await stop.wait()
        finally:
            await worker.stop()
            await database.dispose()

    _run(work())


# --- people and integration clients -------------------------------------------------------------


async def _in_session(work: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``work(session)`` and commit; problems (422, 409, …) become one-line errors."""
    from app.core.errors import ProblemError
    from app.db.engine import Database

    async def with_session(engine: Any) -> Any:
        async with Database(engine).session() as session:
            try:
                result = await work(session)
            except ProblemError as exc:
                details = "; ".join(str(e["msg"]) for e in exc.errors[1:])
                raise CommandError(exc.detail + (f" ({details})" if details else "")) from None
            await session.commit()
            return result

    return await _with_engine(with_session)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Again: ") != password:
            raise CommandError("the two passwords differ")
    if not password:
        raise CommandError("no password given")
    return password


async def _unit_of(session: Any, args: argparse.Namespace) -> Any:
    from app.identity.service import setup

    if getattr(args, "unit_id", None):
        return args.unit_id
    return await setup.unit_for_code(session, getattr(args, "unit_code", None))


def _role(value: str) -> Any:
    from app.core.errors import ProblemError
    from app.identity.service import setup

    try:
        return setup.parse_role(value)
    except ProblemError as exc:
        raise CommandError(exc.detail) from None


def cmd_users_create(args: argparse.Namespace) -> None:
    from app.identity.service import setup

    settings = _settings()
    role = _role(args.role) if args.role else None
    password = _read_password(args)

    async def work(session: Any) -> Any:
        return await setup.create_user(
            session,
            settings,
            username=args.username,
            password=password,
            role=role,
            unit_id=await _unit_of(session, args),
            display_name=args.display_name,
            email=args.email,
        )

    user = _run(_in_session(work))
    roles = ", ".join(r.role for r in user.roles) or "no role"
    print(f"created user {user.username} ({user.id}): {roles}")


def cmd_users_grant(args: argparse.Namespace) -> None:
    from app.identity.service import setup

    role = _role(args.role)

    async def work(session: Any) -> Any:
        return await setup.grant(
            session,
            username=args.username,
            role=role,
            unit_id=await _unit_of(session, args),
            valid_from=args.valid_from,
            valid_to=args.valid_to,
            step=args.step,
        )

    assignment = _run(_in_session(work))
    where = assignment.unit_code or (str(assignment.unit_id) if assignment.unit_id else "national")
    print(f"granted {assignment.role} over {where} to {args.username} ({assignment.id})")


def cmd_users_password(args: argparse.Namespace) -> None:
    from app.audit.service import AuditContext
    from app.identity import repository
    from app.identity.schemas import UserUpdate
    from app.identity.service import accounts

    settings = _settings()
    password = _read_password(args)

    async def work(session: Any) -> None:
        user = await repository.get_user_by_username(session, args.username.strip().lower())
        if user is None:
            raise CommandError(f"there is no user {args.username}")
        await accounts.update_user(
            session,
            settings,
            None,
            AuditContext.system("cli"),
            user.id,
            UserUpdate(password=password, active=True),
        )

    _run(_in_session(work))
    print(f"password of {args.username} set")


def cmd_clients_create(args: argparse.Namespace) -> None:
    from app.identity.service import setup

    def split(value: str | None) -> list[str]:
        return [part.strip() for part in (value or "").split(",") if part.strip()]

    async def work(session: Any) -> Any:
        return await setup.create_client(
            session,
            name=args.name,
            unit_id=await _unit_of(session, args),
            read=split(args.read),
            write=split(args.write),
        )

    client = _run(_in_session(work))
    print(f"client_id:     {client.client_id}")
    print(f"client_secret: {client.client_secret}")
    print(
        "The secret is shown once: store it now (rotate it with POST /api/v1/clients/{id}/secret)."
    )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _roles(roles: Any) -> str:
    described = []
    for role in roles:
        where = role.unit_code or (str(role.unit_id) if role.unit_id else "national")
        described.append(f"{role.role}@{where}")
    return ", ".join(described) or "-"


def cmd_users_list(_args: argparse.Namespace) -> None:
    from app.identity.service import setup

    users = _run(_in_session(setup.all_users))
    _table(
        ("USERNAME", "ID", "ACTIVE", "ROLES"),
        [(u.username, str(u.id), "yes" if u.active else "no", _roles(u.roles)) for u in users],
    )


def cmd_clients_list(_args: argparse.Namespace) -> None:
    from app.identity.service import setup

    clients = _run(_in_session(setup.all_clients))
    _table(
        ("NAME", "CLIENT_ID", "ACTIVE", "ROLES"),
        [(c.name, c.client_id, "yes" if c.active else "no", _roles(c.roles)) for c in clients],
    )


def cmd_clients_revoke(args: argparse.Namespace) -> None:
    from app.identity.service import setup

    async def work(session: Any) -> Any:
        return await setup.revoke_client(session, args.client_id)

    client = _run(_in_session(work))
    print(f"revoked client {client.name} ({client.client_id}): its tokens no longer work")


def bootstrap_admin(settings: Settings) -> None:
    """The embedded default's first start: with no user at all, create ``admin`` with a random
    password and print it once (never again: from then on a user exists)."""
    if settings.env != "development" or not settings.bootstrap_admin:
        return
    from app.identity.service import setup

    async def work(session: Any) -> str | None:
        return await setup.bootstrap_admin(session, settings)

    try:
        password = _run(_in_session(work))
    except Exception as exc:  # never keep the server from starting; `ntm users create` remains
        print(f"ntm: no first administrator created ({type(exc).__name__})", file=sys.stderr)
        return
    if password is None:
        return
    # Written to the terminal, never logged: the log stream is shipped and kept, and a password
    # must not land there (the JSON handlers of app.core.logging never see this text).
    sys.stderr.write(
        "\nntm: created the first administrator of this installation.\n"
        f"  username: {setup.BOOTSTRAP_USERNAME}\n"
        f"  password: {password}\n"
        "  This password is shown once. Sign in with POST /api/v1/auth/token, then change it\n"
        "  with POST /api/v1/me/password.\n\n"
    )
    sys.stderr.flush()


def startup_hooks() -> list[Callable[[Settings], None]]:
    """Work done once before serving (e.g. the first administrator of an embedded install)."""
    return [bootstrap_admin]


class _VersionAction(argparse.Action):
    """``ntm --version``: the package's version and the schema revision it migrates to."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from app.db import migrate

    try:
        package = version("ntm-platform")
    except PackageNotFoundError:  # run from a source tree that was never installed
        package = "unknown"
    return f"ntm {package} (database schema {migrate.head_revision()})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ntm", description="NTM data platform service")
    parser.add_argument(
        "--version", action=_VersionAction, help="show the version and the schema revision"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (%(default)s)")
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes (%(default)s; PostgreSQL only)"
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxies whose X-Forwarded-For is believed (default: NTM_TRUSTED_PROXIES, none)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker", help="run background work (import jobs); `serve` runs one in development"
    )
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="migrate to the latest (or a given) revision")
    up.add_argument(
        "revision", nargs="?", default="head", help="target revision (default: the latest)"
    )
    up.set_defaults(func=cmd_db_upgrade)
    down = db_sub.add_parser("downgrade", help="migrate down to a revision ('base' empties it)")
    down.add_argument("revision", help="target revision, e.g. 0006, or 'base'")
    down.set_defaults(func=cmd_db_downgrade)
    db_sub.add_parser("current", help="show the current revision").set_defaults(func=cmd_db_current)

    seed = sub.add_parser("seed", help="load the bundled reference data (idempotent)")
    seed.set_defaults(func=cmd_seed)

    users = sub.add_parser("users", help="people who sign in")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    users_sub.add_parser(
        "list", help="list every person: username, id, active, roles"
    ).set_defaults(func=cmd_users_list)
    create = users_sub.add_parser("create", help="create a person (asks for the password)")
    create.add_argument("--username", required=True, help="the sign-in name (lower case)")
    create.add_argument("--role", help="e.g. system_admin (or admin), province_coordinator")
    _unit_arguments(create)
    create.add_argument("--display-name", help="the name shown to others (default: username)")
    create.add_argument("--email", help="contact address")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(func=cmd_users_create)
    grant = users_sub.add_parser("grant", help="grant a person a role over a unit (or nationally)")
    grant.add_argument("--username", required=True, help="the person's sign-in name")
    grant.add_argument("--role", required=True, help="e.g. province_coordinator, appraiser")
    _unit_arguments(grant)
    grant.add_argument(
        "--valid-from", type=date.fromisoformat, help="first day of the grant, YYYY-MM-DD"
    )
    grant.add_argument(
        "--valid-to", type=date.fromisoformat, help="day the grant ends (excluded), YYYY-MM-DD"
    )
    grant.add_argument("--step", help="appraisers: the procedure step")
    grant.set_defaults(func=cmd_users_grant)
    password = users_sub.add_parser("password", help="set a person's password (and reactivate)")
    password.add_argument("--username", required=True, help="the person's sign-in name")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password.set_defaults(func=cmd_users_password)

    clients = sub.add_parser("clients", help="integration clients")
    clients_sub = clients.add_subparsers(dest="clients_command", required=True)
    clients_sub.add_parser(
        "list", help="list every client: name, client id, active, roles"
    ).set_defaults(func=cmd_clients_list)
    new_client = clients_sub.add_parser("create", help="register a client; prints its secret once")
    new_client.add_argument("--name", required=True, help="what the client is, e.g. Power BI")
    new_client.add_argument(
        "--role",
        choices=["integration_client"],
        default="integration_client",
        help="the client's role (%(default)s)",
    )
    new_client.add_argument("--read", help="resources it may read, e.g. units,criteria,reports")
    new_client.add_argument("--write", help="resources it may write, e.g. assessments")
    _unit_arguments(new_client)
    new_client.set_defaults(func=cmd_clients_create)
    revoke = clients_sub.add_parser(
        "revoke", help="deactivate a client: its tokens stop working at once"
    )
    revoke.add_argument(
        "--client-id", type=uuid.UUID, required=True, help="the client's id (see `clients list`)"
    )
    revoke.set_defaults(func=cmd_clients_revoke)
    return parser


def _unit_arguments(command: argparse.ArgumentParser) -> None:
    scope = command.add_mutually_exclusive_group()
    scope.add_argument("--unit-code", help="the scope: a unit's official code today")
    scope.add_argument("--unit-id", type=uuid.UUID, help="the scope: a unit's id")


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
        from app.db.availability import is_database_unavailable

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
