"""`ntm users …`, `ntm clients create` and the first administrator of an embedded install, run
as a user runs them (subprocesses on a fresh SQLite file)."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from app.cli import bootstrap_admin, startup_hooks

BOOTSTRAP = (
    "from app.cli import bootstrap_admin; from app.config import get_settings; "
    "bootstrap_admin(get_settings())"
)


def _ntm(
    db: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={
            "PATH": "/usr/bin:/bin",
            "NTM_DATABASE_URL": f"sqlite:///{db}",
            "NTM_VAR_DIR": str(db.parent),
            **env,
        },
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "ntm.db"
    upgraded = _ntm(db, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    # One commune, for --unit-code.
    with sqlite3.connect(db) as conn:
        unit = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO units (id, level, created_at, updated_at) "
            "VALUES (?, 'commune', '2024-01-01 00:00:00', '2024-01-01 00:00:00')",
            (unit,),
        )
        conn.execute(
            "INSERT INTO unit_versions (id, unit_id, valid_from, valid_to, level, code, name, "
            "name_folded, type, created_at, updated_at) VALUES (?, ?, '0001-01-01', '9999-12-31', "
            "'commune', 'ZX001', 'Xã Thử', 'xa thu', 'xa', '2024-01-01 00:00:00', "
            "'2024-01-01 00:00:00')",
            (uuid.uuid4().hex, unit),
        )
    return db


def _rows(db: Path, query: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, params).fetchall()


def test_users_create_grant_and_password(migrated: Path) -> None:
    name = "boss" + uuid.uuid4().hex[:4]
    created = _ntm(
        migrated,
        "users",
        "create",
        "--username",
        name,
        "--role",
        "admin",
        "--password-stdin",
        stdin="Correct-horse-7\n",
    )
    assert created.returncode == 0, created.stderr
    assert f"created user {name}" in created.stdout
    assert "system_admin" in created.stdout
    assert "Correct-horse-7" not in created.stdout + created.stderr
    [(stored,)] = _rows(migrated, "SELECT password_hash FROM users WHERE username = ?", name)
    assert PasswordHasher().verify(str(stored), "Correct-horse-7")

    again = _ntm(
        migrated,
        "users",
        "create",
        "--username",
        name,
        "--password-stdin",
        stdin="Correct-horse-7\n",
    )
    assert again.returncode == 1
    assert again.stderr.startswith("ntm: The username")
    weak = _ntm(
        migrated,
        "users",
        "create",
        "--username",
        "weak" + name,
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode == 1
    assert weak.stderr.startswith("ntm: The password is too weak")
    assert "\n" not in weak.stderr.strip()

    granted = _ntm(
        migrated,
        "users",
        "grant",
        "--username",
        name,
        "--role",
        "commune_officer",
        "--unit-code",
        "ZX001",
    )
    assert granted.returncode == 0, granted.stderr
    assert "commune_officer over ZX001" in granted.stdout
    unknown = _ntm(
        migrated, "users", "grant", "--username", name, "--role", "viewer", "--unit-code", "NOPE"
    )
    assert unknown.returncode == 1
    assert "NOPE" in unknown.stderr
    bad_role = _ntm(migrated, "users", "grant", "--username", name, "--role", "emperor")
    assert bad_role.returncode == 1
    assert "Unknown role emperor" in bad_role.stderr

    reset = _ntm(
        migrated,
        "users",
        "password",
        "--username",
        name,
        "--password-stdin",
        stdin="Battery-staple-8\n",
    )
    assert reset.returncode == 0, reset.stderr
    [(stored,)] = _rows(migrated, "SELECT password_hash FROM users WHERE username = ?", name)
    assert PasswordHasher().verify(str(stored), "Battery-staple-8")
    actors = _rows(
        migrated,
        "SELECT DISTINCT actor_kind, actor_name FROM audit_log "
        "WHERE entity IN ('user', 'role_assignment')",
    )
    assert ("system", "cli") in actors


def test_clients_create_prints_the_secret_once(migrated: Path) -> None:
    created = _ntm(
        migrated,
        "clients",
        "create",
        "--name",
        "Power BI",
        "--read",
        "units,reports",
        "--write",
        "assessments",
        "--unit-code",
        "ZX001",
    )
    assert created.returncode == 0, created.stderr
    client_id = re.search(r"client_id:\s+(\S+)", created.stdout)
    secret = re.search(r"client_secret:\s+(\S+)", created.stdout)
    assert client_id is not None
    assert secret is not None
    [(digest,)] = _rows(
        migrated, "SELECT secret_hash FROM clients WHERE id = ?", uuid.UUID(client_id[1]).hex
    )
    assert digest == hashlib.sha256(secret[1].encode()).hexdigest()
    [(resources,)] = _rows(
        migrated,
        "SELECT resources FROM role_assignments WHERE client_id = ?",
        uuid.UUID(client_id[1]).hex,
    )
    assert "assessments" in str(resources)


def test_first_start_creates_one_administrator_once(tmp_path: Path) -> None:
    assert bootstrap_admin in startup_hooks()
    db = tmp_path / "ntm.db"
    assert _ntm(db, "db", "upgrade").returncode == 0
    script = BOOTSTRAP
    first = subprocess.run(
        [sys.executable, "-c", script],
        env={
            "PATH": "/usr/bin:/bin",
            "NTM_DATABASE_URL": f"sqlite:///{db}",
            "NTM_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert "username: admin" in first.stderr
    password = re.search(r"password: (\S+)", first.stderr)
    assert password is not None
    [(stored,)] = _rows(db, "SELECT password_hash FROM users WHERE username = 'admin'")
    assert PasswordHasher().verify(str(stored), password[1])
    assert _rows(db, "SELECT role, unit_id FROM role_assignments") == [("system_admin", None)]
    assert _rows(db, "SELECT actor_name FROM audit_log WHERE entity = 'user'") == [("bootstrap",)]

    second = subprocess.run(
        [sys.executable, "-c", script],
        env={
            "PATH": "/usr/bin:/bin",
            "NTM_DATABASE_URL": f"sqlite:///{db}",
            "NTM_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 0
    assert second.stderr == ""
    assert len(_rows(db, "SELECT id FROM users")) == 1


def test_production_never_creates_an_administrator(tmp_path: Path) -> None:
    db = tmp_path / "ntm.db"
    assert _ntm(db, "db", "upgrade").returncode == 0
    script = BOOTSTRAP
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={
            "PATH": "/usr/bin:/bin",
            "NTM_DATABASE_URL": f"sqlite:///{db}",
            "NTM_ENV": "production",
            "NTM_SECRET_KEY": "k" * 48,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert _rows(db, "SELECT id FROM users") == []


def test_users_list_clients_list_and_revoke(migrated: Path) -> None:
    name = "lister" + uuid.uuid4().hex[:4]
    created = _ntm(
        migrated,
        "users",
        "create",
        "--username",
        name,
        "--role",
        "admin",
        "--password-stdin",
        stdin="Correct-horse-7\n",
    )
    assert created.returncode == 0, created.stderr
    users = _ntm(migrated, "users", "list")
    assert users.returncode == 0, users.stderr
    header, *lines = users.stdout.splitlines()
    assert header.split() == ["USERNAME", "ID", "ACTIVE", "ROLES"]
    [(user_id,)] = _rows(migrated, "SELECT id FROM users WHERE username = ?", name)
    [line] = [line for line in lines if line.split()[0] == name]
    assert line.split() == [name, str(uuid.UUID(str(user_id))), "yes", "system_admin@national"]

    made = _ntm(migrated, "clients", "create", "--name", "Revoked", "--read", "units")
    client_id = re.search(r"client_id:\s+(\S+)", made.stdout)
    assert client_id is not None, made.stderr
    listed = _ntm(migrated, "clients", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["NAME", "CLIENT_ID", "ACTIVE", "ROLES"]
    [row] = [line for line in listed.stdout.splitlines() if client_id[1] in line]
    assert row.split() == ["Revoked", client_id[1], "yes", "integration_client@national"]

    revoked = _ntm(migrated, "clients", "revoke", "--client-id", client_id[1])
    assert revoked.returncode == 0, revoked.stderr
    assert "its tokens no longer work" in revoked.stdout
    hex_id = uuid.UUID(client_id[1]).hex
    assert _rows(migrated, "SELECT active FROM clients WHERE id = ?", hex_id) == [(0,)]
    assert _rows(
        migrated,
        "SELECT action, actor_name FROM audit_log WHERE entity = 'client' AND entity_id = ? "
        "ORDER BY seq DESC LIMIT 1",
        client_id[1],
    ) == [("update", "cli")]
    listed = _ntm(migrated, "clients", "list")
    [row] = [line for line in listed.stdout.splitlines() if client_id[1] in line]
    assert row.split()[2] == "no"

    unknown = _ntm(migrated, "clients", "revoke", "--client-id", str(uuid.uuid4()))
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("ntm: There is no client")
    assert unknown.stderr.count("\n") == 1


# Run as `ntm serve` runs it (its JSON logging configured, every logger at DEBUG), with a handler
# that keeps every log record, so the test can look for the password in the log stream.
BANNER_UNDER_LOGGING = """
import json, logging, sys
from app.cli import bootstrap_admin
from app.config import get_settings
from app.main import configure

settings = get_settings()
configure(settings)
records = []

class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage() + " " + repr(record.__dict__))

root = logging.getLogger()
root.addHandler(Keep(logging.DEBUG))
root.setLevel(logging.DEBUG)
for name in logging.root.manager.loggerDict:
    logging.getLogger(name).setLevel(logging.DEBUG)
bootstrap_admin(settings)
with open(sys.argv[1], "w") as out:
    json.dump(records, out)
"""


def test_first_administrator_banner_goes_to_the_terminal_never_to_the_logs(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ntm.db"
    assert _ntm(db, "db", "upgrade").returncode == 0
    kept = tmp_path / "records.json"
    result = subprocess.run(
        [sys.executable, "-c", BANNER_UNDER_LOGGING, str(kept)],
        env={
            "PATH": "/usr/bin:/bin",
            "NTM_DATABASE_URL": f"sqlite:///{db}",
            "NTM_VAR_DIR": str(tmp_path),
            "NTM_LOG_LEVEL": "DEBUG",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    password = re.search(r"^  password: (\S+)$", result.stderr, re.MULTILINE)
    assert password is not None, result.stderr
    assert "username: admin" in result.stderr
    assert password[1] not in result.stdout
    [(stored,)] = _rows(db, "SELECT password_hash FROM users WHERE username = 'admin'")
    assert PasswordHasher().verify(str(stored), password[1])
    records = json.loads(kept.read_text())
    assert records, "the logging of the run was not captured"
    assert not [record for record in records if password[1] in record]
    # Plain text on the terminal: no JSON log line carries it either.
    assert not [
        line for line in result.stderr.splitlines() if line.startswith("{") and password[1] in line
    ]
