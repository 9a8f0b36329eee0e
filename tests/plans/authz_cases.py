"""Route-authorisation cases of plans (see tests/identity/route_cases.py): a plan belongs to
its issuing unit, here the province p1; a holder of plans:write over p2 must get 404."""

from __future__ import annotations

import uuid
from typing import Any

from app.core.permissions import Action
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

WRITE = Action.PLANS_WRITE
API = "/api/v1"


def _plan_body(unit: uuid.UUID | None) -> dict[str, Any]:
    return {
        "number": f"{uuid.uuid4().hex[:6]}/KH-UBND",
        "title": "Kế hoạch kiểm thử",
        "issuing_unit_id": str(unit),
        "issue_date": "2022-06-21",
        "start_year": 2021,
        "end_year": 2025,
    }


async def _ok(env: Env, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = await env.admin.request(method, path, **kwargs)
    assert response.status_code in {200, 201}, response.text
    body: dict[str, Any] = response.json()
    return body


async def _plan(env: Env, target: Target, *, in_force: bool = False) -> dict[str, Any]:
    plan = await _ok(env, "POST", f"{API}/plans", json=_plan_body(target.unit_id))
    if in_force:
        plan = await _ok(env, "PATCH", f"{API}/plans/{plan['id']}", json={"status": "in_force"})
    return plan


TARGET = {
    "metric": "units_with_title",
    "title": "ntm_commune",
    "year": 2024,
    "planned_value": 3,
    "source_document": "KH kiểm thử",
}


async def create_plan(env: Env, target: Target) -> Call:
    return Call(f"{API}/plans", json=_plan_body(target.unit_id))


async def patch_plan(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    return Call(f"{API}/plans/{plan['id']}", json={"title": "Đã sửa"})


async def adjust(env: Env, target: Target) -> Call:
    plan = await _plan(env, target, in_force=True)
    body = {"number": "9/KH-UBND", "issue_date": "2023-01-05", "effective_from": "2023-01-05"}
    return Call(f"{API}/plans/{plan['id']}/adjustments", json=body)


async def create_target(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    return Call(f"{API}/plans/{plan['id']}/targets", json=TARGET)


async def patch_target(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    item = await _ok(env, "POST", f"{API}/plans/{plan['id']}/targets", json=TARGET)
    return Call(f"{API}/plans/{plan['id']}/targets/{item['id']}", json={"planned_value": 4})


def _roadmap(env: Env) -> dict[str, Any]:
    return {"unit_id": str(env.tree.c1), "title": "ntm_commune", "target_year": 2024}


async def create_roadmap(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    return Call(f"{API}/plans/{plan['id']}/roadmap", json=_roadmap(env))


async def patch_roadmap(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    item = await _ok(env, "POST", f"{API}/plans/{plan['id']}/roadmap", json=_roadmap(env))
    return Call(f"{API}/plans/{plan['id']}/roadmap/{item['id']}", json={"owner": "UBND huyện"})


TASK = {"description": "Rà soát tiêu chí", "agency": "Sở NN&MT", "deadline": "2024-06-30"}


async def create_task(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    return Call(f"{API}/plans/{plan['id']}/tasks", json=TASK)


async def patch_task(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    item = await _ok(env, "POST", f"{API}/plans/{plan['id']}/tasks", json=TASK)
    return Call(f"{API}/plans/{plan['id']}/tasks/{item['id']}", json={"status": "done"})


async def attach(env: Env, target: Target) -> Call:
    plan = await _plan(env, target)
    return Call(
        f"{API}/plans/{plan['id']}/documents",
        files={"file": ("kh.pdf", b"%PDF-1.4 test", "application/pdf")},
        data={"kind": "plan"},
    )


def _case(build: Any) -> RouteCase:
    return RouteCase(Kind.UNIT, WRITE, build, home="p1", elsewhere="p2")


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", f"{API}/plans"): _case(create_plan),
    ("PATCH", f"{API}/plans/{{plan_id}}"): _case(patch_plan),
    ("POST", f"{API}/plans/{{plan_id}}/adjustments"): _case(adjust),
    ("POST", f"{API}/plans/{{plan_id}}/targets"): _case(create_target),
    ("PATCH", f"{API}/plans/{{plan_id}}/targets/{{target_id}}"): _case(patch_target),
    ("POST", f"{API}/plans/{{plan_id}}/roadmap"): _case(create_roadmap),
    ("PATCH", f"{API}/plans/{{plan_id}}/roadmap/{{item_id}}"): _case(patch_roadmap),
    ("POST", f"{API}/plans/{{plan_id}}/tasks"): _case(create_task),
    ("PATCH", f"{API}/plans/{{plan_id}}/tasks/{{task_id}}"): _case(patch_task),
    ("POST", f"{API}/plans/{{plan_id}}/documents"): _case(attach),
}
