"""The contract test: every JSON body the suite receives matches its route's schema in the
committed ``openapi/openapi.json``.

Hot reads bypass ``response_model`` (they build dicts and send them with orjson), so nothing
else stops them drifting from the document that clients are generated from. The ``client``
fixtures run :meth:`Contract.check` on every response: the operation is found by method and
path template, the schema by status and media type (``$ref``s resolve against the document's
components), and a mismatch fails the test that made the request. Validators are compiled once
per operation, status and media type.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from httpx import Response
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

DOCUMENT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
PROBLEM = "#/components/schemas/Problem"
JSON_TYPES = ("application/json", "application/problem+json")

# Drift found by this test in files its author could not change; each names the fix. A waiver
# covers one operation, status and part of the body only: the rest is still checked.
KNOWN_DRIFT: dict[tuple[str, str, int], tuple[str, str]] = {}


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    operations: dict[str, Any]

    @property
    def literal_weight(self) -> tuple[int, int]:
        # A literal segment beats a parameter: /assessments/compare before /assessments/{id}.
        segments = self.template.split("/")
        return (-sum(1 for s in segments if not s.startswith("{")), len(segments))


@dataclass
class Contract:
    document: dict[str, Any]
    validators: dict[tuple[str, str, str, str], Validator | None] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DOCUMENT) -> Contract:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @cached_property
    def routes(self) -> list[Route]:
        routes = [
            Route(
                template,
                re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"),
                operations,
            )
            for template, operations in self.document["paths"].items()
        ]
        return sorted(routes, key=lambda r: r.literal_weight)

    def route_of(self, path: str) -> Route | None:
        return next((route for route in self.routes if route.pattern.match(path)), None)

    def _compile(self, schema: dict[str, Any]) -> Validator:
        root = {**schema, "components": self.document["components"]}
        return Draft202012Validator(root)

    def validator(
        self, method: str, route: Route | None, status: int, media_type: str
    ) -> Validator | None:
        """The schema of a body, or ``None`` when the document gives none for it.

        A problem with no declared schema (an undeclared 401 or 404) is still a Problem.
        """
        template = route.template if route is not None else "*"
        key = (method, template, str(status), media_type)
        if key in self.validators:
            return self.validators[key]
        schema: dict[str, Any] | None = None
        operation = route.operations.get(method.lower()) if route is not None else None
        declared = (operation or {}).get("responses", {}).get(str(status))
        if declared is not None:
            schema = declared.get("content", {}).get(media_type, {}).get("schema")
        if schema is None and media_type == "application/problem+json":
            schema = {"$ref": PROBLEM}
        compiled = self._compile(schema) if schema is not None else None
        self.validators[key] = compiled
        return compiled

    def problems(self, response: Response) -> list[str]:
        """What is wrong with ``response`` against the document (nothing: an empty list)."""
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in JSON_TYPES or not response.content:
            return []
        request = response.request
        method, path, status = request.method, request.url.path, response.status_code
        route = self.route_of(path)
        if route is None and media_type == "application/json":
            return []  # not an operation of the document (e.g. /openapi.json itself)
        where = f"{method} {route.template if route else path} -> {status} {media_type}"
        operation = route.operations.get(method.lower()) if route is not None else None
        if route is not None and operation is None and media_type == "application/json":
            return [f"{where}: the document has no such operation"]
        validator = self.validator(method, route, status, media_type)
        if validator is None:
            if 200 <= status < 300:
                return [f"{where}: the document declares no schema for this JSON body"]
            return []
        errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
        waived = KNOWN_DRIFT.get((method, route.template if route else "", status))
        if waived is not None:
            errors = [e for e in errors if not e.path or e.path[0] != waived[0]]
        return [
            f"{where}: at {'/'.join(map(str, error.path)) or '(body)'}: {error.message[:300]}"
            for error in errors[:5]
        ]


class ContractHook:
    """The response hook of the test clients: checks each body as it arrives."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    async def __call__(self, response: Response) -> None:
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in JSON_TYPES:
            return  # a file or a stream: leave it unread for the test
        await response.aread()
        problems = self.contract.problems(response)
        if problems:
            raise AssertionError(
                "response does not match openapi/openapi.json:\n  " + "\n  ".join(problems)
            )
