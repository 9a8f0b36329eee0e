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


async def confirm_carry_over(env: Env, target: Target) -> Call:
    """c1 absorbs a new NTM commune; both held NTM: the merge proposes NTM for c1."""
    parent = await env.admin.get(f"{API}/units/{target.unit_id}")
    created = await env.admin.post(
        f"{API}/units",
        json={
            "type": "xa",
            "code": f"Z{uuid.uuid4().hex[:4]}",
            "name": "Xã Sáp Nhập",
            "parent_id": parent.json()["parent_id"],
            "valid_from": "2015-01-01",
        },
    )
    assert created.status_code == 201, created.text
    for unit in (target.unit_id, created.json()["id"]):
        granted = await env.admin.post(f"{API}/recognitions", json=grant_body(unit))
        assert granted.status_code == 201, granted.text
    merged = await env.admin.post(
        f"{API}/unit-events",
        json={
            "kind": "merge",
            "effective_date": "2024-01-01",
            "legal_basis": {"number": "1/NQ-TEST", "date": "2023-12-01", "issuer": "Thử"},
            "sources": [{"unit_id": created.json()["id"]}],
            "target": {"into_id": str(target.unit_id)},
        },
    )
    assert merged.status_code == 201, merged.text
    body = {
        "unit_event_id": merged.json()["id"],
        "unit_id": str(target.unit_id),
        "title": "ntm_commune",
        "year_for": 2024,
        "decision_number": "2/QĐ-UBND",
        "decision_date": "2024-03-01",
        "signer": "Chủ tịch UBND tỉnh",
    }
    return Call(f"{API}/recognitions/carry-over", json=body)


async def import_history(env: Env, target: Target) -> Call:
    csv = (
        "unit_id,title,year_for,decision_number,decision_date,signer\n"
        f"{target.unit_id},ntm_commune,2019,3/QĐ-UBND,2020-01-15,Chủ tịch UBND tỉnh\n"
    )
    return Call(
        f"{API}/recognitions/import",
        files={"file": ("history.csv", csv.encode(), "text/csv")},
    )


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", f"{API}/recognitions"): RouteCase(Kind.UNIT, WRITE, create),
    ("POST", f"{API}/recognitions/{{recognition_id}}/revocation"): RouteCase(
        Kind.UNIT, WRITE, revoke
    ),
    ("POST", f"{API}/recognitions/carry-over"): RouteCase(Kind.UNIT, WRITE, confirm_carry_over),
    ("POST", f"{API}/recognitions/import"): RouteCase(
        Kind.UNIT, WRITE, import_history, hidden_status=422
    ),
}
