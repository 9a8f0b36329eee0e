"""Every invariant of the map answers 422 problem+json naming the field, and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import AuditRecord
from app.models.units import Unit, UnitEvent, UnitLink, UnitVersion
from tests.units.conftest import API, assert_problem, create, event, one


@pytest.fixture
async def unchanged(session: AsyncSession, sandbox: dict[str, str]) -> AsyncIterator[None]:
    """The test's failing requests must leave every table as it was."""

    async def counts() -> list[Any]:
        tables = (Unit, UnitVersion, UnitEvent, UnitLink, AuditRecord)
        return [await session.scalar(select(func.count()).select_from(t)) for t in tables]

    before = await counts()
    yield
    assert await counts() == before


def post(client: AsyncClient, **body: Any) -> Any:
    return client.post(f"{API}/units", json=body)


async def test_no_two_units_share_level_and_code_on_a_day(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    first = await create(
        admin_client,
        type="thon",
        code="T-R",
        name="Thôn Cũ",
        parent_id=sandbox["T101"],
        valid_from="2020-01-01",
        valid_to="2022-01-01",
    )
    reused = await create(
        admin_client,
        type="thon",
        code="T-R",
        name="Thôn Mới",
        parent_id=sandbox["T102"],
        valid_from="2022-01-01",
    )
    assert first["id"] != reused["id"]
    versions = await session.scalar(select(func.count()).select_from(UnitVersion))
    clash = await post(
        admin_client,
        type="thon",
        code="T-R",
        name="Thôn Trùng",
        parent_id=sandbox["T103"],
        valid_from="2021-06-01",
    )
    assert_problem(clash, 422, "unit_code_conflict", ["body", "code"])
    assert "Thôn" in clash.json()["errors"][0]["msg"]
    assert await session.scalar(select(func.count()).select_from(UnitVersion)) == versions

    bac_ninh = await one(admin_client, "2026-01-01", code="24", level="province")
    national = await post(
        admin_client,
        type="xa",
        code="07444",
        name="Xã Trùng Mã",
        parent_id=bac_ninh["id"],
        valid_from="2026-01-01",
    )
    assert_problem(national, 422, "unit_code_conflict", ["body", "code"])
    same_code_other_level = await post(
        admin_client, type="thon", code="T101", name="Thôn T101", parent_id=sandbox["T101"]
    )
    assert same_code_other_level.status_code == 201


@pytest.mark.usefixtures("unchanged")
async def test_parent_must_exist_and_be_of_a_higher_level(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    assert_problem(
        await post(
            admin_client,
            type="thon",
            code="T9",
            name="Thôn",
            parent_id=str(uuid.uuid4()),
            valid_from="2021-01-01",
        ),
        422,
        "parent_not_found",
        ["body", "parent_id"],
    )
    assert_problem(
        await post(
            admin_client,
            type="xa",
            code="T9",
            name="Xã",
            parent_id=sandbox["village"],
            valid_from="2021-01-01",
        ),
        422,
        "parent_level_invalid",
        ["body", "parent_id"],
    )
    assert_problem(
        await post(
            admin_client,
            type="thon",
            code="T9",
            name="Thôn",
            parent_id=sandbox["district"],
            valid_from="2021-01-01",
        ),
        422,
        "parent_level_invalid",
        ["body", "parent_id"],
    )
    assert_problem(
        await post(
            admin_client,
            type="tinh",
            code="T9",
            name="Tỉnh",
            parent_id=sandbox["province"],
            valid_from="2021-01-01",
        ),
        422,
        "parent_level_invalid",
        ["body", "parent_id"],
    )
    assert_problem(
        await post(admin_client, type="huyen", code="T9", name="Huyện", valid_from="2021-01-01"),
        422,
        "parent_required",
        ["body", "parent_id"],
    )


@pytest.mark.usefixtures("unchanged")
async def test_parent_must_be_valid_on_every_day(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    assert_problem(
        await post(
            admin_client,
            type="thon",
            code="T9",
            name="Thôn",
            parent_id=sandbox["T101"],
            valid_from="2019-01-01",
        ),
        422,
        "parent_not_valid",
        ["body", "parent_id"],
    )
    old = await one(admin_client, "2024-06-01", code="07468")
    assert_problem(
        await post(
            admin_client,
            type="thon",
            code="T9",
            name="Thôn",
            parent_id=old["id"],
            valid_from="2024-01-01",
            valid_to="2026-01-01",
        ),
        422,
        "parent_not_valid",
        ["body", "parent_id"],
    )
    moving = await admin_client.patch(
        f"{API}/units/{sandbox['T101']}",
        json={"effective_date": "2024-01-01", "parent_id": old["id"]},
    )
    assert_problem(moving, 422, "parent_level_invalid", ["body", "parent_id"])


@pytest.mark.usefixtures("unchanged")
async def test_no_cycles(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    itself = await admin_client.patch(
        f"{API}/units/{sandbox['T101']}",
        json={"effective_date": "2024-01-01", "parent_id": sandbox["T101"]},
    )
    assert_problem(itself, 422, "cycle_detected", ["body", "parent_id"])
    under_its_child = await admin_client.patch(
        f"{API}/units/{sandbox['district']}",
        json={"effective_date": "2024-01-01", "parent_id": sandbox["T101"]},
    )
    assert_problem(under_its_child, 422, "cycle_detected", ["body", "parent_id"])


@pytest.mark.usefixtures("unchanged")
async def test_versions_never_overlap(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    same_day = await admin_client.patch(
        f"{API}/units/{sandbox['T101']}", json={"effective_date": "2020-01-01", "name": "Xã Khác"}
    )
    assert_problem(same_day, 422, "version_overlap", ["body", "effective_date"])
    assert_problem(
        await post(
            admin_client,
            type="thon",
            code="T9",
            name="Thôn",
            parent_id=sandbox["T101"],
            valid_from="2024-01-01",
            valid_to="2023-01-01",
        ),
        422,
        "invalid_interval",
        ["body", "valid_to"],
    )


async def test_no_end_before_a_later_version(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    renamed = await admin_client.patch(
        f"{API}/units/{sandbox['T103']}", json={"effective_date": "2024-01-01", "name": "Xã Sau"}
    )
    assert renamed.status_code == 200
    response = await event(admin_client, "dissolve", "2023-01-01", unit_id=sandbox["T103"])
    assert_problem(response, 422, "version_overlap", ["body", "unit_id"])


@pytest.mark.usefixtures("unchanged")
async def test_dissolving_a_unit_with_children_needs_a_destination(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    response = await event(admin_client, "dissolve", "2024-01-01", unit_id=sandbox["T101"])
    assert_problem(response, 422, "unit_has_children", ["body", "unit_id"])
    assert "children" in response.json()["errors"][0]["msg"]
    district = await event(admin_client, "dissolve", "2024-01-01", unit_id=sandbox["district"])
    assert_problem(district, 422, "unit_has_children", ["body", "unit_id"])


@pytest.mark.usefixtures("unchanged")
async def test_dates_must_be_real_dates(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    assert_problem(
        await post(
            admin_client,
            type="thon",
            code="T9",
            name="Thôn",
            parent_id=sandbox["T101"],
            valid_from="2024-02-30",
        ),
        422,
        "validation_error",
        ["body", "valid_from"],
    )
    assert_problem(
        await event(admin_client, "rename", "2024-13-01", unit_id=sandbox["T101"], name="Xã X"),
        422,
        "validation_error",
        ["body", "rename", "effective_date"],
    )
    assert_problem(
        await admin_client.get(f"{API}/units/{sandbox['T101']}", params={"as_of": "2024-04-31"}),
        422,
        "validation_error",
        ["query", "as_of"],
    )
    assert_problem(
        await admin_client.get(f"{API}/units/tree", params={"as_of": "yesterday"}),
        422,
        "validation_error",
        ["query", "as_of"],
    )
