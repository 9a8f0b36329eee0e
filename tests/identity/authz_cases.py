"""Route-authorisation cases of the identity feature (see route_cases.py)."""

from __future__ import annotations

import uuid
from typing import Any

from app.core.permissions import Action, Role
from tests.conftest import TEST_PASSWORD, TestPrincipal
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

MANAGE = Action.USERS_MANAGE


async def _user(env: Env) -> dict[str, Any]:
    response = await env.admin.post(
        "/api/v1/users",
        json={
            "username": f"target-{uuid.uuid4().hex[:8]}",
            "display_name": "Target",
            "password": "Correct-horse-7",
            "roles": [{"role": "viewer", "unit_id": str(env.tree.c1)}],
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _client(env: Env) -> dict[str, Any]:
    response = await env.admin.post(
        "/api/v1/clients",
        json={
            "name": "Target client",
            "roles": [{"role": "integration_client", "resources": {"units": "read"}}],
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _pat(env: Env, owner: TestPrincipal) -> dict[str, Any]:
    response = await env.client.post(
        "/api/v1/me/tokens", json={"name": "report"}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_user(env: Env, _: Target) -> Call:
    return Call(
        "/api/v1/users",
        json={
            "username": f"new-{uuid.uuid4().hex[:8]}",
            "display_name": "New",
            "password": "Correct-horse-7",
        },
    )


async def patch_user(env: Env, _: Target) -> Call:
    user = await _user(env)
    return Call(f"/api/v1/users/{user['id']}", json={"display_name": "Changed"})


async def deactivate_user(env: Env, _: Target) -> Call:
    user = await _user(env)
    return Call(f"/api/v1/users/{user['id']}/deactivate")


async def grant_user_role(env: Env, _: Target) -> Call:
    user = await _user(env)
    return Call(
        f"/api/v1/users/{user['id']}/roles",
        json={"role": "commune_officer", "unit_id": str(env.tree.c1)},
    )


async def revoke_user_role(env: Env, _: Target) -> Call:
    user = await _user(env)
    return Call(f"/api/v1/users/{user['id']}/roles/{user['roles'][0]['id']}")


async def create_client(env: Env, _: Target) -> Call:
    return Call("/api/v1/clients", json={"name": "New client"})


async def patch_client(env: Env, _: Target) -> Call:
    client = await _client(env)
    return Call(f"/api/v1/clients/{client['id']}", json={"name": "Renamed"})


async def rotate_secret(env: Env, _: Target) -> Call:
    client = await _client(env)
    return Call(f"/api/v1/clients/{client['id']}/secret")


async def grant_client_role(env: Env, _: Target) -> Call:
    client = await _client(env)
    return Call(
        f"/api/v1/clients/{client['id']}/roles",
        json={
            "role": "integration_client",
            "unit_id": str(env.tree.p1),
            "resources": {"assessments": "write"},
        },
    )


async def revoke_client_role(env: Env, _: Target) -> Call:
    client = await _client(env)
    return Call(f"/api/v1/clients/{client['id']}/roles/{client['roles'][0]['id']}")


# --- the caller's own things --------------------------------------------------------------------


async def change_password(env: Env, _: Target) -> Call:
    return Call(
        "/api/v1/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": "Another-horse-9"},
    )


async def password_of_a_client(env: Env, target: Target) -> tuple[Call, TestPrincipal, int]:
    client = await env.make_principal(
        Role.INTEGRATION_CLIENT, kind="client", resources={"units": "write"}
    )
    return await change_password(env, target), client, 403


async def create_pat(env: Env, _: Target) -> Call:
    return Call("/api/v1/me/tokens", json={"name": "Power BI"})


async def pat_of_a_client(env: Env, target: Target) -> tuple[Call, TestPrincipal, int]:
    client = await env.make_principal(
        Role.INTEGRATION_CLIENT, kind="client", resources={"units": "write"}
    )
    return await create_pat(env, target), client, 403


async def delete_pat(env: Env, target: Target) -> Call:
    assert target.owner is not None
    pat = await _pat(env, target.owner)
    return Call(f"/api/v1/me/tokens/{pat['id']}")


async def delete_pat_of_another(env: Env, target: Target) -> tuple[Call, TestPrincipal, int]:
    other = await env.make_principal(Role.SYSTEM_ADMIN)
    return await delete_pat(env, target), other, 404


async def revoke_token(env: Env, target: Target) -> Call:
    assert target.owner is not None
    pat = await _pat(env, target.owner)
    return Call("/api/v1/auth/revoke", data={"token": pat["token"]})


async def revoke_token_of_another(env: Env, target: Target) -> tuple[Call, TestPrincipal, int]:
    other = await env.make_principal(Role.VIEWER)
    return await revoke_token(env, target), other, 200  # RFC 7009: 200, and nothing revoked


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", "/api/v1/users"): RouteCase(Kind.NATIONAL, MANAGE, create_user),
    ("PATCH", "/api/v1/users/{user_id}"): RouteCase(Kind.NATIONAL, MANAGE, patch_user),
    ("POST", "/api/v1/users/{user_id}/deactivate"): RouteCase(
        Kind.NATIONAL, MANAGE, deactivate_user
    ),
    ("POST", "/api/v1/users/{user_id}/roles"): RouteCase(Kind.NATIONAL, MANAGE, grant_user_role),
    ("DELETE", "/api/v1/users/{user_id}/roles/{assignment_id}"): RouteCase(
        Kind.NATIONAL, MANAGE, revoke_user_role
    ),
    ("POST", "/api/v1/clients"): RouteCase(Kind.NATIONAL, MANAGE, create_client),
    ("PATCH", "/api/v1/clients/{client_id}"): RouteCase(Kind.NATIONAL, MANAGE, patch_client),
    ("POST", "/api/v1/clients/{client_id}/secret"): RouteCase(Kind.NATIONAL, MANAGE, rotate_secret),
    ("POST", "/api/v1/clients/{client_id}/roles"): RouteCase(
        Kind.NATIONAL, MANAGE, grant_client_role
    ),
    ("DELETE", "/api/v1/clients/{client_id}/roles/{assignment_id}"): RouteCase(
        Kind.NATIONAL, MANAGE, revoke_client_role
    ),
    ("POST", "/api/v1/me/password"): RouteCase(
        Kind.SELF, None, change_password, foreign=password_of_a_client
    ),
    ("POST", "/api/v1/me/tokens"): RouteCase(Kind.SELF, None, create_pat, foreign=pat_of_a_client),
    ("DELETE", "/api/v1/me/tokens/{token_id}"): RouteCase(
        Kind.SELF, None, delete_pat, foreign=delete_pat_of_another
    ),
    ("POST", "/api/v1/auth/revoke"): RouteCase(
        Kind.SELF, None, revoke_token, foreign=revoke_token_of_another
    ),
}
