"""Schema-driven fuzzing of the running service (issue 10, item 17): ``make fuzz``.

Builds a throwaway database (a temporary SQLite file, or the PostgreSQL database named by
``NTM_FUZZ_DATABASE_URL``, dropped and created), migrates and seeds it, creates a system
administrator, starts ``ntm serve`` on a free loopback port (stopped by its pid, and bounded by
``--server-seconds``), then runs schemathesis over the committed ``openapi/openapi.json`` with a
fixed seed and a bounded number of examples, as the administrator (who may call every operation,
so that inputs reach the handlers instead of stopping at 401/403). It fails on any 5xx and on any
response that does not conform to the document (status, content type, headers, schema).

Accepted answers (business rules the schema cannot express) are listed in
``tests/fuzz/schemathesis.toml`` with their reason.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "fuzz-secret-key-that-is-long-enough-for-hs256"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepare(url: str, settings_env: dict[str, str]) -> str:
    """Migrate, seed and create an administrator; return a bearer token."""
    os.environ.update(settings_env)
    from sqlalchemy.engine import make_url

    from app.config import Settings
    from app.core.permissions import Role
    from app.core.security import PrincipalKind, issue_access_token
    from app.db import migrate
    from app.db.engine import Database, build_engine
    from app.models.identity import RoleAssignment, User
    from app.seed import run_all

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            )
            await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        await admin.dispose()
    settings = Settings()
    engine = build_engine(settings)
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        async with database.session() as session:
            await run_all(session, lambda _message: None)
        admin = uuid.uuid4()
        async with database.session() as session:
            session.add(
                User(id=admin, username="fuzz-admin", display_name="fuzz", password_hash="x")
            )
            await session.flush()
            session.add(RoleAssignment(user_id=admin, role=str(Role.SYSTEM_ADMIN), unit_id=None))
            await session.commit()
    finally:
        await engine.dispose()
    return issue_access_token(settings, subject=admin, kind=PrincipalKind.USER).token


def wait_ready(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261204)
    # Bounded so that a run stays within a few minutes on a small CI machine (issue 10, item 17).
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--server-seconds", type=int, default=900)
    args, extra = parser.parse_known_args()

    with tempfile.TemporaryDirectory(prefix="ntm-fuzz-") as tmp:
        url = os.environ.get("NTM_FUZZ_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/fuzz.db"
        env = {
            "NTM_DATABASE_URL": url,
            "NTM_ENV": "development",
            "NTM_SECRET_KEY": SECRET,
            "NTM_VAR_DIR": f"{tmp}/var",
            "NTM_DATA_DIR": f"{tmp}/files",
            "NTM_LOG_LEVEL": "ERROR",
            "NTM_BOOTSTRAP_ADMIN": "false",
        }
        token = asyncio.run(prepare(url, env))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_env = {**os.environ, **env}
        server = subprocess.Popen(
            [
                "timeout",
                str(args.server_seconds),
                str(BIN / "ntm"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=server_env,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            wait_ready(base, time.monotonic() + 60)
            command = [
                str(BIN / "schemathesis"),
                "--config-file",
                str(ROOT / "tests" / "fuzz" / "schemathesis.toml"),
                "run",
                str(ROOT / "openapi" / "openapi.json"),
                "--url",
                base,
                "--header",
                f"Authorization: Bearer {token}",
                "--seed",
                str(args.seed),
                "--max-examples",
                str(args.max_examples),
                "--workers",
                "1",
                *extra,
            ]
            return subprocess.run(command, cwd=ROOT, check=False).returncode
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


if __name__ == "__main__":
    sys.exit(main())
