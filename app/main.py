"""Application factory: ``create_app(settings)`` wires settings, database, routers and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi

from app.config import Settings, get_settings
from app.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, install_error_handlers
from app.core.idempotency import IdempotencyMiddleware
from app.core.input import BodyLimitMiddleware, InputGuardMiddleware
from app.core.logging import configure_logging
from app.core.middleware import Metrics, RequestContextMiddleware
from app.core.openapi import operation_id, refine
from app.core.problem import Problem
from app.core.query import prepare as prepare_query_check
from app.core.query import reject_unknown_query_parameters
from app.db.engine import Database, build_engine
from app.db.replica import build_replica
from app.routers import API_ROUTERS, ROOT_ROUTERS, mount
from app.storage import build_storage
from app.system.docs import install_docs
from app.system.router import LIVENESS_PATH
from app.worker.runner import Worker

API_PREFIX = "/api/v1"
GZIP_MINIMUM_BYTES = 1024
DESCRIPTION = """\
REST API of the data platform for Vietnam's New Rural Development programme (nông thôn mới):
administrative units and their history, criteria sets, assessments, recognition dossiers, plans
and reports. Errors are RFC 9457 `application/problem+json` with a stable `code`; lists use cursor
pagination; anything that depends on the map accepts `as_of`.
"""


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_query_check(app)  # builds the OpenAPI document once, before the first request
        worker = None
        if settings.runs_worker_in_process:
            worker = Worker(app.state.database, settings, app.state.storage)
            app.state.worker = worker
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
                app.state.worker = None
            if database is None:
                await app.state.database.dispose()

    app = FastAPI(
        title="NTM data platform API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query_parameters)],
        docs_url=None,  # served from local assets by install_docs
        redoc_url=None,
        generate_unique_id_function=operation_id,
        # The service's metrics are Prometheus (/metrics, app.core.middleware); FastAPI's native
        # OpenTelemetry would only ask, on every request, whether a provider was configured
        # (environment reads: ~6 % of a cached read's CPU, issue 16).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = database or Database(
        build_engine(settings), replica=build_replica(settings)
    )
    app.state.metrics = Metrics()
    app.state.storage = build_storage(settings)

    install_error_handlers(app)
    install_docs(app)
    mount(app, ROOT_ROUTERS)
    mount(app, API_ROUTERS, API_PREFIX)

    # Innermost: input no route can store is refused before any handler sees it (inside CORS,
    # so that browsers can read the refusal).
    app.add_middleware(InputGuardMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Link", "Location", "X-Request-ID"],
        )
    app.add_middleware(IdempotencyMiddleware, prefix=API_PREFIX)
    # Outside everything that reads a body, inside the request id and access log.
    app.add_middleware(
        BodyLimitMiddleware,
        json_limit=settings.max_json_body_bytes,
        upload_limit=settings.max_upload_bytes,
    )
    # Outside the idempotency store, so that stored replays stay uncompressed and every client
    # gets the encoding it accepts (the unit tree: 584 KB → about 120 KB).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    # Outermost: every answer, compressed or not, carries the request id and is counted and
    # logged; the liveness probe is answered here, before the rest (RequestContextMiddleware).
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics, liveness=LIVENESS_PATH)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        # Its nested models (FieldError) are referred to as components: they must be there.
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.get("responses", {})
                declared = responses.get("422", {}).get("content", {})
                if "422" in responses and PROBLEM_MEDIA_TYPE not in declared:
                    # FastAPI's default (HTTPValidationError) is not what we answer; an operation
                    # that declared its own problem body (the imports' ImportRejected) keeps it.
                    responses["422"] = {"description": "Validation error", **PROBLEM_SCHEMA}
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        declare_common_responses(schema)
        refine(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# Answers any operation can give, from the middleware and handlers shared by all of them rather
# than from the route itself. The indicator import declares its own (it streams its upload).
_OWN_RESPONSES = {f"{API_PREFIX}/indicator-values/import"}
_COMMON_RESPONSES: dict[str, tuple[str, Callable[[str, dict[str, Any]], bool]]] = {
    "400": (
        "Bad request (`invalid_idempotency_key`: an `Idempotency-Key` of 1 to 255 characters).",
        lambda method, _operation: method == "post",
    ),
    "401": (
        "No valid access token (`not_authenticated`, `invalid_token`).",
        lambda _method, operation: bool(operation.get("security")),
    ),
    "403": (
        "The caller's roles do not allow this here (`forbidden`).",
        lambda _method, operation: bool(operation.get("security")),
    ),
    "409": (
        "Conflict; for any POST, `idempotency_key_in_flight`: the first request with this "
        "`Idempotency-Key` is still running.",
        lambda method, _operation: method == "post",
    ),
    "413": (
        "The request body is larger than the limit for its content type (`payload_too_large`).",
        lambda _method, operation: "requestBody" in operation,
    ),
    "422": (
        "Validation error; for any POST, `idempotency_key_reused`: the key was used with "
        "another body.",
        lambda method, _operation: method == "post",
    ),
    "503": (
        "The database cannot be reached (`database_unavailable`); retry after `Retry-After`.",
        lambda _method, _operation: True,
    ),
}


def declare_common_responses(schema: dict[str, Any]) -> None:
    """Declare, on every operation they apply to, the problem+json answers that shared layers
    give (body limit, idempotency, authentication, database outage), keeping any description
    the operation gives itself."""
    for path, path_item in schema.get("paths", {}).items():
        if not path.startswith(API_PREFIX) or path in _OWN_RESPONSES:
            continue
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, (description, applies) in _COMMON_RESPONSES.items():
                if status not in responses and applies(method, operation):
                    responses[status] = {"description": description, **PROBLEM_SCHEMA}


def configure(settings: Settings) -> None:
    configure_logging(settings.log_level)
