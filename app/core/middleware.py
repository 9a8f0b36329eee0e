"""One pure-ASGI middleware for request ids, Prometheus metrics and the access log.

Pure ASGI rather than BaseHTTPMiddleware: it costs a few microseconds per request, not a task.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import request_id_var

access_log = logging.getLogger("app.access")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )


# The liveness probe's answer, as its route (app.system.router.healthz) renders it.
LIVENESS_BODY = b'{"status":"ok"}'
_LIVENESS_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(LIVENESS_BODY)).encode()),
]


class RequestContextMiddleware:
    """Request id, metrics and access log for every request; the outermost layer of the app.

    ``liveness``: the path of the liveness probe (``/healthz``). A plain ``GET`` of it (no query
    string) touches nothing and can only answer ``{"status": "ok"}``, so it is answered here,
    with its request id, metrics and access log line, without the layers and the routing under
    this one (they cost the probe half its throughput, bench/RESULTS.md). Anything else on that
    path (a query string, another method) goes through the whole stack as before: unknown
    parameters are refused, other methods get their 405.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, liveness: str | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.liveness = liveness
        self._templates: dict[int, str] | None = None

    def _template(self, scope: Scope) -> str:
        """The matched route's full path template. FastAPI resolves included routers lazily: the
        route in the scope keeps the path it was declared with, without the prefixes it was
        included under, so the full one is read once from the app's route contexts."""
        route = scope.get("route")
        if route is None:
            return "<unmatched>"
        if self._templates is None:
            self._templates = {
                id(context.original_route): context.path_format
                for context in iter_route_contexts(scope["app"].routes)
                if context.path_format
            }
        return self._templates.get(id(route)) or getattr(route, "path", None) or "<unmatched>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        failed = False
        live = (
            scope["path"] == self.liveness
            and scope["method"] == "GET"
            and not scope.get("query_string")
        )
        try:
            if live:
                await send_wrapper(
                    {"type": "http.response.start", "status": 200, "headers": _LIVENESS_HEADERS}
                )
                await send_wrapper({"type": "http.response.body", "body": LIVENESS_BODY})
            else:
                await self.app(scope, receive, send_wrapper)
        except BaseException:
            failed = True
            raise
        finally:
            elapsed = time.perf_counter() - started
            template = self.liveness if live and self.liveness else self._template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            access_log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={"route": template, "status": status, "duration_ms": round(elapsed * 1e3, 2)},
            )
            # After an exception the request id stays set: the 500 handler and the server log
            # the traceback further out, in this request's own context, and name the request.
            if not failed:
                request_id_var.reset(token)
