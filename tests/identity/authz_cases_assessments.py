"""Route-authorisation cases of assessments (see route_cases.py): an assessment belongs to its
unit; a commune officer of another province's commune must get 404, a national district officer
without assessments:review where it is needed 403. Kept here until the assessments feature takes
them into tests/assessments."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from app.core.permissions import Action
from tests.assessments.conftest import TEST_SET
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

WRITE = Action.ASSESSMENTS_WRITE
API = "/api/v1"


async def _ok(env: Env, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = await env.admin.request(method, path, **kwargs)
    assert response.status_code in {200, 201}, response.text
    body: dict[str, Any] = response.json()
    return body


async def _published_set(env: Env) -> dict[str, Any]:
    body = copy.deepcopy(TEST_SET)
    body["code"] = f"TEST-AUTHZ-{uuid.uuid4().hex[:8]}"
    created = await _ok(env, "POST", f"{API}/criteria-sets", json=body)
    return await _ok(env, "POST", f"{API}/criteria-sets/{created['id']}/publish")


async def _assessment(env: Env, unit: uuid.UUID | None) -> dict[str, Any]:
    criteria_set = await _published_set(env)
    body = {
        "unit_id": str(unit),
        "criteria_set_id": criteria_set["id"],
        "year": 2023,
        "kind": "self_assessment",
    }
    return await _ok(env, "POST", f"{API}/assessments", json=body)


async def create(env: Env, target: Target) -> Call:
    criteria_set = await _published_set(env)
    body = {
        "unit_id": str(target.unit_id),
        "criteria_set_id": criteria_set["id"],
        "year": 2023,
        "kind": "self_assessment",
    }
    return Call(f"{API}/assessments", json=body)


async def patch(env: Env, target: Target) -> Call:
    assessment = await _assessment(env, target.unit_id)
    return Call(f"{API}/assessments/{assessment['id']}", json={"note": "đã rà soát"})


async def put_values(env: Env, target: Target) -> Call:
    assessment = await _assessment(env, target.unit_id)
    body = {"values": [{"indicator_code": "2.1", "value": 45}]}
    return Call(f"{API}/assessments/{assessment['id']}/values", json=body)


async def put_judgements(env: Env, target: Target) -> Call:
    assessment = await _assessment(env, target.unit_id)
    body = {"judgements": [{"criterion_number": 4, "status": "met", "reason": "đủ hồ sơ"}]}
    return Call(f"{API}/assessments/{assessment['id']}/judgements", json=body)


async def put_conditions(env: Env, target: Target) -> Call:
    assessment = await _assessment(env, target.unit_id)
    body = {"conditions": [{"code": "resident_satisfaction", "value": 95}]}
    return Call(f"{API}/assessments/{assessment['id']}/conditions", json=body)


async def import_values(env: Env, target: Target) -> Call:
    criteria_set = await _published_set(env)
    csv = f"unit_id,year,indicator_code,value\n{target.unit_id},2023,2.1,45\n"
    return Call(
        f"{API}/indicator-values/import",
        params={"criteria_set_id": criteria_set["id"], "kind": "self_assessment"},
        files={"file": ("values.csv", csv.encode(), "text/csv")},
    )


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", f"{API}/assessments"): RouteCase(Kind.UNIT, WRITE, create),
    ("PATCH", f"{API}/assessments/{{assessment_id}}"): RouteCase(Kind.UNIT, WRITE, patch),
    ("PUT", f"{API}/assessments/{{assessment_id}}/values"): RouteCase(Kind.UNIT, WRITE, put_values),
    ("PUT", f"{API}/assessments/{{assessment_id}}/judgements"): RouteCase(
        Kind.UNIT, Action.ASSESSMENTS_REVIEW, put_judgements
    ),
    ("PUT", f"{API}/assessments/{{assessment_id}}/conditions"): RouteCase(
        Kind.UNIT, WRITE, put_conditions
    ),
    ("POST", f"{API}/indicator-values/import"): RouteCase(
        Kind.UNIT, WRITE, import_values, hidden_status=422
    ),
}
