"""Logs are JSON lines naming the request, whatever the number of worker processes; the served
app believes no forwarded address unless told to."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.core.logging import JsonFormatter
from app.db.engine import Database
from app.main import create_app

STARTUP_SECONDS = 60
LIFETIME_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """``ntm serve --workers 2`` on a fresh SQLite file, stopped by its pid at the end."""
    env = {
        "PATH": "/usr/bin:/bin",
        "NTM_DATABASE_URL": f"sqlite:///{tmp_path}/served.db",
        "NTM_VAR_DIR": str(tmp_path),
        "NTM_DATA_DIR": str(tmp_path / "files"),
        "NTM_BOOTSTRAP_ADMIN": "false",
        "NTM_LOG_LEVEL": "INFO",
    }
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, check=True, timeout=120
    )
    port = _free_port()
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    # Whatever happens to the test, the server does not outlive this bound.
    watchdog = threading.Timer(LIFETIME_SECONDS, os.killpg, (process.pid, signal.SIGKILL))
    watchdog.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, stderr_path.read_text()
            try:
                if _get(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, stderr_path.read_text()
            time.sleep(0.2)
        yield base, process, stderr_path
    finally:
        watchdog.cancel()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    entries = []
    for line in lines:
        entry = orjson.loads(line)  # every line is JSON: a plain-text line fails here
        assert isinstance(entry, dict)
        entries.append(entry)
    return entries


def test_two_workers_log_json_access_lines_with_the_request_id(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    base, process, stderr_path = served
    request_id = uuid.uuid4().hex
    assert _get(f"{base}/api/v1/units?limit=1", {"X-Request-ID": request_id}) == 200
    # From loopback, uvicorn would trust X-Forwarded-For by default: no more.
    statuses = []
    for attempt in range(21):
        form = f"grant_type=password&username=spray{attempt}&password=Wrong-horse-7".encode()
        statuses.append(
            _get(
                f"{base}/api/v1/auth/token",
                {
                    "X-Forwarded-For": f"203.0.113.{attempt + 1}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                form,
            )
        )
    assert statuses[:20] == [400] * 20
    assert statuses[20] == 429
    time.sleep(0.5)
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    entries = _json_lines(stderr_path)
    access = [e for e in entries if e.get("logger") == "app.access"]
    mine = [e for e in access if e.get("request_id") == request_id]
    assert len(mine) == 1, access
    assert mine[0]["status"] == 200
    assert mine[0]["route"] == "/api/v1/units"
    # Both workers started, and said so in JSON.
    started = [e for e in entries if "Started server process" in str(e.get("msg"))]
    assert len(started) >= 2, entries


async def test_an_unhandled_error_is_logged_as_json_with_the_request_id(
    settings: Settings, engine: Any
) -> None:
    app: FastAPI = create_app(settings, database=Database(engine))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    errors = logging.getLogger("app.errors")
    errors.addHandler(handler)
    try:
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/boom", headers={"X-Request-ID": "req-boom-1"})
    finally:
        errors.removeHandler(handler)
    assert response.status_code == 500
    entry = orjson.loads(stream.getvalue().splitlines()[0])
    assert entry["request_id"] == "req-boom-1"
    assert "kaboom" in entry["exc"]
    assert "Traceback" in entry["exc"]
