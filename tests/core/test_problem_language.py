"""Problems of every feature answer in Vietnamese by default and in English when preferred, with
the same ``code`` (issue 11 item 4), and say which language they are in."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from app.config import Settings
from app.core.permissions import Role
from app.db.engine import Database
from app.main import create_app
from tests.conftest import PrincipalFactory
from tests.core.test_messages import VIETNAMESE
from tests.criteria.helpers import BASE as SETS
from tests.criteria.helpers import create_published, document

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}


def _problem(response: Response, status: int, code: str, language: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["content-language"] == language
    assert "accept-language" in response.headers["vary"].lower()
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["type"].endswith(code)
    if language == "vi":
        assert VIETNAMESE.search(body["title"]), body
        assert VIETNAMESE.search(body["detail"]), body
    else:
        assert not VIETNAMESE.search(body["title"] + body["detail"]), body
    return body


async def _both(client: AsyncClient, method: str, url: str, **kwargs: Any) -> list[Response]:
    headers = kwargs.pop("headers", {})
    default = await client.request(method, url, headers=headers, **kwargs)
    english = await client.request(method, url, headers={**headers, **EN}, **kwargs)
    return [default, english]


async def test_404_of_a_unit(client: AsyncClient) -> None:
    unit_id = uuid.uuid4()
    default, english = await _both(client, "GET", f"/api/v1/units/{unit_id}")
    vi = _problem(default, 404, "unit_not_found", "vi")
    assert vi["title"] == "Không tìm thấy"
    assert vi["detail"] == f"Không có đơn vị hành chính {unit_id}."
    en = _problem(english, 404, "unit_not_found", "en")
    assert (en["title"], en["detail"]) == ("Not Found", f"No unit {unit_id}.")


async def test_404_of_an_unknown_path(client: AsyncClient) -> None:
    default, english = await _both(client, "GET", "/api/v1/nothing-here")
    assert _problem(default, 404, "not_found", "vi")["detail"] == (
        "Không có tài nguyên tại /api/v1/nothing-here."
    )
    assert (
        _problem(english, 404, "not_found", "en")["detail"]
        == "No resource at /api/v1/nothing-here."
    )


async def test_409_criteria_set_published(admin_client: AsyncClient) -> None:
    published = await create_published(admin_client, document())
    default, english = await _both(
        admin_client, "PATCH", f"{SETS}/{published['id']}", json={"complete": True}
    )
    vi = _problem(default, 409, "criteria_set_published", "vi")
    assert vi["title"] == "Xung đột"
    assert vi["detail"].startswith(f"Bộ tiêu chí {published['code']} đã ban hành")
    en = _problem(english, 409, "criteria_set_published", "en")
    assert en["detail"].startswith(f"{published['code']} is published")


async def test_422_validation_error(client: AsyncClient) -> None:
    default, english = await _both(client, "GET", "/api/v1/units?limit=0")
    vi = _problem(default, 422, "validation_error", "vi")
    assert vi["detail"] == "Yêu cầu không hợp lệ: query.limit."
    # the field errors stay as pydantic wrote them, in both languages
    assert vi["errors"][0]["loc"] == ["query", "limit"]
    en = _problem(english, 422, "validation_error", "en")
    assert en["detail"] == "The request is not valid: query.limit."
    assert en["errors"] == vi["errors"]


async def test_422_unknown_query_parameter(client: AsyncClient) -> None:
    default, english = await _both(client, "GET", "/api/v1/units?province_id=x")
    assert "province_id" in _problem(default, 422, "unknown_query_parameter", "vi")["detail"]
    assert "province_id" in _problem(english, 422, "unknown_query_parameter", "en")["detail"]


async def test_412_if_match(admin_client: AsyncClient) -> None:
    published = await create_published(admin_client, document())
    stale = {"If-Match": '"not-the-current-tag"'}
    default, english = await _both(
        admin_client, "POST", f"{SETS}/{published['id']}/retire", headers=stale
    )
    _problem(default, 412, "precondition_failed", "vi")
    _problem(english, 412, "precondition_failed", "en")


async def test_401_and_403(client: AsyncClient, make_principal: PrincipalFactory) -> None:
    default, english = await _both(client, "GET", "/api/v1/me")
    _problem(default, 401, "not_authenticated", "vi")
    _problem(english, 401, "not_authenticated", "en")
    viewer = await make_principal(Role.VIEWER)
    default, english = await _both(client, "POST", "/api/v1/users", json={}, headers=viewer.headers)
    vi = _problem(default, 403, "forbidden", "vi")
    assert "`users:manage`" in vi["detail"]
    _problem(english, 403, "forbidden", "en")


async def test_405(client: AsyncClient) -> None:
    default, english = await _both(client, "DELETE", "/healthz")
    _problem(default, 405, "method_not_allowed", "vi")
    _problem(english, 405, "method_not_allowed", "en")
    assert english.headers["allow"] == default.headers["allow"]


@pytest.mark.parametrize("header", ["fr, en;q=0.8", "en-GB", "vi;q=0.1, en;q=0.5"])
async def test_english_by_q_values(client: AsyncClient, header: str) -> None:
    response = await client.get("/api/v1/nothing-here", headers={"Accept-Language": header})
    _problem(response, 404, "not_found", "en")


@pytest.mark.parametrize("header", ["en;q=0, vi", "*", "fr"])
async def test_vietnamese_otherwise(client: AsyncClient, header: str) -> None:
    response = await client.get("/api/v1/nothing-here", headers={"Accept-Language": header})
    _problem(response, 404, "not_found", "vi")


async def test_413_before_the_routes(settings: Settings, database: Database) -> None:
    """A body refused by the ASGI guard, below the routes, is translated all the same."""
    small: FastAPI = create_app(
        settings.model_copy(update={"max_json_body_bytes": 1024}), database=database
    )
    transport = ASGITransport(app=small, raise_app_exceptions=False)
    body = b'{"name": "' + b"x" * 4096 + b'"}'
    async with AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        for headers, language in ((VI, "vi"), (EN, "en")):
            response = await anonymous.post(
                "/api/v1/units",
                content=body,
                headers={"content-type": "application/json", **headers},
            )
            _problem(response, 413, "payload_too_large", language)
