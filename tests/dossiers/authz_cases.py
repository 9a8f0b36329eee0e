"""Route-authorisation cases of dossiers (see tests/identity/route_cases.py): a dossier belongs to
its unit; the calls below are aimed at a dossier of ``target.unit_id`` under the procedure in
force today, prepared by the administrator."""

from __future__ import annotations

from typing import Any

from app.core.permissions import Action
from tests.dossiers.helpers import API, DRAFT_DOCUMENTS, PDF, assessment, ok, published_set
from tests.identity.route_cases import Call, Env, Kind, RouteCase, Target

WRITE = Action.DOSSIERS_WRITE


async def _body(env: Env, target: Target) -> dict[str, Any]:
    criteria_set = await published_set(env.admin)
    assert target.unit_id is not None
    made = await assessment(env.admin, criteria_set["id"], target.unit_id, 2024)
    return {
        "unit_id": str(target.unit_id),
        "title": "ntm_commune",
        "year": 2024,
        "criteria_set_id": criteria_set["id"],
        "assessment_ids": [made["id"]],
    }


async def _dossier(env: Env, target: Target) -> dict[str, Any]:
    return await ok(await env.admin.post(f"{API}/dossiers", json=await _body(env, target)), 201)


async def create(env: Env, target: Target) -> Call:
    return Call(f"{API}/dossiers", json=await _body(env, target))


async def transition(env: Env, target: Target) -> Call:
    dossier = await _dossier(env, target)
    for document_type in DRAFT_DOCUMENTS:
        await ok(
            await env.admin.post(
                f"{API}/dossiers/{dossier['id']}/documents",
                files={"file": ("a.pdf", PDF, "application/pdf")},
                data={"document_type": document_type},
            ),
            201,
        )
    read = await env.admin.get(f"{API}/dossiers/{dossier['id']}")
    return Call(
        f"{API}/dossiers/{dossier['id']}/transitions",
        json={"action": "submit"},
        headers={"If-Match": read.headers["etag"]},
    )


async def document(env: Env, target: Target) -> Call:
    dossier = await _dossier(env, target)
    return Call(
        f"{API}/dossiers/{dossier['id']}/documents",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        data={"document_type": "evidence"},
    )


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", "/api/v1/dossiers"): RouteCase(Kind.UNIT, WRITE, build=create),
    ("POST", "/api/v1/dossiers/{dossier_id}/transitions"): RouteCase(
        Kind.UNIT, WRITE, build=transition
    ),
    ("POST", "/api/v1/dossiers/{dossier_id}/documents"): RouteCase(
        Kind.UNIT, WRITE, build=document
    ),
}
