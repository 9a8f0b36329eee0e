"""Route-authorisation cases of /criteria-sets (see route_cases.py).

A province's sets are scoped to the province: a coordinator of another province gets 404, a
national viewer 403. Kept here until the criteria feature takes them into tests/criteria.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.core.permissions import Action
from tests.criteria.helpers import BASE, document
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

WRITE = Action.CRITERIA_WRITE
DECISION = {
    "number": "TEST-9/QĐ-UBND",
    "date": "2022-06-01",
    "issuer": "UBND tỉnh thử",
    "signer": None,
    "title": "Test provincial decision",
    "url": None,
}


async def _ok(env: Env, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = await env.admin.request(method, path, **kwargs)
    assert response.status_code in {200, 201}, response.text
    body: dict[str, Any] = response.json()
    return body


async def _national_published(env: Env) -> dict[str, Any]:
    created = await _ok(env, "POST", BASE, json=document())
    return await _ok(env, "POST", f"{BASE}/{created['id']}/publish")


async def _provincial_draft(env: Env, province: uuid.UUID | None) -> dict[str, Any]:
    parent = await _national_published(env)
    return await _ok(env, "POST", f"{BASE}/{parent['id']}/derive", json=_derive_body(province))


def _derive_body(province: uuid.UUID | None) -> dict[str, Any]:
    return {
        "code": f"TEST-P-{uuid.uuid4().hex[:8]}",
        "name": {"vi": "Bộ tiêu chí của tỉnh", "en": "Provincial set"},
        "legal_basis": DECISION,
        "unit_id": str(province),
    }


def _provincial_document(province: uuid.UUID | None) -> dict[str, Any]:
    return document(scope={"kind": "province", "unit_id": str(province)})


async def create(env: Env, target: Target) -> Call:
    return Call(BASE, json=_provincial_document(target.unit_id))


async def import_(env: Env, target: Target) -> Call:
    return Call(f"{BASE}/import", json=_provincial_document(target.unit_id))


async def patch(env: Env, target: Target) -> Call:
    draft = await _provincial_draft(env, target.unit_id)
    return Call(f"{BASE}/{draft['id']}", json={"name": {"vi": "Tên mới", "en": "New name"}})


async def publish(env: Env, target: Target) -> Call:
    draft = await _provincial_draft(env, target.unit_id)
    return Call(f"{BASE}/{draft['id']}/publish")


async def retire(env: Env, target: Target) -> Call:
    draft = await _provincial_draft(env, target.unit_id)
    await _ok(env, "POST", f"{BASE}/{draft['id']}/publish")
    return Call(f"{BASE}/{draft['id']}/retire")


async def derive(env: Env, target: Target) -> Call:
    parent = await _national_published(env)
    return Call(f"{BASE}/{parent['id']}/derive", json=_derive_body(target.unit_id))


async def add_indicator(env: Env, target: Target) -> Call:
    draft = await _provincial_draft(env, target.unit_id)
    own = {
        "criterion": 15,
        "code": "15.9",
        "name": {"vi": "Chỉ tiêu riêng của tỉnh"},
        "kind": "number",
        "unit": "%",
        "comparator": "ge",
        "left_to_province": True,
    }
    return Call(f"{BASE}/{draft['id']}/indicators", json=own)


async def replace_thresholds(env: Env, target: Target) -> Call:
    draft = await _provincial_draft(env, target.unit_id)
    return Call(
        f"{BASE}/{draft['id']}/indicators/10.1/thresholds",
        json={"thresholds": [{"value": 47.5, "when": {"year": 2024}}]},
    )


def _case(build: Any) -> RouteCase:
    return RouteCase(Kind.UNIT, WRITE, build, home="p1", elsewhere="p2")


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", BASE): _case(create),
    ("POST", f"{BASE}/import"): _case(import_),
    ("PATCH", f"{BASE}/{{criteria_set_id}}"): _case(patch),
    ("POST", f"{BASE}/{{criteria_set_id}}/publish"): _case(publish),
    ("POST", f"{BASE}/{{criteria_set_id}}/retire"): _case(retire),
    ("POST", f"{BASE}/{{criteria_set_id}}/derive"): _case(derive),
    ("POST", f"{BASE}/{{criteria_set_id}}/indicators"): _case(add_indicator),
    ("PUT", f"{BASE}/{{criteria_set_id}}/indicators/{{code}}/thresholds"): _case(
        replace_thresholds
    ),
}
