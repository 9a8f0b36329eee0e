"""Every router of the service, in one place, and how they become the application's routes.

The features' routes (and those of the routers they include) are declared on the application's
own router (:func:`mount`) rather than included router by router: FastAPI (0.165)
matches an included router by scanning its routes, then scans them again to handle the request,
at every level of nesting. Three levels (app → API → feature → sub-router) cost a unit read
about a tenth of its CPU under load, a published criteria set a sixth (bench/RESULTS.md, issue
16); routes of the application itself are matched in one scan. Nothing is lost: every included
router here adds no prefix, dependency or tag of its own (checked by :func:`routes_of`), and
:func:`mount` declares each route again with everything it was declared with, as
``include_router`` did before FastAPI made included routers lazy. The OpenAPI document is the
same (``make openapi`` leaves openapi/openapi.json unchanged).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette._utils import get_route_path  # what Starlette's own matching reads the path with
from starlette.routing import Match
from starlette.types import Scope

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


def routes_of(routers: Sequence[APIRouter]) -> Iterator[APIRoute]:
    """The API routes of ``routers`` and of the routers they include, in order. An include that
    would change a route (a prefix, dependencies, tags) is refused."""
    for router in routers:
        for context in iter_route_contexts(router.routes):
            route = context.original_route
            if not isinstance(route, APIRoute):
                raise TypeError(f"{context.path}: only API routes can be mounted")
            effective = context.route
            if context.path != route.path or (
                isinstance(effective, APIRoute)
                and (effective.dependencies != route.dependencies or effective.tags != route.tags)
            ):
                raise ValueError(f"{route.path}: its include changes it; include it as it is")
            yield route


class PrefixedRoute(APIRoute):
    """An API route that turns away a path outside the literal start of its own (up to its
    first parameter) before trying its regular expression, which could only fail: the request
    is matched against the routes in order, and most of the 130 are not its own."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.literal_start = path.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not get_route_path(scope).startswith(self.literal_start):
            return Match.NONE, {}
        return super().matches(scope)


def mount(app: FastAPI, routers: Sequence[APIRouter], prefix: str = "") -> None:
    """Declare every route of ``routers`` on the application itself, under ``prefix``, as it was
    declared; the application's own dependencies apply, as they would to an included router."""
    for route in routes_of(routers):
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits,
            route_class_override=PrefixedRoute,
        )


ROOT_ROUTERS = (system_router,)
API_ROUTERS = (
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
