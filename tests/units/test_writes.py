"""Creating units and changing them as new versions; audit records in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import AuditRecord
from app.models.units import Unit, UnitVersion
from tests.units.conftest import API, assert_problem, create, one


async def test_create_village_under_a_commune(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    commune = await one(admin_client, "2026-01-01", code="07444")
    unit_id = str(uuid.uuid4())
    body = {
        "id": unit_id,
        "type": "thon",
        "code": "07444-001",
        "name": "Thôn  Đồng Mới",
        "parent_id": commune["id"],
    }
    response = await admin_client.post(f"{API}/units", json=body)
    assert response.status_code == 201, response.text
    village = response.json()
    assert village["id"] == unit_id
    assert village["level"] == "village"
    assert village["name"] == "Thôn Đồng Mới"
    # the commune's current version: Phường Lục Nam since 388/NQ-UBTVQH16 (2026-09-20, flagged)
    assert village["valid_from"] == "2026-09-20"
    assert village["valid_to"] is None
    assert village["parent"]["name"] == "Phường Lục Nam"
    assert response.headers["location"] == f"/api/v1/units/{unit_id}"
    assert response.headers["etag"]

    replay = await admin_client.post(f"{API}/units", json=body)
    assert replay.status_code == 200
    assert replay.json()["id"] == unit_id
    other = await admin_client.post(f"{API}/units", json={**body, "name": "Thôn Khác"})
    assert_problem(other, 409, "unit_id_conflict")

    found = await one(admin_client, "2026-10-01", q="dong moi", level="village")
    assert found["id"] == unit_id
    audit = await session.scalar(
        select(func.count()).where(AuditRecord.entity == "unit", AuditRecord.entity_id == unit_id)
    )
    assert audit == 1


async def test_a_village_under_an_old_commune_ends_with_it(admin_client: AsyncClient) -> None:
    commune = await one(admin_client, "2024-06-01", code="07468")
    village = await create(
        admin_client,
        type="ban",
        code="07468-01",
        name="Bản Một",
        parent_id=commune["id"],
        valid_from="2020-01-01",
    )
    assert village["valid_to"] == "2025-07-01"
    assert village["valid_from"] == "2020-01-01"


async def test_patch_makes_a_new_version(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    url = f"{API}/units/{sandbox['T101']}"
    current = await admin_client.get(url)
    response = await admin_client.patch(
        url,
        json={"effective_date": "2024-03-01", "name": "Phường An Thử", "type": "phuong"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Phường An Thử"
    assert response.headers["etag"] != current.headers["etag"]
    history = (await admin_client.get(f"{url}/history")).json()["items"]
    assert [(v["valid_from"], v["valid_to"], v["name"], v["type"]) for v in history] == [
        ("2020-01-01", "2024-03-01", "Xã An Thử", "xa"),
        ("2024-03-01", None, "Phường An Thử", "phuong"),
    ]
    old = (await admin_client.get(url, params={"as_of": "2023-12-31"})).json()
    assert old["name"] == "Xã An Thử"


async def test_patch_transfers_and_recodes(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    other = await create(
        admin_client,
        type="huyen",
        code="T11",
        name="Huyện Tây Thử",
        parent_id=sandbox["province"],
        valid_from="2020-01-01",
    )
    url = f"{API}/units/{sandbox['T102']}"
    response = await admin_client.patch(
        url, json={"effective_date": "2023-01-01", "parent_id": other["id"], "code": "T112"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["parent"]["id"] == other["id"]
    assert response.json()["code"] == "T112"
    old = (await admin_client.get(url, params={"as_of": "2022-06-01"})).json()
    assert old["parent_id"] == sandbox["district"]
    assert old["code"] == "T102"


async def test_patch_rules(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    url = f"{API}/units/{sandbox['T103']}"
    before = await session.scalar(select(func.count()).select_from(UnitVersion))

    assert_problem(
        await admin_client.patch(url, json={"name": "Xã Mới"}),
        422,
        "effective_date_required",
        ["body", "effective_date"],
    )
    assert_problem(
        await admin_client.patch(url, json={"effective_date": "2024-01-01", "type": "huyen"}),
        422,
        "type_level_mismatch",
        ["body", "type"],
    )
    assert_problem(
        await admin_client.patch(url, json={"effective_date": "2019-01-01", "name": "Xã Cũ"}),
        422,
        "unit_not_valid",
        ["body", "effective_date"],
    )
    stale = await admin_client.patch(
        url,
        json={"effective_date": "2024-01-01", "name": "Xã Mới"},
        headers={"If-Match": 'W/"stale"'},
    )
    assert_problem(stale, 412, "precondition_failed")
    assert_problem(
        await admin_client.patch(url, json={"effective_date": "2024-02-30", "name": "X"}),
        422,
        "validation_error",
        ["body", "effective_date"],
    )
    assert_problem(
        await admin_client.patch(url, json={"effective_date": "2024-01-01", "name": None}),
        422,
        "value_required",
        ["body", "name"],
    )
    missing = await admin_client.patch(
        f"{API}/units/{uuid.uuid4()}", json={"effective_date": "2024-01-01", "name": "X"}
    )
    assert_problem(missing, 404, "unit_not_found")
    assert await session.scalar(select(func.count()).select_from(UnitVersion)) == before

    same = await admin_client.patch(
        url, json={"effective_date": "2024-01-01", "name": "Xã Cát Thử"}
    )
    assert same.status_code == 200
    assert await session.scalar(select(func.count()).select_from(UnitVersion)) == before


async def test_create_rules(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    assert_problem(
        await admin_client.post(
            f"{API}/units",
            json={
                "type": "xa",
                "level": "district",
                "code": "T9",
                "name": "X",
                "parent_id": sandbox["district"],
            },
        ),
        422,
        "type_level_mismatch",
        ["body", "type"],
    )
    assert_problem(
        await admin_client.post(
            f"{API}/units",
            json={
                "type": "thon",
                "code": "T9",
                "name": "Thôn",
                "parent_id": sandbox["T101"],
                "valid_from": "2024-01-01",
                "valid_to": "2024-01-01",
            },
        ),
        422,
        "invalid_interval",
        ["body", "valid_to"],
    )
    assert_problem(
        await admin_client.post(
            f"{API}/units", json={"type": "nonsense", "code": "T9", "name": "X"}
        ),
        422,
        "validation_error",
        ["body", "type"],
    )


async def test_updated_since_orders_by_change(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    items = (
        await admin_client.get(
            f"{API}/units",
            params={"updated_since": "2026-01-01T00:00:00Z", "as_of": "2024-06-01", "limit": 3},
        )
    ).json()
    keys = [(i["updated_at"], i["id"]) for i in items["items"]]
    assert keys == sorted(keys)
    following = await admin_client.get(
        f"{API}/units",
        params={
            "updated_since": "2026-01-01T00:00:00Z",
            "as_of": "2024-06-01",
            "limit": 3,
            "cursor": items["next_cursor"],
        },
    )
    assert following.status_code == 200
    later = [(i["updated_at"], i["id"]) for i in following.json()["items"]]
    assert not later or later[0] > keys[-1]
    since = datetime.now(UTC).isoformat()
    await admin_client.patch(
        f"{API}/units/{sandbox['T103']}",
        json={"effective_date": "2024-01-01", "name": "Xã Đổi Tên"},
    )
    mine = (
        await admin_client.get(
            f"{API}/units", params={"updated_since": since, "as_of": "2024-06-01"}
        )
    ).json()["items"]
    assert [(m["id"], m["name"]) for m in mine] == [(sandbox["T103"], "Xã Đổi Tên")]


async def test_if_match_is_strong_and_follows_the_unit_revision(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    """If-Match uses the strong comparison (RFC 9110 §13.1.1): the weak form of the current
    tag never matches. Any change of the unit (here a classification) bumps its revision, so an
    ETag read before it is stale."""
    url = f"{API}/units/{sandbox['T103']}"
    first = await admin_client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    change = {"effective_date": "2024-01-01", "name": "Xã Mới"}
    weak = await admin_client.patch(url, json=change, headers={"If-Match": f"W/{etag}"})
    assert_problem(weak, 412, "precondition_failed")
    assert weak.json()["current_etag"] == etag

    revision = await session.scalar(
        select(Unit.revision).where(Unit.id == uuid.UUID(sandbox["T103"]))
    )
    classified = await admin_client.post(
        f"{url}/classifications",
        json={"kind": "especially_difficult", "value": "true", "valid_from": "2024-01-01"},
    )
    assert classified.status_code == 200, classified.text
    bumped = await session.scalar(
        select(Unit.revision).where(Unit.id == uuid.UUID(sandbox["T103"]))
    )
    assert bumped == revision + 1
    stale = await admin_client.patch(url, json=change, headers={"If-Match": etag})
    assert_problem(stale, 412, "precondition_failed")
    current = (await admin_client.get(url)).headers["etag"]
    assert current != etag
    done = await admin_client.patch(url, json=change, headers={"If-Match": current})
    assert done.status_code == 200, done.text
    assert done.json()["name"] == "Xã Mới"
    assert done.headers["etag"] == (await admin_client.get(url)).headers["etag"] != current
