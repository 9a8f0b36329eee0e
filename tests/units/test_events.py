"""Every kind of unit event, applied atomically, with lineage and legal basis."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import AuditRecord
from app.models.units import UnitEvent, UnitVersion
from tests.units.conftest import API, BASIS, assert_problem, event, find


async def unit(client: AsyncClient, unit_id: str, as_of: str) -> dict[str, Any]:
    response = await client.get(f"{API}/units/{unit_id}", params={"as_of": as_of})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def exists(client: AsyncClient, unit_id: str, as_of: str) -> bool:
    response = await client.get(f"{API}/units/{unit_id}", params={"as_of": as_of})
    assert response.status_code in (200, 404)
    return response.status_code == 200


async def test_establish(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    response = await event(
        admin_client,
        "establish",
        "2024-01-01",
        unit={"type": "xa", "code": "T104", "name": "Xã Mới Lập", "parent_id": sandbox["district"]},
        note="tách từ đất của huyện",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "establish"
    assert body["legal_basis"] == {**BASIS, "title": None}
    (new_id,) = body["created_unit_ids"]
    assert await exists(admin_client, new_id, "2024-01-01")
    assert not await exists(admin_client, new_id, "2023-12-31")
    history = (await admin_client.get(f"{API}/units/{new_id}/history")).json()["items"]
    assert history[0]["event_id"] == body["id"]
    assert history[0]["event_kind"] == "establish"
    stored = await admin_client.get(f"{API}/unit-events/{body['id']}")
    assert stored.json() == body
    audit = await session.scalar(
        select(func.count()).where(
            AuditRecord.entity == "unit_event", AuditRecord.entity_id == body["id"]
        )
    )
    assert audit == 1


async def test_dissolve_moves_children_when_told(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    plain = await event(admin_client, "dissolve", "2024-01-01", unit_id=sandbox["T103"])
    assert plain.status_code == 201, plain.text
    assert plain.json()["ended_unit_ids"] == [sandbox["T103"]]
    assert not await exists(admin_client, sandbox["T103"], "2024-01-01")
    assert (await unit(admin_client, sandbox["T103"], "2023-12-31"))["valid_to"] == "2024-01-01"

    moved = await event(
        admin_client,
        "dissolve",
        "2024-06-01",
        unit_id=sandbox["T101"],
        move_children_to=sandbox["T102"],
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["changed_unit_ids"] == [sandbox["village"]]
    assert (await unit(admin_client, sandbox["village"], "2024-06-01"))["parent_id"] == sandbox[
        "T102"
    ]
    assert (await unit(admin_client, sandbox["village"], "2024-05-31"))["parent_id"] == sandbox[
        "T101"
    ]


async def test_merge_into_a_new_unit_that_reuses_a_code(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    response = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"]}, {"unit_id": sandbox["T102"]}],
        target={
            "new_unit": {
                "type": "xa",
                "code": "T101",
                "name": "Xã An Bình",
                "parent_id": sandbox["district"],
            }
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    (merged,) = body["created_unit_ids"]
    assert sorted(body["ended_unit_ids"]) == sorted([sandbox["T101"], sandbox["T102"]])
    assert {(link["predecessor_id"], link["partly"]) for link in body["links"]} == {
        (sandbox["T101"], False),
        (sandbox["T102"], False),
    }
    before = await find(admin_client, "2023-12-31", code="T101", level="commune")
    after = await find(admin_client, "2024-01-01", code="T101", level="commune")
    assert [u["name"] for u in before] == ["Xã An Thử"]
    assert [(u["id"], u["name"]) for u in after] == [(merged, "Xã An Bình")]
    assert (await unit(admin_client, sandbox["village"], "2024-01-01"))["parent_id"] == merged
    lineage = (await admin_client.get(f"{API}/units/{merged}/lineage")).json()
    assert sorted(p["unit"]["name"] for p in lineage["predecessors"]) == [
        "Xã An Thử",
        "Xã Bình Thử",
    ]
    assert lineage["predecessors"][0]["event"]["legal_basis"]["number"] == BASIS["number"]


async def test_merge_into_an_existing_unit_with_a_partial_source(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    response = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"], "partly": True}, {"unit_id": sandbox["T102"]}],
        target={"into_id": sandbox["T103"]},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created_unit_ids"] == []
    assert body["ended_unit_ids"] == [sandbox["T102"]]
    assert await exists(admin_client, sandbox["T101"], "2024-06-01")
    assert await exists(admin_client, sandbox["T103"], "2024-06-01")
    assert not await exists(admin_client, sandbox["T102"], "2024-06-01")
    lineage = (await admin_client.get(f"{API}/units/{sandbox['T103']}/lineage")).json()
    assert {(p["unit"]["id"], p["partly"]) for p in lineage["predecessors"]} == {
        (sandbox["T101"], True),
        (sandbox["T102"], False),
    }


async def test_split_into_new_units(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    parts = [
        {
            "new_unit": {
                "type": "xa",
                "code": "T105",
                "name": "Xã Bắc An",
                "parent_id": sandbox["district"],
            }
        },
        {
            "new_unit": {
                "type": "xa",
                "code": "T106",
                "name": "Xã Nam An",
                "parent_id": sandbox["district"],
            }
        },
    ]
    without = await event(
        admin_client, "split", "2024-01-01", source_id=sandbox["T101"], parts=parts
    )
    assert_problem(without, 422, "unit_has_children", ["body", "source_id"])
    response = await event(
        admin_client,
        "split",
        "2024-01-01",
        source_id=sandbox["T101"],
        parts=parts,
        move_children_to=sandbox["T102"],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["created_unit_ids"]) == 2
    assert body["ended_unit_ids"] == [sandbox["T101"]]
    assert all(link["partly"] for link in body["links"])
    successors = (await admin_client.get(f"{API}/units/{sandbox['T101']}/lineage")).json()[
        "successors"
    ]
    assert sorted(s["unit"]["name"] for s in successors) == ["Xã Bắc An", "Xã Nam An"]
    one_part = await event(
        admin_client,
        "split",
        "2024-06-01",
        source_id=sandbox["T102"],
        parts=parts[:1],
    )
    assert_problem(one_part, 422, "split_parts_invalid", ["body", "parts"])


async def test_split_with_the_source_continuing_is_a_partial_merge(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    response = await event(
        admin_client,
        "split",
        "2024-01-01",
        source_id=sandbox["T101"],
        source_continues=True,
        parts=[{"into_id": sandbox["T102"]}],
    )
    assert response.status_code == 201, response.text
    assert response.json()["ended_unit_ids"] == []
    assert await exists(admin_client, sandbox["T101"], "2024-06-01")
    (link,) = response.json()["links"]
    assert link == {
        "predecessor_id": sandbox["T101"],
        "successor_id": sandbox["T102"],
        "partly": True,
    }
    again = await event(
        admin_client,
        "split",
        "2024-06-01",
        source_id=sandbox["T101"],
        source_continues=True,
        parts=[{"into_id": sandbox["T102"]}],
    )
    assert_problem(again, 422, "lineage_exists")


async def test_rename(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    response = await event(
        admin_client, "rename", "2024-01-01", unit_id=sandbox["T101"], name="Xã An Thịnh"
    )
    assert response.status_code == 201, response.text
    assert response.json()["changed_unit_ids"] == [sandbox["T101"]]
    assert (await unit(admin_client, sandbox["T101"], "2024-01-01"))["name"] == "Xã An Thịnh"
    assert (await unit(admin_client, sandbox["T101"], "2023-12-31"))["name"] == "Xã An Thử"
    history = (await admin_client.get(f"{API}/units/{sandbox['T101']}/history")).json()["items"]
    assert history[-1]["event_kind"] == "rename"
    same = await event(
        admin_client, "rename", "2024-06-01", unit_id=sandbox["T101"], name="Xã An Thịnh"
    )
    assert_problem(same, 422, "event_no_change", ["body", "name"])


async def test_reclassify_commune_to_ward(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    response = await event(
        admin_client,
        "reclassify",
        "2024-01-01",
        unit_id=sandbox["T101"],
        type="phuong",
        name="Phường An Thử",
    )
    assert response.status_code == 201, response.text
    now = await unit(admin_client, sandbox["T101"], "2024-01-01")
    assert (now["type"], now["name"], now["level"]) == ("phuong", "Phường An Thử", "commune")
    assert (await unit(admin_client, sandbox["T101"], "2023-12-31"))["type"] == "xa"
    wrong = await event(
        admin_client, "reclassify", "2024-06-01", unit_id=sandbox["T102"], type="huyen"
    )
    assert_problem(wrong, 422, "type_level_mismatch", ["body", "type"])
    province = await event(
        admin_client,
        "reclassify",
        "2024-01-01",
        unit_id=sandbox["province"],
        type="thanh_pho_tw",
        name="Thành phố Thử Nghiệm",
    )
    assert province.status_code == 201, province.text


async def test_transfer(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    established = await event(
        admin_client,
        "establish",
        "2023-01-01",
        unit={
            "type": "thi_xa",
            "code": "T11",
            "name": "Thị xã Thử",
            "parent_id": sandbox["province"],
        },
    )
    (town,) = established.json()["created_unit_ids"]
    response = await event(
        admin_client,
        "transfer",
        "2024-01-01",
        unit_ids=[sandbox["T101"], sandbox["T102"]],
        parent_id=town,
    )
    assert response.status_code == 201, response.text
    assert sorted(response.json()["changed_unit_ids"]) == sorted([sandbox["T101"], sandbox["T102"]])
    children = (
        await admin_client.get(f"{API}/units/{town}/children", params={"as_of": "2024-01-01"})
    ).json()
    assert [c["code"] for c in children["items"]] == ["T101", "T102"]
    ancestors = (
        await admin_client.get(
            f"{API}/units/{sandbox['village']}/ancestors", params={"as_of": "2024-06-01"}
        )
    ).json()["items"]
    assert [a["id"] for a in ancestors] == [sandbox["province"], town, sandbox["T101"]]
    to_village = await event(
        admin_client,
        "transfer",
        "2024-06-01",
        unit_ids=[sandbox["T103"]],
        parent_id=sandbox["village"],
    )
    assert_problem(to_village, 422, "parent_level_invalid", ["body", "parent_id"])


async def test_an_event_is_all_or_nothing(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    versions = await session.scalar(select(func.count()).select_from(UnitVersion))
    events = await session.scalar(select(func.count()).select_from(UnitEvent))
    missing = str(uuid.uuid4())
    response = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"]}, {"unit_id": missing}],
        target={
            "new_unit": {
                "type": "xa",
                "code": "T109",
                "name": "Xã Gộp",
                "parent_id": sandbox["district"],
            }
        },
    )
    assert_problem(response, 422, "unit_not_found", ["body", "sources", 1, "unit_id"])
    mixed = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"]}, {"unit_id": sandbox["district"]}],
        target={"into_id": sandbox["T102"]},
    )
    assert_problem(mixed, 422, "level_mismatch", ["body", "sources", 1, "unit_id"])
    clash = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"]}, {"unit_id": sandbox["T102"]}],
        target={
            "new_unit": {
                "type": "xa",
                "code": "T103",
                "name": "Xã Trùng",
                "parent_id": sandbox["district"],
            }
        },
    )
    assert_problem(clash, 422, "unit_code_conflict", ["body", "target", "new_unit", "code"])
    assert await session.scalar(select(func.count()).select_from(UnitVersion)) == versions
    assert await session.scalar(select(func.count()).select_from(UnitEvent)) == events
    assert await exists(admin_client, sandbox["T101"], "2024-06-01")


async def test_event_replay_and_conflict(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    event_id = str(uuid.uuid4())
    first = await event(
        admin_client,
        "rename",
        "2024-01-01",
        id=event_id,
        unit_id=sandbox["T102"],
        name="Xã Bình Yên",
    )
    assert first.status_code == 201, first.text
    replay = await event(
        admin_client,
        "rename",
        "2024-01-01",
        id=event_id,
        unit_id=sandbox["T102"],
        name="Xã Bình Yên",
    )
    assert replay.status_code == 200
    assert replay.json() == first.json()
    other = await event(
        admin_client, "rename", "2024-01-01", id=event_id, unit_id=sandbox["T102"], name="Xã Khác"
    )
    assert_problem(other, 409, "unit_event_id_conflict")


async def test_event_bodies_are_validated(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    no_basis = await admin_client.post(
        f"{API}/unit-events",
        json={
            "kind": "rename",
            "effective_date": "2024-01-01",
            "unit_id": sandbox["T101"],
            "name": "X",
            "legal_basis": {"date": "2024-01-01", "issuer": "UBND"},
        },
    )
    assert_problem(no_basis, 422, "validation_error", ["body", "rename", "legal_basis", "number"])
    unknown = await event(admin_client, "annex", "2024-01-01", unit_id=sandbox["T101"])
    assert_problem(unknown, 422, "validation_error")
    both = await event(
        admin_client,
        "merge",
        "2024-01-01",
        sources=[{"unit_id": sandbox["T101"]}],
        target={"into_id": sandbox["T102"], "new_unit": {"type": "xa", "code": "T9", "name": "X"}},
    )
    assert_problem(both, 422, "validation_error")
    missing = await admin_client.get(f"{API}/unit-events/{uuid.uuid4()}")
    assert_problem(missing, 404, "unit_event_not_found")


async def test_lineage_is_transitive(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    merged = await event(
        admin_client,
        "merge",
        "2023-01-01",
        sources=[{"unit_id": sandbox["T101"]}, {"unit_id": sandbox["T102"]}],
        target={
            "new_unit": {
                "type": "xa",
                "code": "T107",
                "name": "Xã Hợp",
                "parent_id": sandbox["district"],
            }
        },
    )
    (middle,) = merged.json()["created_unit_ids"]
    split = await event(
        admin_client,
        "split",
        "2024-01-01",
        source_id=middle,
        move_children_to=sandbox["T103"],
        parts=[
            {
                "new_unit": {
                    "type": "xa",
                    "code": "T108",
                    "name": "Xã Tả",
                    "parent_id": sandbox["district"],
                }
            },
            {"into_id": sandbox["T103"]},
        ],
    )
    assert split.status_code == 201, split.text
    lineage = (await admin_client.get(f"{API}/units/{sandbox['T103']}/lineage")).json()
    found = {(p["unit"]["name"], p["depth"], p["via_id"]) for p in lineage["predecessors"]}
    assert found == {
        ("Xã Hợp", 1, sandbox["T103"]),
        ("Xã An Thử", 2, middle),
        ("Xã Bình Thử", 2, middle),
    }
    forward = (await admin_client.get(f"{API}/units/{sandbox['T101']}/lineage")).json()
    assert {(s["unit"]["name"], s["depth"]) for s in forward["successors"]} == {
        ("Xã Hợp", 1),
        ("Xã Tả", 2),
        ("Xã Cát Thử", 2),
    }
