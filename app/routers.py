"""Every router of the service, in one place.

The features' routes are gathered into one flat router rather than included router by router:
FastAPI (0.165) matches an included router by scanning its routes, then scans them again to
handle the request, at every level of nesting. Three levels (app → API → feature → sub-router)
cost a unit read about a tenth of its CPU under load (bench/RESULTS.md, issue 16); one level of
130 routes costs a single scan. Nothing is lost: every included router here adds no prefix,
dependency or tag of its own (checked by :func:`flat`), so a route behaves as it did.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute, iter_route_contexts

from app.assessments.router import router as assessments_router
from app.audit.router import router as audit_router
from app.criteria.router import router as criteria_router
from app.dossiers.router import router as dossiers_router
from app.identity.router import router as identity_router
from app.integration.router import router as integration_router
from app.plans.router import router as plans_router
from app.recognitions.router import router as recognitions_router
from app.reports.router import router as reports_router
from app.system.router import router as system_router
from app.units.router import router as units_router


def flat(*routers: APIRouter) -> APIRouter:
    """One router holding the API routes of ``routers`` (and of the routers they include), in
    order. An include that would change a route (a prefix, dependencies, tags) is refused."""
    gathered = APIRouter()
    for router in routers:
        for context in iter_route_contexts(router.routes):
            route = context.original_route
            if not isinstance(route, APIRoute):
                raise TypeError(f"{context.path}: only API routes can be gathered")
            effective = context.route
            if context.path != route.path or (
                isinstance(effective, APIRoute)
                and (effective.dependencies != route.dependencies or effective.tags != route.tags)
            ):
                raise ValueError(f"{route.path}: its include changes it; include it as it is")
            gathered.routes.append(route)
    return gathered


root_router = flat(system_router)
api_router = flat(
    identity_router,
    units_router,
    criteria_router,
    assessments_router,
    recognitions_router,
    dossiers_router,
    plans_router,
    audit_router,
    integration_router,
    reports_router,
)
