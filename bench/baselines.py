"""The two servers ``bench.concurrency`` measures the service against; never mounted in the product.

- ``ping``: a bare FastAPI app with one route, ``GET /ping`` — what the stack (uvicorn, Starlette,
  FastAPI routing, JSON) costs with no database and no middleware;
- ``raw``: a FastAPI app whose handlers send, through a plain ``asyncpg`` pool, the SQL statements
  the service itself sent for the same URL. They were captured from the service
  (``bench.concurrency.capture``: SQLAlchemy's ``before_cursor_execute``) and are replayed with
  their parameters, the unit id of the path substituted; each row becomes a dict encoded with
  orjson. It is the ceiling of what the service's own SQL allows: no ORM, no session, no
  middleware, no pre-ping.

Both are served by uvicorn with the options ``ntm serve`` uses (``app.cli.serve_options``):
``python -m bench.baselines ping|raw --port N [--recipes FILE --database-url URL]``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request, Response

from app.config import Settings


@dataclass(frozen=True)
class Statement:
    """One statement as the service sent it through asyncpg (``$n`` placeholders)."""

    sql: str
    parameters: tuple[Any, ...]


@dataclass(frozen=True)
class Recipe:
    """What the service sent for one URL; ``unit_id`` is the path's id when it has one."""

    path: str
    statements: tuple[Statement, ...]
    unit_id: uuid.UUID | None = None


def ping_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def raw_app(database_url: str, recipes: list[Recipe], pool_size: int) -> FastAPI:
    """One route per recipe path; ``{unit_id}`` in a path is the id the statements are given."""
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        # The pool the service has: pool_size plus as many overflow connections, JIT off.
        state["pool"] = await asyncpg.create_pool(
            dsn,
            min_size=pool_size,
            max_size=2 * pool_size,
            server_settings={"jit": "off", "application_name": "ntm-bench-raw"},
        )
        try:
            yield
        finally:
            await state["pool"].close()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    def handler_for(recipe: Recipe) -> Any:
        async def by_id(unit_id: uuid.UUID) -> Response:
            return await run(recipe, unit_id)

        async def plain(request: Request) -> Response:
            return await run(recipe, None)

        return by_id if recipe.unit_id is not None else plain

    async def run(recipe: Recipe, unit_id: uuid.UUID | None) -> Response:
        results = []
        async with state["pool"].acquire() as connection:
            for statement in recipe.statements:
                parameters = statement.parameters
                if unit_id is not None:
                    parameters = tuple(unit_id if p == recipe.unit_id else p for p in parameters)
                rows = await connection.fetch(statement.sql, *parameters)
                results.append([dict(row) for row in rows])
        body = orjson.dumps(results, default=_encode)
        return Response(body, media_type="application/json")

    for recipe in recipes:
        app.add_api_route(recipe.path, handler_for(recipe), methods=["GET"])
    return app


def _serve(app: FastAPI, port: int) -> None:
    import uvicorn

    from app.cli import serve_options

    settings = Settings()
    options = serve_options(
        settings,
        argparse.Namespace(host="127.0.0.1", port=port, workers=1, forwarded_allow_ips=None),
    )
    options.pop("factory")
    uvicorn.run(app, **options)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines")
    parser.add_argument("kind", choices=["ping", "raw"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--recipes", type=Path)
    parser.add_argument("--database-url", default=os.environ.get("NTM_DATABASE_URL", ""))
    args = parser.parse_args(argv)
    if args.kind == "ping":
        _serve(ping_app(), args.port)
        return 0
    if args.recipes is None or not args.database_url:
        parser.error("raw needs --recipes and --database-url")
    recipes: list[Recipe] = pickle.loads(args.recipes.read_bytes())  # written by bench itself
    _serve(raw_app(args.database_url, recipes, Settings().db_pool_size), args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
