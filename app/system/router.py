"""Health, readiness and metrics, at the root of the service."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from app.core.errors import ServiceUnavailable, problem_responses
from app.db import migrate
from app.db.availability import is_database_unavailable
from app.db.session import DatabaseDep

router = APIRouter(tags=["system"])

READY_TIMEOUT_SECONDS = 5.0
# A plain GET of it is answered by the outermost middleware (RequestContextMiddleware, app.main):
# the route below stays for the schema and for the requests that middleware lets through.
LIVENESS_PATH = "/healthz"


class Health(BaseModel):
    """The process answers (liveness); says nothing of the database."""

    status: str = Field(description="Always `ok`.")


class Readiness(BaseModel):
    """The service can serve: the database answers and its schema is at the latest migration."""

    status: str = Field(description="`ok`.")
    database: str = Field(description="The database in use: `sqlite` or `postgresql`.")
    schema_revision: str = Field(description="The Alembic revision the database is at.")


@router.get(LIVENESS_PATH, response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The database is reachable and its schema is at the latest migration",
    responses=problem_responses(503),
)
async def readyz(database: DatabaseDep) -> Readiness:
    expected = migrate.head_revision()
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with database.read_engine.connect() as connection:
                current = await migrate.current_revision(connection)
    except Exception as exc:
        if is_database_unavailable(exc):
            raise ServiceUnavailable(
                f"The database cannot be reached: {type(exc).__name__}.",
                code="database_unavailable",
                headers={"Retry-After": "5"},
            ) from exc
        raise
    if current != expected:
        raise ServiceUnavailable(
            f"The database schema is at revision {current or 'none'}, the service needs "
            f"{expected}: run `ntm db upgrade`.",
            code="schema_outdated",
        )
    return Readiness(status="ok", database=database.dialect, schema_revision=current)


@router.get(
    "/metrics",
    summary="Prometheus metrics: request counts and latency by route template and status",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
