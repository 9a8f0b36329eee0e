from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.core.http import preferred_language
from app.core.middleware import LIVENESS_BODY
from app.db import migrate
from app.db.engine import Database, build_engine
from app.main import create_app
from app.system.router import LIVENESS_PATH, Health

PROBLEM = "application/problem+json"


async def test_healthz(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)


def test_the_liveness_answer_is_the_routes() -> None:
    """The outermost middleware answers a plain GET /healthz itself: with what the route's
    model renders, so that the schema and the answer cannot drift apart."""
    assert Health(status="ok").model_dump_json().encode() == LIVENESS_BODY
    assert LIVENESS_PATH == "/healthz"


async def test_healthz_with_a_query_goes_through_the_stack(client: AsyncClient) -> None:
    """Only the plain probe is short-cut: a query string still meets the app-wide check."""
    response = await client.get("/healthz", params={"verbose": "1"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "unknown_query_parameter"
    assert response.headers["x-request-id"]


async def test_readyz_reports_database_and_revision(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}
    assert body["schema_revision"]


async def test_unknown_route_is_problem_json(client: AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert body["type"].endswith("not_found")
    assert {"title", "detail"} <= body.keys()


async def test_method_not_allowed_is_problem_json(client: AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/units", {"GET", "POST"}),
        ("/api/v1/units/00000000-0000-0000-0000-000000000001", {"GET", "PATCH"}),
        ("/api/v1/me/tokens", {"GET", "POST"}),
    ],
)
async def test_405_allow_names_every_method_of_the_path(
    client: AsyncClient, path: str, allowed: set[str]
) -> None:
    """Routes declared apart (GET and POST of one path) are one resource: Allow lists all."""
    response = await client.request("OPTIONS", path)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == allowed


async def test_request_id_is_echoed_or_generated(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_route_template(client: AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "http_request_duration_seconds_bucket" in text


async def test_internal_errors_hide_the_stack_trace(settings: Settings, database: Database) -> None:
    app = create_app(settings, database=database)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "internal_error"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


async def test_database_down_gives_503_and_the_app_still_serves(settings: Settings) -> None:
    if settings.is_sqlite:
        down_url = "sqlite+aiosqlite:////dev/null/ntm.db"
    else:
        down_url = "postgresql+asyncpg://postgres@127.0.0.1:1/ntm"
    down = settings.model_copy(update={"database_url": down_url, "db_connect_timeout": 1.0})
    # Building the app (and its engine) must not touch the database: only a request does.
    app: FastAPI = create_app(down)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "database_unavailable"
    await app.state.database.dispose()


def test_committed_openapi_matches_the_app(app: FastAPI) -> None:
    committed = json.loads(Path("openapi/openapi.json").read_text())
    assert app.openapi() == committed, "openapi/openapi.json is stale: run `make openapi`"


async def test_readyz_says_503_when_the_schema_is_behind(
    settings: Settings, tmp_path: Path
) -> None:
    behind = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path}/empty.db"}
    )
    app = create_app(behind)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    await app.state.database.dispose()
    assert response.status_code == 503
    assert response.json()["code"] == "schema_outdated"
    assert "ntm db upgrade" in response.json()["detail"]


async def test_metrics_label_api_routes_with_their_full_template(client: AsyncClient) -> None:
    await client.get("/api/v1/units/00000000-0000-0000-0000-000000000000")
    text = (await client.get("/metrics")).text
    assert 'route="/api/v1/units/{unit_id}"' in text


async def test_requests_answer_503_while_the_database_is_down_and_recover_without_restart(
    settings: Settings, tmp_path: Path
) -> None:
    # The database's folder is blocked by a file: every connection fails until it is replaced.
    blocker = tmp_path / "db"
    blocker.write_text("not a folder")
    url = f"sqlite+aiosqlite:///{blocker}/ntm.db"
    app = create_app(settings.model_copy(update={"database_url": url}))
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as client:
        down = await client.get("/api/v1/units", params={"level": "province"})
        assert down.status_code == 503
        assert down.headers["content-type"] == PROBLEM
        assert down.json()["code"] == "database_unavailable"
        assert down.headers["retry-after"]
        assert (await client.get("/readyz")).status_code == 503

        blocker.unlink()
        blocker.mkdir()
        engine = build_engine(settings.model_copy(update={"database_url": url}))
        await migrate.upgrade(engine)
        await engine.dispose()

        assert (await client.get("/readyz")).status_code == 200
        back = await client.get("/api/v1/units", params={"level": "province"})
        assert back.status_code == 200, back.text
        assert back.json()["items"] == []
    await app.state.database.dispose()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "vi"),
        ("", "vi"),
        ("en", "en"),
        ("en-GB", "en"),
        ("EN-us", "en"),
        ("vi-VN", "vi"),
        ("fr, en;q=0.8", "en"),
        ("fr;q=1.0, en;q=0.8, vi;q=0.5", "en"),
        ("en-GB,en;q=0.9,vi;q=0.5", "en"),
        ("vi;q=0.9, en;q=0.8", "vi"),
        ("en;q=0.5, vi;q=0.9", "vi"),
        ("en;q=0.8, vi;q=0.8", "en"),  # a tie goes to the first given
        ("en;q=0", "vi"),  # q=0: not acceptable
        ("en;q=0, vi;q=0", "vi"),
        ("en;q=nonsense, vi;q=0.1", "vi"),
        ("en;level=1;q=0.7, vi;q=0.6", "en"),
        ("*", "vi"),
        ("fr, de", "vi"),
        (" , ;q=1, en ", "en"),
    ],
)
def test_preferred_language_honours_q_values(header: str | None, expected: str) -> None:
    assert preferred_language(header) == expected


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_documentation_pages_load_every_asset_from_the_service(
    client: AsyncClient, path: str
) -> None:
    """Offline, a page that loads Swagger UI or ReDoc from a CDN stays blank."""
    page = await client.get(path)
    assert page.status_code == 200
    html = page.text
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html), html
    assert "https://" not in html
    assert "http://" not in html
    assets = re.findall(r"(?:src|href)\s*=\s*[\"'](/[^\"']+)[\"']", html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 1000


async def test_responses_over_1_kb_are_gzip_compressed_when_accepted(client: AsyncClient) -> None:
    big = await client.get(
        "/api/v1/units", params={"level": "province"}, headers={"Accept-Encoding": "gzip"}
    )
    assert big.status_code == 200
    assert big.headers["content-encoding"] == "gzip"
    assert int(big.headers["content-length"]) < len(big.content)  # decoded by the client
    assert "accept-encoding" in big.headers["vary"].lower()
    small = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    plain = await client.get(
        "/api/v1/units", params={"level": "province"}, headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert plain.json() == big.json()


async def test_an_unknown_query_parameter_is_422_naming_it(client: AsyncClient) -> None:
    """A typo must never silently widen a list."""
    response = await client.get("/api/v1/units", params={"level": "province", "province_id": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_query_parameter"
    assert body["errors"] == [
        {"loc": ["query", "province_id"], "msg": "unknown parameter", "type": "unknown_parameter"}
    ]
    assert "province_id" in body["detail"]
    known = await client.get("/api/v1/units", params={"level": "province", "limit": 2})
    assert known.status_code == 200
