"""RFC 9457 problem details: one error type, one set of handlers, stable machine-readable codes."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.core import messages
from app.core.messages import Language
from app.db.availability import is_database_unavailable

logger = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:ntm:problem:"


class ProblemError(Exception):
    """An error the API reports as problem+json. Subclasses fix the status; ``code`` is stable.

    ``detail`` is the English text; the response carries the caller's language, rendered from
    ``app.core.messages`` by ``code`` and the optional ``params`` (the values the sentence names).
    """

    status: int = 400
    code: str = "bad_request"
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        title: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.params = dict(params or {})
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.errors = list(errors) if errors else []
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequest(ProblemError):
    status = 400
    code = "bad_request"


class Unauthorized(ProblemError):
    status = 401
    code = "not_authenticated"

    def __init__(self, detail: str = "Authentication required.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(ProblemError):
    status = 403
    code = "forbidden"


class NotFound(ProblemError):
    status = 404
    code = "not_found"


class Conflict(ProblemError):
    status = 409
    code = "conflict"


class PreconditionFailed(ProblemError):
    status = 412
    code = "precondition_failed"


class Unprocessable(ProblemError):
    status = 422
    code = "validation_error"


class ServiceUnavailable(ProblemError):
    status = 503
    code = "service_unavailable"


def field_error(loc: Sequence[str | int], msg: str, type_: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": type_}


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    instance: str | None = None,
    extra: Mapping[str, Any] | None = None,
    language: Language = "vi",
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem document in ``language``: ``detail`` is the English text of the raise site,
    kept for English when the catalogue has no fuller sentence (see ``app.core.messages``)."""
    if title is None or language == "vi":
        title = messages.title(status, language)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": messages.detail(code, language, detail, params),
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    if extra:
        body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    request: Request | None = None,
    title: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Response:
    instance = request.url.path if request is not None else None
    language = request_language(request.headers.get("accept-language")) if request else "vi"
    body = problem_body(
        status,
        code,
        detail,
        title=title,
        errors=errors,
        instance=instance,
        extra=extra,
        language=language,
        params=params,
    )
    return Response(
        orjson.dumps(body, default=str),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**language_headers(language, headers)},
    )


def request_language(header: str | None) -> Language:
    # app.core.http imports this module: the negotiation is read when first needed.
    from app.core.http import preferred_language

    return preferred_language(header)


def scope_language(scope: Mapping[str, Any]) -> Language:
    """The caller's language from an ASGI scope, for problems sent below the routes."""
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            return request_language(value.decode("latin-1"))
    return "vi"


def raw_problem_headers(language: Language, length: int) -> list[tuple[bytes, bytes]]:
    """The headers of a problem sent straight through ASGI ``send``."""
    return [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(length).encode()),
        *((k.lower().encode(), v.encode()) for k, v in language_headers(language).items()),
    ]


def language_headers(
    language: Language, headers: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``headers`` plus the language of a problem (RFC 9110 §8.5) and ``Vary`` on the header that
    chose it, so that a cache never serves a Vietnamese problem to an English client."""
    out = dict(headers or {})
    vary = [v.strip() for v in out.get("Vary", "").split(",") if v.strip()]
    if "accept-language" not in {v.lower() for v in vary}:
        vary.append("Accept-Language")
    out["Vary"] = ", ".join(vary)
    out["Content-Language"] = language
    return out


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        out.append(
            {
                "loc": [str(part) if not isinstance(part, int) else part for part in err["loc"]],
                "msg": err.get("msg", ""),
                "type": err.get("type", "value_error"),
            }
        )
    return out


# FastAPI's detail when reading the body failed for any reason other than malformed JSON.
UNPARSEABLE_BODY = "There was an error parsing the body"

_STATUS_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


# SQLSTATE classes that mean "the server cannot serve now", not "the statement is wrong":
def _allowed_methods(request: Request) -> list[str]:
    state = request.app.state
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(state, "allow_table", None)
    if table is None:
        # Included routers are resolved lazily by FastAPI: read every route's full path once.
        table = [
            (compile_path(context.path)[0], frozenset(context.methods or ()))
            for context in iter_route_contexts(request.app.routes)
            if context.path
        ]
        state.allow_table = table
    path = request.url.path
    return sorted({m for pattern, methods in table if pattern.match(path) for m in methods})


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(
            exc.status,
            exc.code,
            exc.detail,
            request=request,
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
            params=exc.params,
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
        return problem_response(
            422,
            "validation_error",
            f"The request is not valid: {fields}." if fields else "The request is not valid.",
            request=request,
            errors=errors,
            params={"fields": fields} if fields else None,
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.detail == UNPARSEABLE_BODY:
            # FastAPI's answer to a body its parser gave up on (not UTF-8, nested too deeply, a
            # number with thousands of digits): a validation error of the body like any other.
            return problem_response(
                422,
                "validation_error",
                "The request is not valid: body.",
                request=request,
                errors=[field_error(["body"], "the body cannot be parsed", "body_unparseable")],
                params={"fields": "body"},
            )
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names the methods of the first route whose path matched; a path served
            # by several routes (GET and POST declared apart) allows all of theirs (RFC 9110
            # §15.5.6: Allow lists the methods the target resource supports).
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        params = None
        if exc.status_code == 404 and exc.detail == "Not Found":
            detail = f"No resource at {request.url.path}."
            params = {"path": request.url.path}
        else:
            detail = str(exc.detail)
        return problem_response(
            exc.status_code, code, detail, request=request, headers=headers, params=params
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if is_database_unavailable(exc):
            logger.warning("database unavailable: %s", type(exc).__name__)
            return problem_response(
                503,
                "database_unavailable",
                "The database cannot be reached right now; try again shortly.",
                request=request,
                headers={"Retry-After": "5"},
            )
        logger.exception("unhandled error", exc_info=exc)
        return problem_response(
            500,
            "internal_error",
            "An unexpected error occurred. It has been logged with the request id.",
            request=request,
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_unexpected)
    app.add_exception_handler(PoolTimeoutError, on_unexpected)
    app.add_exception_handler(OSError, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)


# Shared OpenAPI declaration of the problem responses, so every route documents them.
PROBLEM_SCHEMA: dict[str, Any] = {
    "content": {
        PROBLEM_MEDIA_TYPE: {
            "schema": {"$ref": "#/components/schemas/Problem"},
        }
    }
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"description": HTTPStatus(status).phrase, **PROBLEM_SCHEMA} for status in statuses
    }
