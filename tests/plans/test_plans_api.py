"""Plans, targets, roadmap items, tasks, adjustments and documents through the API: the write
pattern (ETags, If-Match), bad input refused with the field named and nothing written."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.plans import PlanRoadmapItem, PlanTarget, PlanTask
from app.models.system import AuditRecord
from tests.plans.conftest import API, assert_problem, make_plan, ok


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_plan_lifecycle_with_etags(
    admin_client: AsyncClient, province: dict[str, str], session: AsyncSession
) -> None:
    created = await admin_client.post(
        f"{API}/plans",
        json={
            "number": "2831/KH-UBND",
            "title": "Kế hoạch giai đoạn 2021-2025",
            "issuing_unit_id": province["province"],
            "issue_date": "2022-06-21",
            "start_year": 2021,
            "end_year": 2025,
            "legal_reference": "Nghị quyết của Tỉnh ủy (kiểm thử)",
        },
    )
    plan = ok(created, 201)
    assert plan["status"] == "draft"
    assert plan["version"] == 1
    assert plan["scope_as_of"] == "2022-06-21"
    assert plan["effective_from"] == "2022-06-21"
    etag = created.headers["ETag"]
    got = await admin_client.get(f"{API}/plans/{plan['id']}")
    assert got.headers["ETag"] == etag
    assert (
        await admin_client.get(f"{API}/plans/{plan['id']}", headers={"If-None-Match": etag})
    ).status_code == 304

    stale = await admin_client.patch(
        f"{API}/plans/{plan['id']}", json={"title": "Mới"}, headers={"If-Match": '"stale"'}
    )
    assert stale.status_code == 412, stale.text
    edited = await admin_client.patch(
        f"{API}/plans/{plan['id']}", json={"title": "Kế hoạch (sửa)"}, headers={"If-Match": etag}
    )
    assert ok(edited)["title"] == "Kế hoạch (sửa)"
    assert edited.headers["ETag"] != etag
    in_force = ok(
        await admin_client.patch(f"{API}/plans/{plan['id']}", json={"status": "in_force"})
    )
    assert in_force["status"] == "in_force"
    assert_problem(
        await admin_client.patch(f"{API}/plans/{plan['id']}", json={"title": "x"}),
        409,
        "plan_not_draft",
    )
    assert_problem(
        await admin_client.patch(f"{API}/plans/{plan['id']}", json={"status": "superseded"}),
        409,
        "plan_transition_not_allowed",
    )
    listed = ok(
        await admin_client.get(f"{API}/plans", params={"issuing_unit_id": province["province"]})
    )
    assert [p["id"] for p in listed["items"]] == [plan["id"]]
    audits = await session.scalar(
        select(func.count()).where(
            AuditRecord.entity == "plan", AuditRecord.entity_id == plan["id"]
        )
    )
    assert audits == 3


async def test_items_and_their_bad_input(
    admin_client: AsyncClient,
    province: dict[str, str],
    sets: dict[str, str],
    session: AsyncSession,
) -> None:
    plan = await make_plan(admin_client, province["province"])
    base = f"{API}/plans/{plan['id']}"
    target = {
        "metric": "units_with_title",
        "title": "ntm_commune",
        "year": 2024,
        "planned_value": 4,
        "source_document": "2831/KH-UBND",
    }
    created = await admin_client.post(f"{base}/targets", json=target)
    body = ok(created, 201)
    assert body["scope_unit_id"] == province["province"]
    assert body["scope_as_of"] == "2022-06-21"
    before = (
        await _count(session, PlanTarget),
        await _count(session, PlanRoadmapItem),
        await _count(session, PlanTask),
    )

    cases = [
        ("targets", {**target, "year": 2026}, "target_year_outside_period", ["body", "year"]),
        (
            "targets",
            {**target, "metric": "share_with_title", "planned_value": 101},
            "share_over_100",
            ["body", "planned_value"],
        ),
        (
            "targets",
            {**target, "title": "smart_village"},
            "title_not_granted",
            ["body", "title"],
        ),
        (
            "targets",
            {**target, "scope_unit_id": province["other_commune"]},
            "unit_outside_plan_scope",
            ["body", "scope_unit_id"],
        ),
        (
            "targets",
            {**target, "metric": "communes_below_criteria", "title": None},
            "criteria_threshold_required",
            ["body", "criteria_threshold"],
        ),
        (
            "roadmap",
            {"unit_id": province["other_commune"], "title": "ntm_commune", "target_year": 2024},
            "unit_outside_plan_scope",
            ["body", "unit_id"],
        ),
        (
            "roadmap",
            {"unit_id": province["c1"], "title": "ntm_commune", "target_year": 2030},
            "target_year_outside_period",
            ["body", "target_year"],
        ),
        (
            "roadmap",
            {"unit_id": province["c1"], "title": "modern_ntm_commune", "target_year": 2024},
            "title_not_granted",
            ["body", "title"],
        ),
        (
            "roadmap",
            {"unit_id": province["district"], "title": "ntm_commune", "target_year": 2024},
            "unit_level_mismatch",
            ["body", "title"],
        ),
        (
            "roadmap",
            {"unit_id": province["c1"], "title": "ntm_commune", "target_year": 2024, "field": "x"},
            "roadmap_field_not_applicable",
            ["body", "field"],
        ),
        (
            "tasks",
            {"description": "Rà soát", "agency": "Sở NN&MT", "deadline": "2022-06-20"},
            "deadline_before_plan",
            ["body", "deadline"],
        ),
    ]
    for path, payload, code, loc in cases:
        assert_problem(await admin_client.post(f"{base}/{path}", json=payload), 422, code, loc)
    after = (
        await _count(session, PlanTarget),
        await _count(session, PlanRoadmapItem),
        await _count(session, PlanTask),
    )
    assert after == before

    # An update is checked the same way, and keeps the item as it was.
    assert_problem(
        await admin_client.patch(
            f"{base}/targets/{body['id']}",
            json={"year": 2020},
            headers={"If-Match": created.headers["ETag"]},
        ),
        422,
        "target_year_outside_period",
        ["body", "year"],
    )
    updated = await admin_client.patch(
        f"{base}/targets/{body['id']}",
        json={"planned_value": 5, "source_document": "KH điều chỉnh"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert ok(updated)["planned_value"] == 5
    assert ok(updated)["revision"] == 2
    assert_problem(
        await admin_client.patch(
            f"{base}/targets/{body['id']}",
            json={"planned_value": 6},
            headers={"If-Match": created.headers["ETag"]},
        ),
        412,
        "precondition_failed",
    )

    item = ok(
        await admin_client.post(
            f"{base}/roadmap",
            json={
                "unit_id": province["c1"],
                "title": "ntm_commune",
                "target_year": 2024,
                "owner": "UBND huyện Lộ Trình",
            },
        ),
        201,
    )
    assert item["owner"] == "UBND huyện Lộ Trình"
    task = ok(
        await admin_client.post(
            f"{base}/tasks",
            json={
                "description": "Hướng dẫn hồ sơ",
                "agency": "Văn phòng điều phối",
                "deadline": "2024-03-31",
            },
        ),
        201,
    )
    noted = ok(
        await admin_client.patch(
            f"{base}/tasks/{task['id']}",
            json={"status": "in_progress", "add_note": {"on": "2024-02-01", "text": "Đã họp"}},
        )
    )
    assert noted["status"] == "in_progress"
    assert [(n["on"], n["text"]) for n in noted["notes"]] == [("2024-02-01", "Đã họp")]
    listed = ok(await admin_client.get(f"{base}/tasks"))
    assert [t["id"] for t in listed["items"]] == [task["id"]]


async def test_adjustment_is_a_new_version_and_the_old_stays_readable(
    admin_client: AsyncClient, province: dict[str, str], sets: dict[str, str]
) -> None:
    plan = await make_plan(admin_client, province["province"])
    base = f"{API}/plans/{plan['id']}"
    ok(
        await admin_client.post(
            f"{base}/targets",
            json={
                "metric": "share_with_title",
                "title": "ntm_commune",
                "year": 2025,
                "planned_value": 60,
                "source_document": "2831/KH-UBND",
            },
        ),
        201,
    )
    assert_problem(
        await admin_client.post(
            f"{base}/adjustments",
            json={
                "number": "100/KH-UBND",
                "issue_date": "2023-05-01",
                "effective_from": "2023-05-01",
            },
        ),
        409,
        "plan_not_in_force",
    )
    current = await admin_client.patch(base, json={"status": "in_force"})
    early = await admin_client.post(
        f"{base}/adjustments",
        json={"number": "100/KH-UBND", "issue_date": "2023-05-01", "effective_from": "2022-01-01"},
    )
    assert_problem(early, 422, "adjustment_before_plan", ["body", "effective_from"])
    adjusted = await admin_client.post(
        f"{base}/adjustments",
        json={"number": "100/KH-UBND", "issue_date": "2023-05-01", "effective_from": "2023-05-01"},
        headers={"If-Match": current.headers["ETag"]},
    )
    new = ok(adjusted, 201)
    assert (new["version"], new["supersedes_id"], new["status"]) == (2, plan["id"], "in_force")
    assert adjusted.headers["ETag"]
    old = ok(await admin_client.get(base))
    assert (old["status"], old["superseded_by_id"], old["effective_to"]) == (
        "superseded",
        new["id"],
        "2023-05-01",
    )
    old_targets = ok(await admin_client.get(f"{base}/targets"))["items"]
    new_targets = ok(await admin_client.get(f"{API}/plans/{new['id']}/targets"))["items"]
    assert [t["planned_value"] for t in old_targets] == [60]
    assert [t["planned_value"] for t in new_targets] == [60]
    assert old_targets[0]["id"] != new_targets[0]["id"]
    assert_problem(
        await admin_client.post(f"{base}/tasks", json={"description": "x", "agency": "y"}),
        409,
        "plan_read_only",
    )


async def test_documents_attach_list_and_read_back(
    admin_client: AsyncClient, province: dict[str, str]
) -> None:
    plan = await make_plan(admin_client, province["province"])
    base = f"{API}/plans/{plan['id']}/documents"
    content = b"%PDF-1.4 signed plan"
    attached = await admin_client.post(
        base,
        files={"file": ("2831-KH-UBND.pdf", content, "application/pdf")},
        data={"kind": "plan"},
    )
    document = ok(attached, 201)
    assert (document["kind"], document["filename"], document["size_bytes"]) == (
        "plan",
        "2831-KH-UBND.pdf",
        len(content),
    )
    listed = ok(await admin_client.get(base))["items"]
    assert [d["id"] for d in listed] == [document["id"]]
    read = await admin_client.get(f"{base}/{document['id']}/content")
    assert read.status_code == 200
    assert read.content == content
    assert read.headers["content-type"] == "application/pdf"
    assert_problem(
        await admin_client.post(
            base, files={"file": ("a.pdf", b"x", "application/pdf")}, data={"kind": "memo"}
        ),
        422,
        "document_kind_invalid",
        ["body", "kind"],
    )
    assert len(ok(await admin_client.get(base))["items"]) == 1
