"""Route-authorisation cases of the map (/units, /unit-classifications, /unit-events); see
route_cases.py. Kept here until the units feature takes them into tests/units."""

from __future__ import annotations

import uuid
from typing import Any

from app.core.permissions import Action
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

WRITE = Action.UNITS_WRITE
API = "/api/v1"
BASIS = {
    "number": "TEST-1/NQ-UBTVQH15",
    "date": "2025-06-16",
    "issuer": "Ủy ban Thường vụ Quốc hội",
}


def _code() -> str:
    return f"V{uuid.uuid4().hex[:8]}"


async def create_village(env: Env, target: Target) -> Call:
    body: dict[str, Any] = {
        "type": "thon",
        "code": _code(),
        "name": "Thôn Mới",
        "parent_id": str(target.unit_id),
    }
    return Call(f"{API}/units", json=body)


async def import_villages(env: Env, target: Target) -> Call:
    csv = f"code,name,type,parent_id\n{_code()},Thôn Nhập,thon,{target.unit_id}\n"
    return Call(f"{API}/units/import", files={"file": ("villages.csv", csv.encode(), "text/csv")})


async def patch_unit(env: Env, target: Target) -> Call:
    return Call(
        f"{API}/units/{target.unit_id}",
        json={"name": "Xã Đổi Tên", "effective_date": "2026-01-01"},
    )


async def classify(env: Env, target: Target) -> Call:
    return Call(
        f"{API}/units/{target.unit_id}/classifications",
        json={"kind": "especially_difficult", "value": "true", "valid_from": "2024-01-01"},
    )


async def classify_in_bulk(env: Env, target: Target) -> Call:
    item = {
        "unit_id": str(target.unit_id),
        "kind": "safe_zone",
        "value": "true",
        "valid_from": "2024-01-01",
    }
    return Call(f"{API}/unit-classifications/bulk", json={"items": [item]})


async def rename_event(env: Env, target: Target) -> Call:
    body = {
        "kind": "rename",
        "effective_date": "2026-02-01",
        "legal_basis": BASIS,
        "unit_id": str(target.unit_id),
        "name": "Xã Tên Mới",
    }
    return Call(f"{API}/unit-events", json=body)


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", f"{API}/units"): RouteCase(Kind.UNIT, WRITE, create_village),
    ("POST", f"{API}/units/import"): RouteCase(
        Kind.UNIT, WRITE, import_villages, hidden_status=422
    ),
    ("PATCH", f"{API}/units/{{unit_id}}"): RouteCase(Kind.UNIT, WRITE, patch_unit),
    ("POST", f"{API}/units/{{unit_id}}/classifications"): RouteCase(Kind.UNIT, WRITE, classify),
    ("POST", f"{API}/unit-classifications/bulk"): RouteCase(Kind.UNIT, WRITE, classify_in_bulk),
    ("POST", f"{API}/unit-events"): RouteCase(Kind.UNIT, WRITE, rename_event),
}
