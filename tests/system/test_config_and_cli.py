from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.cli import build_parser
from app.config import Settings, normalise_database_url
from app.db import migrate


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./var/x.db", "sqlite+aiosqlite:///./var/x.db"),
        ("sqlite+aiosqlite:///./var/x.db", "sqlite+aiosqlite:///./var/x.db"),
    ],
)
def test_database_urls_are_normalised(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected
    assert Settings(database_url=given).database_url == expected


@pytest.mark.parametrize("secret", [None, "", "changethis", "short-secret"])
def test_production_refuses_missing_or_placeholder_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="NTM_SECRET_KEY"):
        Settings(env="production", secret_key=secret)  # type: ignore[arg-type]


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(env="production", secret_key="k" * 48)  # type: ignore[arg-type]
    assert settings.signing_key() == "k" * 48


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    first = settings.signing_key()
    assert len(first) >= 32
    assert Settings(var_dir=tmp_path).signing_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTM_LOG_LEVEL", "debug")
    monkeypatch.setenv("NTM_CORS_ORIGINS", "https://a.example, https://b.example")
    settings = Settings()
    assert settings.log_level == "DEBUG"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def _ntm(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A subprocess, as a user runs it: asyncio.run() inside pytest's loop would not be the same.
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_reports_an_unreachable_database_in_one_line() -> None:
    result = _ntm("db", "current", NTM_DATABASE_URL="sqlite+aiosqlite:////dev/null/ntm.db")
    err = result.stderr.strip()
    assert result.returncode == 1
    assert err.startswith("ntm: the database cannot be reached")
    assert "\n" not in err


def test_cli_rejects_a_bad_setting() -> None:
    result = _ntm("db", "current", NTM_LOG_LEVEL="loud")
    assert result.returncode == 1
    assert result.stderr.startswith("ntm: invalid setting log_level")


def test_cli_upgrade_and_current_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    upgraded = _ntm("db", "upgrade", NTM_DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    current = _ntm("db", "current", NTM_DATABASE_URL=url)
    assert current.returncode == 0, current.stderr
    assert "up to date" in current.stdout


def test_cli_worker_runs_until_sigterm(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "NTM_DATABASE_URL": f"sqlite:///{tmp_path}/worker.db",
        "NTM_VAR_DIR": str(tmp_path / "var"),
        "NTM_DATA_DIR": str(tmp_path / "files"),
    }
    assert _ntm("db", "upgrade", **env).returncode == 0
    with subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        try:
            assert worker.stderr is not None
            assert "started" in worker.stderr.readline()  # a JSON log line: it is polling
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=60) == 0
            assert "stopped" in worker.stderr.read()
        finally:
            if worker.poll() is None:
                worker.kill()


def _parsers(parser: argparse.ArgumentParser, path: str = "ntm") -> Iterator[tuple[str, Any]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                assert helps.get(name), f"`{path} {name}` has no help text"
                yield from _parsers(child, f"{path} {name}")


def test_every_command_and_option_has_help_text() -> None:
    checked = 0
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            name = "/".join(action.option_strings) or action.dest
            assert action.help, f"`{path} {name}` has no help text"
            assert action.help is not argparse.SUPPRESS, f"`{path} {name}` hides its help"
            checked += 1
    # serve, worker, db ×3, seed, users ×4, clients ×3 with their options: the walk went deep.
    assert checked > 40


def test_version_names_the_package_and_the_schema() -> None:
    result = _ntm("--version")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"ntm \S+ \(database schema \d{4}\)\n", result.stdout), result.stdout
    assert migrate.head_revision() in result.stdout
