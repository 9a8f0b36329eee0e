"""Identity input no account can hold is a 4xx naming the field, never a 500 and never a write."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.identity import Client, LoginFailure, User
from tests.identity.helpers import TOKEN_URL, assert_problem


def _locs(body: dict[str, Any]) -> list[list[Any]]:
    return [error["loc"] for error in body["errors"]]


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"grant_type": "password", "username": "a\x00", "password": "x"}, "username"),
        ({"grant_type": "password", "username": "a", "password": "x\x00"}, "password"),
        (
            {"grant_type": "client_credentials", "client_id": "a\x00", "client_secret": "x"},
            "client_id",
        ),
    ],
)
async def test_nul_in_the_token_form_is_422_and_no_failure_is_counted(
    client: AsyncClient, session: AsyncSession, form: dict[str, str], field: str
) -> None:
    before = await _count(session, LoginFailure)
    body = assert_problem(await client.post(TOKEN_URL, data=form), 422, "validation_error")
    assert ["body", field] in _locs(body)
    assert await _count(session, LoginFailure) == before


async def test_nul_in_basic_client_credentials_is_invalid_client(client: AsyncClient) -> None:
    basic = base64.b64encode(b"a\x00:b\x00").decode()
    response = await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert_problem(response, 401, "invalid_client")


async def test_nul_in_a_new_account_is_422_and_nothing_is_written(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    users, clients = await _count(session, User), await _count(session, Client)
    response = await admin_client.post(
        "/api/v1/users",
        json={"username": "nul-user", "display_name": "A\x00", "password": "Correct-horse-7"},
    )
    assert ["body", "display_name"] in _locs(assert_problem(response, 422, "validation_error"))
    response = await admin_client.post("/api/v1/clients", json={"name": "c\x00"})
    assert ["body", "name"] in _locs(assert_problem(response, 422, "validation_error"))
    response = await admin_client.post("/api/v1/me/tokens", json={"name": "t\x00"})
    assert ["body", "name"] in _locs(assert_problem(response, 422, "validation_error"))
    assert (await _count(session, User), await _count(session, Client)) == (users, clients)


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/clients"])
@pytest.mark.parametrize("instant", ["2024-01-01T00:00:00", "0001-01-01T00:00:00+14:00"])
async def test_updated_since_naive_or_out_of_range_is_422(
    admin_client: AsyncClient, path: str, instant: str
) -> None:
    response = await admin_client.get(path, params={"updated_since": instant})
    assert ["query", "updated_since"] in _locs(assert_problem(response, 422, "validation_error"))
