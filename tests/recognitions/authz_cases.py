"""Route-authorisation cases of the register of titles (see tests/identity/route_cases.py): a
recognition belongs to its unit."""

from __future__ import annotations

import uuid
from typing import Any

from app.core.permissions import Action
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

WRITE = Action.RECOGNITIONS_WRITE
API = "/api/v1"


def grant_body(unit_id: uuid.UUID | None, **extra: Any) -> dict[str, Any]:
    return {
        "unit_id": str(unit_id),
        "title": "ntm_commune",
        "year_for": 2019,
        "decision_number": f"{uuid.uuid4().hex[:6]}/QĐ-UBND",
        "decision_date": "2020-01-15",
        "signer": "Chủ tịch UBND tỉnh",
        **extra,
    }


async def create(env: Env, target: Target) -> Call:
    return Call(f"{API}/recognitions", json=grant_body(target.unit_id))


async def revoke(env: Env, target: Target) -> Call:
    response = await env.admin.post(f"{API}/recognitions", json=grant_body(target.unit_id))
    assert response.status_code == 201, response.text
    body = {
        "decision_number": "5/QĐ-UBND",
        "decision_date": "2022-05-01",
        "signer": "Chủ tịch UBND tỉnh",
        "reason": "Không còn đạt chuẩn",
    }
    return Call(f"{API}/recognitions/{response.json()['id']}/revocation", json=body)


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", f"{API}/recognitions"): RouteCase(Kind.UNIT, WRITE, create),
    ("POST", f"{API}/recognitions/{{recognition_id}}/revocation"): RouteCase(
        Kind.UNIT, WRITE, revoke
    ),
}
