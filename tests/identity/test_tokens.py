"""POST /auth/token (both grants), personal access tokens, and bad tokens."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.models.identity import PersonalAccessToken
from tests.conftest import TestPrincipal
from tests.identity.helpers import (
    TOKEN_URL,
    assert_problem,
    audit_of,
    create_user,
    login,
    password_token,
)


async def test_password_grant_gives_a_working_signed_token(
    client: AsyncClient, admin_client: AsyncClient, settings: Settings, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    response = await password_token(client, user["username"].upper(), "Correct-horse-7")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    claims = jwt.decode(body["access_token"], settings.signing_key(), algorithms=["HS256"])
    assert claims["sub"] == user["id"]
    assert claims["kind"] == "user"
    assert {"exp", "iat", "jti", "iss"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == user["username"]
    assert me.json()["kind"] == "user"
    logins = [r for r in await audit_of(session, "user", user["id"]) if r.action == "login"]
    assert len(logins) == 1
    assert logins[0].actor_id == uuid.UUID(user["id"])


async def test_wrong_password_and_unknown_user_answer_alike(
    client: AsyncClient, admin_client: AsyncClient
) -> None:
    user = await create_user(admin_client)
    wrong = await password_token(client, user["username"], "Not-the-password-1")
    unknown = await password_token(client, "nobody-" + uuid.uuid4().hex[:6], "Not-the-password-1")
    first = assert_problem(wrong, 400, "invalid_grant")
    second = assert_problem(unknown, 400, "invalid_grant")
    assert first["error"] == second["error"] == "invalid_grant"
    assert first["detail"] == second["detail"]
    assert first["error_description"] == second["error_description"]


async def test_inactive_user_cannot_sign_in_and_its_tokens_stop(
    client: AsyncClient, admin_client: AsyncClient
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    headers = await login(client, user["username"], "Correct-horse-7")
    deactivated = await admin_client.post(f"/api/v1/users/{user['id']}/deactivate")
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False
    assert_problem(
        await password_token(client, user["username"], "Correct-horse-7"), 400, "invalid_grant"
    )
    assert_problem(await client.get("/api/v1/me", headers=headers), 401, "invalid_token")


async def test_grant_type_errors_follow_oauth2(client: AsyncClient) -> None:
    body = assert_problem(
        await client.post(TOKEN_URL, data={"grant_type": "authorization_code", "code": "x"}),
        400,
        "unsupported_grant_type",
    )
    assert body["error"] == "unsupported_grant_type"
    assert_problem(await client.post(TOKEN_URL, data={}), 400, "invalid_request")
    assert_problem(
        await client.post(TOKEN_URL, json={"grant_type": "password"}), 400, "invalid_request"
    )
    assert_problem(
        await client.post(TOKEN_URL, data={"grant_type": "password", "username": "x"}),
        400,
        "invalid_request",
    )


async def _new_client(admin_client: AsyncClient, **roles: object) -> dict[str, str]:
    body = {
        "name": "Superset Bắc Ninh",
        "roles": [{"role": "integration_client", "resources": {"units": "read"}, **roles}],
    }
    response = await admin_client.post("/api/v1/clients", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


async def test_client_credentials_in_the_form_and_as_basic(
    client: AsyncClient, admin_client: AsyncClient, settings: Settings
) -> None:
    created = await _new_client(admin_client)
    client_id, secret = created["client_id"], created["client_secret"]
    assert secret.startswith("ntm_cs_")
    form = await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert form.status_code == 200, form.text
    claims = jwt.decode(form.json()["access_token"], settings.signing_key(), algorithms=["HS256"])
    assert claims["kind"] == "client"
    assert claims["client_id"] == client_id

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = await client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["kind"] == "client"
    assert me["client_id"] == client_id
    assert me["roles"][0]["resources"] == {"units": "read"}
    assert {p["action"] for p in me["permissions"]} == {"units:read"}


async def test_bad_client_credentials(client: AsyncClient, admin_client: AsyncClient) -> None:
    created = await _new_client(admin_client)
    for data in (
        {"client_id": created["client_id"], "client_secret": "ntm_cs_wrong"},
        {"client_id": str(uuid.uuid4()), "client_secret": "ntm_cs_wrong"},
        {"client_id": "not-a-uuid", "client_secret": "x"},
        {"client_id": created["client_id"]},
    ):
        response = await client.post(TOKEN_URL, data={"grant_type": "client_credentials", **data})
        body = assert_problem(response, 401, "invalid_client")
        assert body["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")
    bad_basic = await client.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!"}
    )
    assert_problem(bad_basic, 401, "invalid_client")


async def test_deactivated_client_and_rotated_secret(
    client: AsyncClient, admin_client: AsyncClient
) -> None:
    created = await _new_client(admin_client)
    data = {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],
    }
    token = (await client.post(TOKEN_URL, data=data)).json()["access_token"]
    rotated = await admin_client.post(f"/api/v1/clients/{created['id']}/secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["client_secret"] != created["client_secret"]
    assert_problem(await client.post(TOKEN_URL, data=data), 401, "invalid_client")
    data["client_secret"] = rotated.json()["client_secret"]
    assert (await client.post(TOKEN_URL, data=data)).status_code == 200

    off = await admin_client.patch(f"/api/v1/clients/{created['id']}", json={"active": False})
    assert off.status_code == 200, off.text
    assert_problem(await client.post(TOKEN_URL, data=data), 401, "invalid_client")
    headers = {"Authorization": f"Bearer {token}"}
    assert_problem(await client.get("/api/v1/me", headers=headers), 401, "invalid_token")


async def test_missing_malformed_expired_and_tampered_tokens(
    client: AsyncClient, admin: TestPrincipal, settings: Settings
) -> None:
    missing = await client.get("/api/v1/me")
    assert_problem(missing, 401, "not_authenticated")
    assert missing.headers["www-authenticate"].startswith("Bearer")

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    now = datetime.now(UTC)
    claims = {
        "iss": "ntm",
        "sub": str(admin.id),
        "kind": "user",
        "jti": uuid.uuid4().hex,
        "iat": int((now - timedelta(hours=2)).timestamp()),
        "exp": int((now - timedelta(hours=1)).timestamp()),
    }
    expired = jwt.encode(claims, settings.signing_key(), algorithm="HS256")
    good = admin.headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = good.split(".")
    forged_payload = (
        base64.urlsafe_b64encode(
            jwt.api_jws.base64url_decode(payload).replace(b'"user"', b'"client"')
        )
        .rstrip(b"=")
        .decode()
    )
    other_key = jwt.encode({**claims, "exp": int((now + timedelta(hours=1)).timestamp())}, "x" * 40)
    unsigned = jwt.encode(
        {**claims, "exp": int((now + timedelta(hours=1)).timestamp())}, None, algorithm="none"
    )
    cases = {
        "expired": bearer(expired),
        "tampered": bearer(f"{header}.{forged_payload}.{signature}"),
        "other key": bearer(other_key),
        "alg none": bearer(unsigned),
        "garbage": bearer("not-a-token"),
        "unknown pat": bearer("ntm_pat_" + "a" * 43),
        "empty": {"Authorization": "Bearer "},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "huge": bearer("x" * 5000),
    }
    for name, headers in cases.items():
        response = await client.get("/api/v1/me", headers=headers)
        body = assert_problem(response, 401, "invalid_token")
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer"), name
        assert 'error="invalid_token"' in challenge, name
        assert "Traceback" not in response.text
        assert body["detail"]
    expired_response = await client.get("/api/v1/me", headers=bearer(expired))
    assert "hết hạn" in expired_response.json()["detail"]  # expired
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200


async def test_personal_access_token_lifecycle(
    client: AsyncClient, admin_client: AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    headers = await login(client, user["username"], "Correct-horse-7")
    created = await client.post(
        "/api/v1/me/tokens", json={"name": "Power BI", "expires_in_days": 30}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    token = created.json()["token"]
    assert token.startswith("ntm_pat_")
    assert created.json()["prefix"] == token[: len(created.json()["prefix"])]
    assert created.json()["read_only"] is True

    listed = await client.get("/api/v1/me/tokens", headers=headers)
    assert listed.status_code == 200
    assert token not in listed.text
    assert [t["name"] for t in listed.json()["items"]] == ["Power BI"]

    pat = {"Authorization": f"Bearer {token}"}
    me = await client.get("/api/v1/me", headers=pat)
    assert me.status_code == 200, me.text
    assert me.json()["kind"] == "token"
    assert me.json()["id"] == user["id"]
    assert me.json()["token"]["name"] == "Power BI"
    assert me.json()["token"]["last_used_at"] is not None
    # A token cannot mint tokens or change the password.
    assert_problem(
        await client.post("/api/v1/me/tokens", json={"name": "x"}, headers=pat), 403, "forbidden"
    )

    token_id = created.json()["id"]
    revoked = await client.delete(f"/api/v1/me/tokens/{token_id}", headers=headers)
    assert revoked.status_code == 204, revoked.text
    response = await client.get("/api/v1/me", headers=pat)
    assert_problem(response, 401, "invalid_token")
    assert "thu hồi" in response.json()["detail"]  # revoked
    actions = [r.action for r in await audit_of(session, "access_token", token_id)]
    assert actions == ["create", "revoke"]


async def test_read_only_pat_cannot_write_and_expired_pat_fails(
    client: AsyncClient, admin_client: AsyncClient, database: object, session: AsyncSession
) -> None:
    user = await create_user(
        admin_client, password="Correct-horse-7", roles=[{"role": "system_admin"}]
    )
    headers = await login(client, user["username"], "Correct-horse-7")
    created = await client.post("/api/v1/me/tokens", json={"name": "report"}, headers=headers)
    pat = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await client.get("/api/v1/users", headers=pat)).status_code == 403
    write = await client.post(
        "/api/v1/users",
        json={"username": "zz", "display_name": "zz", "password": "Correct-horse-7"},
        headers=pat,
    )
    assert_problem(write, 403, "forbidden")
    writer = await client.post(
        "/api/v1/me/tokens", json={"name": "writer", "read_only": False}, headers=headers
    )
    writer_pat = {"Authorization": f"Bearer {writer.json()['token']}"}
    assert (await client.get("/api/v1/users", headers=writer_pat)).status_code == 200

    await session.execute(
        update(PersonalAccessToken)
        .where(PersonalAccessToken.id == uuid.UUID(writer.json()["id"]))
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    await session.commit()
    response = await client.get("/api/v1/me", headers=writer_pat)
    assert_problem(response, 401, "invalid_token")
    assert "hết hạn" in response.json()["detail"]  # expired


async def test_revoking_an_access_token(
    client: AsyncClient, admin_client: AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(admin_client, password="Correct-horse-7")
    headers = await login(client, user["username"], "Correct-horse-7")
    other = await login(client, user["username"], "Correct-horse-7")
    token = headers["Authorization"].removeprefix("Bearer ")
    # Someone else's revocation request is ignored, with 200 as RFC 7009 asks.
    stranger = await create_user(admin_client, password="Correct-horse-7")
    stranger_headers = await login(client, stranger["username"], "Correct-horse-7")
    ignored = await client.post(
        "/api/v1/auth/revoke", data={"token": token}, headers=stranger_headers
    )
    assert ignored.status_code == 200
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200

    revoked = await client.post("/api/v1/auth/revoke", data={"token": token}, headers=other)
    assert revoked.status_code == 200, revoked.text
    response = await client.get("/api/v1/me", headers=headers)
    assert_problem(response, 401, "invalid_token")
    assert (await client.get("/api/v1/me", headers=other)).status_code == 200
    unknown = await client.post("/api/v1/auth/revoke", data={"token": "nonsense"}, headers=other)
    assert unknown.status_code == 200
    assert_problem(
        await client.post("/api/v1/auth/revoke", data={"token": token}), 401, "not_authenticated"
    )
