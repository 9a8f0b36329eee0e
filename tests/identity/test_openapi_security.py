"""Every operation under /api/v1 either is public (marked ``x-public`` in OpenAPI, no token
needed) or declares the bearer security schemes and requires a principal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from httpx import AsyncClient

from app.core.security import current_principal
from tests.identity.test_route_authorisation import api_routes

OPERATIONS = api_routes()
IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


def requires_principal(dependant: Dependant) -> bool:
    return any(
        dependency.call is current_principal or requires_principal(dependency)
        for dependency in dependant.dependencies
    )


def is_public(route: APIRoute) -> bool:
    return bool((route.openapi_extra or {}).get("x-public"))


@pytest.mark.parametrize(("method", "path", "route"), OPERATIONS, ids=IDS)
def test_declares_its_access(method: str, path: str, route: APIRoute, app: FastAPI) -> None:
    operation: dict[str, Any] = app.openapi()["paths"][path][method.lower()]
    if is_public(route):
        assert not requires_principal(route.dependant), (
            f"{method} {path} is public yet needs a token"
        )
        assert not operation.get("security"), f"{method} {path} is public yet declares security"
    else:
        assert requires_principal(route.dependant), (
            f"{method} {path} is neither marked public (openapi_extra=PUBLIC) nor requires a "
            "principal (CurrentPrincipal or require(Action...))"
        )
        assert {"bearer": []} in operation["security"], f"{method} {path}"
        assert {"oauth2": []} in operation["security"], f"{method} {path}"


def test_security_schemes_are_documented(app: FastAPI) -> None:
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    flows = schemes["oauth2"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert flows["clientCredentials"]["tokenUrl"] == "/api/v1/auth/token"


PUBLIC_GETS = [
    path
    for method, path, route in OPERATIONS
    if method == "GET" and is_public(route) and "{" not in path
]


@pytest.mark.parametrize("path", PUBLIC_GETS)
async def test_public_reads_work_without_a_token(path: str, client: AsyncClient) -> None:
    response = await client.get(path)
    assert response.status_code not in {401, 403}, response.text
    assert response.status_code < 500, response.text
