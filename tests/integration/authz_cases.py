"""Route-authorisation cases of webhooks (see tests/identity/route_cases.py). A subscription
belongs to its unit scope: a manager of another unit sees none of it (404)."""

from __future__ import annotations

from typing import Any

from app.core.permissions import Action
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

MANAGE = Action.WEBHOOKS_MANAGE
# Public, resolvable without a look-up: an address literal outside every forbidden range.
URL = "https://93.184.215.14/hook"
ACCEPTED = frozenset({202})


async def _subscription(env: Env, target: Target) -> dict[str, Any]:
    response = await env.admin.post(
        "/api/v1/webhooks", json={"url": URL, "unit_id": str(target.unit_id)}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def create(env: Env, target: Target) -> Call:
    return Call("/api/v1/webhooks", json={"url": URL, "unit_id": str(target.unit_id)})


async def patch(env: Env, target: Target) -> Call:
    found = await _subscription(env, target)
    return Call(f"/api/v1/webhooks/{found['id']}", json={"description": "changed"})


async def ping(env: Env, target: Target) -> Call:
    found = await _subscription(env, target)
    return Call(f"/api/v1/webhooks/{found['id']}/ping")


async def redeliver(env: Env, target: Target) -> Call:
    found = await _subscription(env, target)
    response = await env.admin.post(f"/api/v1/webhooks/{found['id']}/ping")
    assert response.status_code == 202, response.text
    delivery = response.json()["id"]
    return Call(f"/api/v1/webhooks/{found['id']}/deliveries/{delivery}/redeliver")


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", "/api/v1/webhooks"): RouteCase(Kind.UNIT, MANAGE, build=create),
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): RouteCase(Kind.UNIT, MANAGE, build=patch),
    ("POST", "/api/v1/webhooks/{webhook_id}/ping"): RouteCase(
        Kind.UNIT, MANAGE, build=ping, ok=ACCEPTED
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): RouteCase(
        Kind.UNIT, MANAGE, build=redeliver, ok=ACCEPTED
    ),
}

__all__ = ["CASES"]
