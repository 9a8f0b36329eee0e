"""The Python client generated from openapi/openapi.json, driven against a live `ntm serve`.

A field app's sync round-trip: a token by client credentials, the unit list paged with
``updated_since``, an assessment created twice under one Idempotency-Key (one resource), values
uploaded with If-Match, and a conditional GET answered 304.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60
LIFETIME_SECONDS = 300
PACKAGE = "ntm_api_client"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ntm(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client generated into a temporary folder, importable as ``ntm_api_client``."""
    folder = tmp_path_factory.mktemp("client")
    done = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(DOCUMENT),
            "--config",
            str(ROOT / "clients" / "openapi-python-client.yaml"),
            "--custom-template-path",
            str(ROOT / "clients" / "templates"),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Its only normal line is "Generating …": anything else is a warning (a dropped model).
    noise = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and not line.startswith("Generating ")
    ]
    assert noise == []
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """``ntm serve`` on a seeded throwaway SQLite file; (base URL, client id, client secret)."""
    folder = tmp_path_factory.mktemp("served")
    env = {
        "PATH": "/usr/bin:/bin",
        "NTM_DATABASE_URL": f"sqlite:///{folder}/served.db",
        "NTM_VAR_DIR": str(folder),
        "NTM_DATA_DIR": str(folder / "files"),
        "NTM_BOOTSTRAP_ADMIN": "false",
        "NTM_LOG_LEVEL": "WARNING",
    }
    _ntm(env, "db", "upgrade")
    _ntm(env, "seed")
    created = _ntm(
        env,
        "clients",
        "create",
        "--name",
        "field-app",
        "--read",
        "units,criteria,assessments",
        "--write",
        "assessments",
    )
    client_id = re.search(r"client_id:\s+(\S+)", created)
    client_secret = re.search(r"client_secret:\s+(\S+)", created)
    assert client_id, created
    assert client_secret, created
    port = _free_port()
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    # Whatever happens to the test, the server does not outlive this bound.
    watchdog = threading.Timer(LIFETIME_SECONDS, os.killpg, (process.pid, signal.SIGKILL))
    watchdog.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, (folder / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, (folder / "serve.log").read_text()
            time.sleep(0.2)
        yield base, client_id.group(1), client_secret.group(1)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def _module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_a_sync_round_trip_with_the_generated_client(
    generated: ModuleType, served: tuple[str, str, str]
) -> None:
    base, client_id, client_secret = served
    models = _module(generated, "models")

    with contextlib.ExitStack() as stack:
        _round_trip(generated, models, base, client_id, client_secret, stack)


def _round_trip(
    generated: ModuleType,
    models: Any,
    base: str,
    client_id: str,
    client_secret: str,
    stack: contextlib.ExitStack,
) -> None:
    auth_token = _module(generated, "api.identity.auth_token")
    units_list = _module(generated, "api.units.units_list")
    criteria_sets_list = _module(generated, "api.criteria.criteria_sets_list")
    criteria_sets_get = _module(generated, "api.criteria.criteria_sets_get")
    assessments_create = _module(generated, "api.assessments.assessments_create")
    assessments_get = _module(generated, "api.assessments.assessments_get")
    values_put = _module(generated, "api.assessments.assessments_values_put")

    # A token by the client-credentials grant.
    anonymous = stack.enter_context(
        generated.Client(base_url=base, raise_on_unexpected_status=True)
    )
    form = models.AuthTokenForm(
        grant_type="client_credentials", client_id=client_id, client_secret=client_secret
    )
    token = auth_token.sync_detailed(client=anonymous, body=form)
    assert token.status_code == 200, token.content
    assert isinstance(token.parsed, models.TokenResponse)
    api = stack.enter_context(
        generated.AuthenticatedClient(
            base_url=base, token=token.parsed.access_token, raise_on_unexpected_status=True
        )
    )

    # The provinces, paged with updated_since: every page typed, the cursor followed to the end.
    since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    seen: list[Any] = []
    cursor: Any = generated.types.UNSET
    for _ in range(20):
        page = units_list.sync_detailed(
            client=api,
            level=models.UnitLevel.PROVINCE,
            updated_since=since,
            limit=10,
            cursor=cursor,
        )
        assert page.status_code == 200, page.content
        assert isinstance(page.parsed, models.UnitList)
        seen += page.parsed.items
        if not page.parsed.next_cursor:
            break
        assert 'rel="next"' in page.headers["link"]
        cursor = page.parsed.next_cursor
    assert len(seen) == len({unit.id for unit in seen}) >= 34
    assert all(unit.level == models.UnitLevel.PROVINCE for unit in seen)
    stamps = [(unit.updated_at, unit.id) for unit in seen]
    assert stamps == sorted(stamps)

    # A published commune set in force in 2025 and one of its commune-level numeric indicators.
    sets = criteria_sets_list.sync(
        client=api, level=models.UnitLevel.COMMUNE, year=2025, status="published"
    )
    assert isinstance(sets, models.CriteriaSetPage)
    assert sets.items
    detail = criteria_sets_get.sync(sets.items[0].id, client=api)
    assert isinstance(detail, models.CriteriaSetOut)
    indicator = next(
        i
        for criterion in detail.criteria
        for i in criterion.indicators
        if i.kind == models.IndicatorKind.BOOLEAN
    )
    communes = units_list.sync(client=api, level=models.UnitLevel.COMMUNE, limit=1)
    assert isinstance(communes, models.UnitList)
    assert communes.items

    # Created twice under one Idempotency-Key: one assessment, the second answer a replay.
    body = models.AssessmentCreate(
        unit_id=communes.items[0].id,
        criteria_set_id=detail.id,
        year=2025,
        kind=models.AssessmentKind.SELF_ASSESSMENT,
    )
    key = str(uuid.uuid4())
    first = assessments_create.sync_detailed(client=api, body=body, idempotency_key=key)
    assert first.status_code == 201, first.content
    again = assessments_create.sync_detailed(client=api, body=body, idempotency_key=key)
    for _ in range(50):
        # The first answer can reach the client before its record is stored: the documented
        # answer meanwhile is 409 `idempotency_key_in_progress`, to be retried.
        if again.status_code != 409:
            break
        assert isinstance(again.parsed, models.Problem)
        assert again.parsed.code == "idempotency_key_in_progress"
        assert "retry-after" in again.headers
        time.sleep(0.1)
        again = assessments_create.sync_detailed(client=api, body=body, idempotency_key=key)
    assert again.status_code == 201
    assert isinstance(first.parsed, models.Assessment)
    assert isinstance(again.parsed, models.Assessment)
    assert again.parsed.id == first.parsed.id
    assert again.content == first.content
    assert first.headers["location"].endswith(str(first.parsed.id))
    etag = first.headers["etag"]

    # Values uploaded with If-Match; the answer carries the new ETag; a stale tag is refused.
    values = models.ValuesPut(
        values=[models.ValueIn(indicator_code=indicator.code, value=True, note="đạt")]
    )
    put = values_put.sync_detailed(first.parsed.id, client=api, body=values, if_match=etag)
    assert put.status_code == 200, put.content
    assert isinstance(put.parsed, models.ValuesResult)
    assert put.parsed.created == 1
    new_etag = put.headers["etag"]
    assert new_etag != etag
    stale = values_put.sync_detailed(first.parsed.id, client=api, body=values, if_match=etag)
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem)
    assert stale.parsed.code == "precondition_failed"

    # A conditional GET: the current ETag answers 304 without a body, an old one the resource.
    fresh = assessments_get.sync_detailed(first.parsed.id, client=api)
    assert fresh.status_code == 200
    assert isinstance(fresh.parsed, models.AssessmentDetail)
    current = fresh.headers["etag"]
    unchanged = assessments_get.sync_detailed(first.parsed.id, client=api, if_none_match=current)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    changed = assessments_get.sync_detailed(first.parsed.id, client=api, if_none_match=etag)
    assert changed.status_code == 200
