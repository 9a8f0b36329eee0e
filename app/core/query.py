"""Unknown query parameters answer 422 naming them (API.md: a typo such as ``province_id=`` must
never silently widen a list). What an operation knows is what the OpenAPI document declares for
it, so the contract and the check cannot drift apart.

Building the document takes about a second, so the table is made when the application starts
(``prepare``, from its lifespan), not by the first request that carries a query parameter.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts

from app.core.errors import Unprocessable, field_error

_Table = dict[tuple[int, str], frozenset[str] | None]


def prepare(app: FastAPI) -> None:
    """Make the table now (at startup) rather than on the first request that needs it."""
    _of(app)


def _table(request: Request) -> _Table:
    return _of(request.app)


def _of(app: FastAPI) -> _Table:
    state = app.state
    table: _Table | None = getattr(state, "query_table", None)
    if table is None:
        paths = app.openapi().get("paths", {})
        table = {}
        for context in iter_route_contexts(app.routes):
            item = paths.get(context.path)
            for method in context.methods or ():
                operation = item.get(method.lower()) if item else None
                # Routes outside the document (the documentation pages) are not checked.
                table[(id(context.original_route), method)] = (
                    None
                    if operation is None
                    else frozenset(
                        p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"
                    )
                )
        state.query_table = table
    return table


async def reject_unknown_query_parameters(request: Request) -> None:
    if not request.query_params:
        return
    route = request.scope.get("route")
    known = _table(request).get((id(route), request.method))
    if known is None:
        return
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        names = ", ".join(unknown)
        raise Unprocessable(
            f"Unknown query parameter(s): {names}. This operation accepts: "
            f"{', '.join(sorted(known)) or 'none'}.",
            code="unknown_query_parameter",
            params={"names": names, "known": ", ".join(sorted(known)) or "-"},
            errors=[
                field_error(["query", name], "unknown parameter", "unknown_parameter")
                for name in unknown
            ],
        )
