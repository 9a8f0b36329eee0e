"""Values a criteria document cannot hold are a 422 naming the field, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.criteria.document import IndicatorDocument
from app.models.criteria import CriteriaSet
from tests.criteria.helpers import BASE, create, document

PROBLEM = "application/problem+json"
VALUE_MIN = ["body", "criteria", 0, "indicators", 0, "value_min"]


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CriteriaSet)) or 0)


def _assert_422(response: Any, loc: list[Any]) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    assert loc in [error["loc"] for error in body["errors"]], body["errors"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 30])
@pytest.mark.parametrize("path", [BASE, f"{BASE}/import", f"{BASE}/import?dry_run=true"])
async def test_non_finite_or_huge_numbers_are_refused(
    admin_client: AsyncClient, session: AsyncSession, literal: str, path: str
) -> None:
    doc = document()
    doc["criteria"][0]["indicators"][0]["value_min"] = "@@"
    before = await _count(session)
    response = await admin_client.post(
        path,
        content=json.dumps(doc).replace('"@@"', literal).encode(),
        headers={"Content-Type": "application/json"},
    )
    _assert_422(response, VALUE_MIN)
    assert await _count(session) == before


def test_the_document_model_refuses_nan_read_from_a_file() -> None:
    with pytest.raises(ValueError, match="finite"):
        IndicatorDocument.model_validate(
            {"code": "1.1", "name": {"vi": "x"}, "kind": "number", "value_min": float("nan")}
        )


@pytest.mark.parametrize(
    ("where", "loc"),
    [
        (lambda doc: doc["name"].update(vi="Bộ\x00"), ["body", "name", "vi"]),
        (
            lambda doc: doc["criteria"][0]["indicators"][0].update(code="10\x001"),
            ["body", "criteria", 0, "indicators", 0, "code"],
        ),
    ],
)
async def test_nul_characters_are_refused(
    admin_client: AsyncClient, session: AsyncSession, where: Any, loc: list[Any]
) -> None:
    doc = document()
    where(doc)
    before = await _count(session)
    _assert_422(await admin_client.post(BASE, json=doc), loc)
    assert await _count(session) == before


async def test_patching_a_draft_with_a_nul_leaves_it_unchanged(admin_client: AsyncClient) -> None:
    draft = await create(admin_client, document())
    response = await admin_client.patch(f"{BASE}/{draft['id']}", json={"name": {"vi": "x\x00"}})
    _assert_422(response, ["body", "name", "vi"])
    after = await admin_client.get(f"{BASE}/{draft['id']}")
    assert after.json()["names"] == draft["names"]
