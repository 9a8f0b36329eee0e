"""Villages by CSV import under their communes: all or nothing, with a per-row error summary."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import today
from app.core.permissions import Role
from app.models.units import Unit
from tests.conftest import PrincipalFactory
from tests.units.conftest import API, assert_problem, find, one


async def test_import_villages(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    commune = await one(admin_client, "2026-01-01", code="07444")
    csv = (
        "code,name,type,parent_code\n"
        "07444-101,Thôn Đồi Ngô 1,thon,7444\n"
        "07444-102,Tổ dân phố 2,Tổ dân phố,07444\n"
        f"T101-02,Bản Hai,BAN,{sandbox['T101']}\n"
    ).encode()
    response = await admin_client.post(
        f"{API}/units/import",
        params={"as_of": "2026-01-01"},
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["created"], body["unchanged"], body["dry_run"]) == (3, 3, 0, False)
    villages = await find(admin_client, "2026-01-01", parent_id=commune["id"])
    assert [(v["code"], v["name"], v["type"], v["valid_from"]) for v in villages] == [
        ("07444-101", "Thôn Đồi Ngô 1", "thon", "2026-01-01"),
        ("07444-102", "Tổ dân phố 2", "to_dan_pho", "2026-01-01"),
    ]
    assert await find(admin_client, "2025-12-31", parent_id=commune["id"]) == []

    again = await admin_client.post(
        f"{API}/units/import",
        params={"as_of": "2026-01-01"},
        files={"file": ("villages.csv", csv, "text/csv")},
    )
    assert again.status_code == 200, again.text  # nothing created
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    assert again.json()["unit_ids"] == body["unit_ids"]


async def test_a_bad_file_writes_nothing_and_names_each_row(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    before = await session.scalar(select(func.count()).select_from(Unit))
    csv = (
        "code,name,type,parent_code\n"
        "T-1,Thôn Một,thon,T101\n"
        "T-2,Thôn Hai,xa,99999\n"
        "T-1,Thôn Ba,ap,07444\n"
        f"T101-01,Thôn Trùng,thon,{sandbox['T102']}\n"
        f"T-5,Thôn Năm,thon,{sandbox['district']}\n"
    )
    response = await admin_client.post(
        f"{API}/units/import", content=csv.encode(), headers={"Content-Type": "text/csv"}
    )
    assert_problem(response, 422, "import_rejected")
    problem = response.json()
    found = {(e["loc"][1], e["loc"][2], e["type"]) for e in problem["errors"]}
    assert found == {
        (2, "parent", "parent_not_found"),
        (3, "type", "type_invalid"),
        (3, "parent", "parent_not_found"),
        (4, "code", "unit_code_conflict"),
        (5, "code", "unit_code_conflict"),
        (6, "parent", "parent_level_invalid"),
    }
    assert problem["summary"] == {"rows": 5, "rejected": 5}
    assert await session.scalar(select(func.count()).select_from(Unit)) == before


async def test_dry_run_and_header_problems(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    before = await session.scalar(select(func.count()).select_from(Unit))
    dry = await admin_client.post(
        f"{API}/units/import",
        params={"dry_run": "true"},
        content="code,name,type,parent_code\n07444-9,Thôn Chín,thon,07444\n".encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert dry.status_code == 200, dry.text  # a dry run creates nothing
    assert (dry.json()["created"], dry.json()["dry_run"]) == (1, True)
    assert await session.scalar(select(func.count()).select_from(Unit)) == before
    header = await admin_client.post(
        f"{API}/units/import", content=b"code,name\nX,Y\n", headers={"Content-Type": "text/csv"}
    )
    assert_problem(header, 422, "import_header_invalid")
    empty = await admin_client.post(
        f"{API}/units/import",
        content=b"code,name,type,parent_id\n",
        headers={"Content-Type": "text/csv"},
    )
    assert_problem(empty, 422, "import_empty")
    bad_date = await admin_client.post(
        f"{API}/units/import",
        params={"as_of": "2026-02-29"},
        content=b"x",
        headers={"Content-Type": "text/csv"},
    )
    assert_problem(bad_date, 422, "validation_error", ["query", "as_of"])


@pytest.mark.parametrize(
    ("where", "role", "status", "code"),
    [
        # A commune the caller cannot see is refused as one that does not exist.
        ("elsewhere", Role.PROVINCE_COORDINATOR, 422, "import_rejected"),
        ("here", Role.VIEWER, 403, "forbidden"),
    ],
)
async def test_a_dry_run_is_authorised_like_the_real_run(
    client: AsyncClient,
    admin_client: AsyncClient,
    sandbox: dict[str, str],
    session: AsyncSession,
    make_principal: PrincipalFactory,
    where: str,
    role: Role,
    status: int,
    code: str,
) -> None:
    """Out of the caller's scope: the row is refused as an absent commune (422, naming what the
    row gave) in the dry run exactly as in the real run; visible without the right: 403 for
    both; nothing written either way."""
    other = (await one(admin_client, "2026-01-01", code="01", level="province"))["id"]
    scope = other if where == "elsewhere" else sandbox["province"]
    caller = await make_principal((role, uuid.UUID(scope)))
    before = await session.scalar(select(func.count()).select_from(Unit))
    csv = f"code,name,type,parent_id\nT101-77,Thôn Ngoài,thon,{sandbox['T101']}\n".encode()
    answers = []
    for dry_run in ("true", "false"):
        response = await client.post(
            f"{API}/units/import",
            params={"dry_run": dry_run},
            content=csv,
            headers={**caller.headers, "Content-Type": "text/csv"},
        )
        assert_problem(response, status, code)
        if where == "elsewhere":
            [error] = response.json()["errors"]
            assert (error["type"], error["msg"]) == (
                "parent_not_found",
                f"no commune {sandbox['T101']} on {today()}.",
            )
        answers.append({k: v for k, v in response.json().items() if k != "instance"})
    assert answers[0] == answers[1]
    assert await session.scalar(select(func.count()).select_from(Unit)) == before
