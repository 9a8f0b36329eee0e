"""GET /audit: filters, scoping to the auditor's subtree, pagination; no way to change it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from app.core.permissions import Role
from tests.conftest import PrincipalFactory, TestPrincipal
from tests.identity.conftest import Tree
from tests.identity.helpers import assert_problem, create_user


async def _grant(admin_client: AsyncClient, user_id: str, role: str, unit: uuid.UUID) -> str:
    response = await admin_client.post(
        f"/api/v1/users/{user_id}/roles", json={"role": role, "unit_id": str(unit)}
    )
    assert response.status_code == 201, response.text
    assignment_id: str = response.json()["id"]
    return assignment_id


async def test_filters(admin_client: AsyncClient, admin: TestPrincipal, tree: Tree) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    user = await create_user(admin_client)
    in_c1 = await _grant(admin_client, user["id"], "viewer", tree.c1)
    in_p1 = await _grant(admin_client, user["id"], "commune_officer", tree.v1)
    in_c2 = await _grant(admin_client, user["id"], "district_officer", tree.c2)
    noted = await admin_client.patch(
        f"/api/v1/users/{user['id']}",
        json={"display_name": "Renamed"},
        headers={"Audit-Note": "requested by the commune", "X-Request-ID": "req-audit-1"},
    )
    assert noted.status_code == 200

    async def seqs(**params: object) -> list[dict[str, object]]:
        response = await admin_client.get("/api/v1/audit", params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, object]] = response.json()["items"]
        return items

    by_entity = await seqs(entity="user", entity_id=user["id"])
    assert [r["action"] for r in by_entity] == ["update", "create"]  # newest first
    assert by_entity[0]["reason"] == "requested by the commune"
    assert by_entity[0]["request_id"] == "req-audit-1"
    assert by_entity[0]["before"]["display_name"] == "Nguyễn Văn A"  # type: ignore[index]
    assert by_entity[0]["after"]["display_name"] == "Renamed"  # type: ignore[index]
    assert by_entity[0]["actor_id"] == str(admin.id)
    assert by_entity[0]["actor_kind"] == "user"

    subtree = await seqs(entity="role_assignment", unit_id=str(tree.p1))
    assert {r["entity_id"] for r in subtree} == {in_c1, in_p1}
    only_c2 = await seqs(entity="role_assignment", unit_id=str(tree.c2))
    assert [r["entity_id"] for r in only_c2] == [in_c2]
    assert [r["request_id"] for r in await seqs(request_id="req-audit-1")] == ["req-audit-1"]
    mine = await seqs(actor_id=str(admin.id), since=started.isoformat())
    assert len(mine) == 5
    assert await seqs(actor_id=str(admin.id), until=started.isoformat()) == []
    assert len(await seqs(action="create", since=started.isoformat())) == 4


async def test_pagination_is_stable(admin_client: AsyncClient) -> None:
    for _ in range(3):
        await create_user(admin_client)
    seen: list[int] = []
    cursor = None
    for index in range(3):
        params: dict[str, object] = {"limit": 1, "entity": "user"}
        if cursor:
            params["cursor"] = cursor
        page = await admin_client.get("/api/v1/audit", params=params)
        assert page.status_code == 200, page.text
        seen += [r["seq"] for r in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if index < 2:
            assert 'rel="next"' in page.headers["link"]
    assert cursor is None
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 3
    assert_problem(
        await admin_client.get("/api/v1/audit", params={"cursor": "bad"}), 422, "invalid_cursor"
    )


async def test_a_province_auditor_sees_its_subtree_only(
    admin_client: AsyncClient, client: AsyncClient, make_principal: PrincipalFactory, tree: Tree
) -> None:
    user = await create_user(admin_client)
    in_c1 = await _grant(admin_client, user["id"], "viewer", tree.c1)
    in_c2 = await _grant(admin_client, user["id"], "viewer", tree.c2)
    coordinator = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=tree.p1)
    response = await client.get("/api/v1/audit", params={"limit": 500}, headers=coordinator.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert in_c1 in {r["entity_id"] for r in items}
    assert in_c2 not in {r["entity_id"] for r in items}
    assert all(r["unit_id"] is not None for r in items)  # national records stay national
    outside = await client.get(
        "/api/v1/audit", params={"unit_id": str(tree.c2)}, headers=coordinator.headers
    )
    assert_problem(outside, 404, "unit_not_found")
    admin_view = await admin_client.get("/api/v1/audit", params={"entity_id": in_c2})
    [record] = admin_view.json()["items"]
    one = await client.get(f"/api/v1/audit/{record['seq']}", headers=coordinator.headers)
    assert_problem(one, 404, "audit_record_not_found")
    assert (await admin_client.get(f"/api/v1/audit/{record['seq']}")).json() == record
    assert_problem(await admin_client.get("/api/v1/audit/999999999"), 404, "audit_record_not_found")


async def test_only_auditors_read_it(
    client: AsyncClient, make_principal: PrincipalFactory, tree: Tree
) -> None:
    assert_problem(await client.get("/api/v1/audit"), 401, "not_authenticated")
    viewer = await make_principal(Role.VIEWER)
    assert_problem(await client.get("/api/v1/audit", headers=viewer.headers), 403, "forbidden")
    officer = await make_principal(Role.COMMUNE_OFFICER, unit_id=tree.c1)
    assert_problem(await client.get("/api/v1/audit", headers=officer.headers), 403, "forbidden")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
async def test_no_api_changes_or_deletes_a_record(admin_client: AsyncClient, method: str) -> None:
    await create_user(admin_client)
    [record] = (await admin_client.get("/api/v1/audit", params={"limit": 1})).json()["items"]
    for path in ("/api/v1/audit", f"/api/v1/audit/{record['seq']}"):
        response = await admin_client.request(method, path, json={"reason": "rewritten"})
        assert_problem(response, 405, "method_not_allowed")
    again = await admin_client.get(f"/api/v1/audit/{record['seq']}")
    assert again.json() == record
