"""/users, /clients and role assignments, managed by system administrators."""

from __future__ import annotations

import uuid

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.permissions import Role
from tests.conftest import PrincipalFactory, TestPrincipal
from tests.identity.conftest import Tree
from tests.identity.helpers import assert_problem, audit_of, create_user, login


async def test_create_get_list_and_update_a_user(
    admin_client: AsyncClient, admin: TestPrincipal, session: AsyncSession, tree: Tree
) -> None:
    user_id = str(uuid.uuid4())
    body = {
        "id": user_id,
        "username": "Tran.Thi.B",
        "display_name": "Trần Thị B",
        "email": "b@example.vn",
        "password": "Correct-horse-7",
        "roles": [{"role": "commune_officer", "unit_id": str(tree.c1)}],
    }
    created = await admin_client.post("/api/v1/users", json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["username"] == "tran.thi.b"
    assert user["id"] == user_id
    assert created.headers["location"] == f"/api/v1/users/{user_id}"
    assert "password" not in user
    assert "password_hash" not in user
    [role] = user["roles"]
    assert role["role"] == "commune_officer"
    assert role["unit_id"] == str(tree.c1)
    assert role["unit_code"].startswith("ZC1")
    assert role["active"] is True
    assert role["granted_by"] == str(admin.id)
    assert role["valid_to"] is None

    again = await admin_client.post("/api/v1/users", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == user_id
    taken = await admin_client.post("/api/v1/users", json={**body, "id": str(uuid.uuid4())})
    assert_problem(taken, 409, "username_taken")

    got = await admin_client.get(f"/api/v1/users/{user_id}")
    assert got.status_code == 200
    etag = got.headers["etag"]
    assert (
        await admin_client.get(f"/api/v1/users/{user_id}", headers={"If-None-Match": etag})
    ).status_code == 304

    listed = await admin_client.get("/api/v1/users", params={"q": "thi.b"})
    assert [u["id"] for u in listed.json()["items"]] == [user_id]
    by_role = await admin_client.get("/api/v1/users", params={"role": "commune_officer"})
    assert user_id in [u["id"] for u in by_role.json()["items"]]

    stale = await admin_client.patch(
        f"/api/v1/users/{user_id}", json={"display_name": "X"}, headers={"If-Match": 'W/"stale"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    patched = await admin_client.patch(
        f"/api/v1/users/{user_id}",
        json={"display_name": "Trần Thị Bình", "email": None},
        headers={"If-Match": etag, "Audit-Note": "t%C3%AAn%20%C4%91%C3%BAng"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["display_name"] == "Trần Thị Bình"
    assert patched.json()["email"] is None
    assert patched.headers["etag"] != etag

    records = await audit_of(session, "user", user_id)
    assert [r.action for r in records] == ["create", "update"]
    assert records[1].before is not None
    assert records[1].before["display_name"] == "Trần Thị B"
    assert records[1].after is not None
    assert records[1].after["display_name"] == "Trần Thị Bình"
    assert records[1].reason == "tên đúng"
    assert records[1].actor_id == admin.id
    assert all("password_hash" not in (r.after or {}) for r in records)
    grants = await audit_of(session, "role_assignment", role["id"])
    assert [(r.action, r.unit_id) for r in grants] == [("create", tree.c1)]


async def test_unknown_user_and_bad_input(admin_client: AsyncClient) -> None:
    missing = await admin_client.get(f"/api/v1/users/{uuid.uuid4()}")
    assert_problem(missing, 404, "user_not_found")
    bad = await admin_client.post(
        "/api/v1/users", json={"username": "bad name!", "display_name": "x", "password": "p"}
    )
    assert_problem(bad, 422, "validation_error")
    extra = await admin_client.post(
        "/api/v1/users",
        json={"username": "ok", "display_name": "x", "password": "Correct-horse-7", "admin": True},
    )
    assert_problem(extra, 422, "validation_error")
    bad_email = await admin_client.post(
        "/api/v1/users",
        json={"username": "ok", "display_name": "x", "password": "Correct-horse-7", "email": "no"},
    )
    assert_problem(bad_email, 422, "validation_error")


async def test_roles_are_granted_validated_and_revoked(
    admin_client: AsyncClient, client: AsyncClient, session: AsyncSession, tree: Tree
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    url = f"/api/v1/users/{user['id']}/roles"
    granted = await admin_client.post(
        url, json={"role": "district_officer", "unit_id": str(tree.d1)}
    )
    assert granted.status_code == 201, granted.text
    duplicate = await admin_client.post(
        url, json={"role": "district_officer", "unit_id": str(tree.d1)}
    )
    assert_problem(duplicate, 409, "role_already_granted")
    for body, code in [
        ({"role": "integration_client", "resources": {"units": "read"}}, "role_not_allowed"),
        ({"role": "viewer", "unit_id": str(uuid.uuid4())}, "unit_not_found"),
        ({"role": "viewer", "resources": {"units": "read"}}, "resources_not_allowed"),
        ({"role": "viewer", "step": "appraisal"}, "step_not_allowed"),
        (
            {"role": "viewer", "valid_from": "2030-01-01", "valid_to": "2029-01-01"},
            "invalid_interval",
        ),
        ({"role": "emperor"}, "validation_error"),
        # A step of a procedure version, not free text (issue 13).
        ({"role": "appraiser", "unit_id": str(tree.p1), "step": "appraisal"}, "step_unknown"),
    ]:
        assert_problem(await admin_client.post(url, json=body), 422, code)
    appraiser = await admin_client.post(
        url,
        json={
            "role": "appraiser",
            "unit_id": str(tree.p1),
            "step": "commune-2025/provincial_appraisal",
        },
    )
    assert appraiser.status_code == 201, appraiser.text
    future = await admin_client.post(url, json={"role": "viewer", "valid_from": "2999-01-01"})
    assert future.json()["active"] is False

    headers = await login(client, user["username"], "Correct-horse-7")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert {r["role"] for r in me["roles"]} == {"district_officer", "appraiser", "viewer"}
    permissions = {p["action"]: p for p in me["permissions"]}
    assert permissions["assessments:write"]["unit_ids"] == [str(tree.d1)]
    assert permissions["dossiers:appraise"]["unit_ids"] == [str(tree.p1)]
    assert "units:write" not in permissions

    revoked = await admin_client.delete(f"{url}/{granted.json()['id']}")
    assert revoked.status_code == 204, revoked.text
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert "district_officer" not in {r["role"] for r in me["roles"]}
    history = await admin_client.get(url, params={"include_revoked": True})
    assert {r["role"] for r in history.json()["items"]} == {
        "district_officer",
        "appraiser",
        "viewer",
    }
    assert_problem(
        await admin_client.delete(f"{url}/{uuid.uuid4()}"), 404, "role_assignment_not_found"
    )
    actions = [r.action for r in await audit_of(session, "role_assignment", granted.json()["id"])]
    assert actions == ["create", "revoke"]


async def test_the_last_administrator_stays(
    admin_client: AsyncClient, admin: TestPrincipal, make_principal: PrincipalFactory
) -> None:
    second = await make_principal(Role.SYSTEM_ADMIN)
    [theirs] = (await admin_client.get(f"/api/v1/users/{second.id}/roles")).json()["items"]
    revoked = await admin_client.delete(f"/api/v1/users/{second.id}/roles/{theirs['id']}")
    assert revoked.status_code == 204, revoked.text
    # The suite's database holds no other administrator than the fixture's.
    refused = await admin_client.post(f"/api/v1/users/{admin.id}/deactivate")
    assert_problem(refused, 409, "last_administrator")
    [mine] = (await admin_client.get(f"/api/v1/users/{admin.id}/roles")).json()["items"]
    refused = await admin_client.delete(f"/api/v1/users/{admin.id}/roles/{mine['id']}")
    assert_problem(refused, 409, "last_administrator")
    # With another administrator, the first may go.
    await make_principal(Role.SYSTEM_ADMIN)
    gone = await admin_client.post(f"/api/v1/users/{admin.id}/deactivate")
    assert gone.status_code == 200, gone.text
    assert_problem(await admin_client.get("/api/v1/me"), 401, "invalid_token")


async def test_clients_show_their_secret_once(
    admin_client: AsyncClient, session: AsyncSession, tree: Tree
) -> None:
    created = await admin_client.post(
        "/api/v1/clients",
        json={
            "name": "Cổng dữ liệu tỉnh",
            "roles": [
                {
                    "role": "integration_client",
                    "unit_id": str(tree.p1),
                    "resources": {"assessments": "write", "units": "read"},
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["client_secret"].startswith("ntm_cs_")
    assert body["client_id"] == body["id"]
    got = await admin_client.get(f"/api/v1/clients/{body['id']}")
    assert got.status_code == 200
    assert "client_secret" not in got.json()
    assert body["client_secret"] not in got.text
    listed = await admin_client.get("/api/v1/clients")
    assert body["id"] in [c["id"] for c in listed.json()["items"]]
    for bad, code in [
        ({"role": "integration_client"}, "resources_required"),
        ({"role": "integration_client", "resources": {"users": "read"}}, "unknown_resource"),
        ({"role": "viewer"}, "role_not_allowed"),
    ]:
        assert_problem(
            await admin_client.post(f"/api/v1/clients/{body['id']}/roles", json=bad), 422, code
        )
    records = await audit_of(session, "client", body["id"])
    assert [r.action for r in records] == ["create"]
    assert body["client_secret"] not in str(records[0].after)
    assert_problem(
        await admin_client.get(f"/api/v1/clients/{uuid.uuid4()}"), 404, "client_not_found"
    )


async def test_pagination_of_users(admin_client: AsyncClient) -> None:
    for _ in range(3):
        await create_user(admin_client, display_name="Paginated person")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "q": "paginated"} | ({"cursor": cursor} if cursor else {})
        page = await admin_client.get("/api/v1/users", params=params)
        assert page.status_code == 200, page.text
        seen += [u["id"] for u in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
        assert 'rel="next"' in page.headers["link"]
    assert len(seen) == len(set(seen)) == 3
    assert_problem(
        await admin_client.get("/api/v1/users", params={"cursor": "zzz"}), 422, "invalid_cursor"
    )


async def test_people_without_users_manage_are_refused(
    client: AsyncClient, make_principal: PrincipalFactory, tree: Tree
) -> None:
    coordinator = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=tree.p1)
    for method, path in [("GET", "/api/v1/users"), ("GET", "/api/v1/clients")]:
        response = await client.request(method, path, headers=coordinator.headers)
        assert_problem(response, 403, "forbidden")
    assert_problem(await client.get("/api/v1/users"), 401, "not_authenticated")
