"""The published contract: stable operation ids, unique component names, declared headers.

FastAPI builds the document from the routes; this module refines it centrally, so that clients
generated from ``openapi/openapi.json`` (openapi-python-client, openapi-typescript) come out
complete and warning-free without every route repeating the same boilerplate:

* ``operation_id``: ``<resource>_<verb>`` from the route's path and method (``units_list``,
  ``units_get``, ``assessments_values_put``); stable because paths are the contract.
* component names: no module-qualified duplicates (``app__units__schemas__UnitRef``), no
  ``Page_UserOut_``; inline enums become named components (the domain's ``StrEnum`` name when the
  values match one).
* the request headers each operation honours and the response headers it sets.
* problem responses with the ``Problem.code``s an operation's feature raises.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from app.models import enums as domain_enums

API_PREFIX = "/api/v1"

# ---------------------------------------------------------------------------------------------
# Operation ids

_CREATE_WORDS = ("create", "add", "grant", "assign", "record")
_WRITE_VERBS = {"PATCH": "update", "PUT": "put", "DELETE": "delete"}


def operation_id(route: APIRoute) -> str:
    """``<resource>_<verb>``: the path's literal segments, then what the method does to them."""
    path = route.path_format.removeprefix(API_PREFIX)
    segments = [s for s in path.strip("/").split("/") if s]
    literal = [s.replace("-", "_") for s in segments if not s.startswith("{")]
    base = "_".join(literal)
    method = sorted(route.methods or {"GET"})[0]
    first_word = route.name.split("_", 1)[0]
    if method == "GET":
        # The collection endpoints are the ones named ``list_*``; everything else reads one thing.
        verb = "list" if first_word == "list" else "get"
    elif method == "POST":
        if first_word in _CREATE_WORDS:
            verb = "create"
        elif literal and first_word == literal[-1]:
            return base  # an action named by its last segment: criteria_sets_publish
        else:
            verb = first_word  # me_password_change, clients_secret_rotate
    else:
        verb = _WRITE_VERBS.get(method, method.lower())
    return f"{base}_{verb}" if base else verb


# ---------------------------------------------------------------------------------------------
# Component names

# Same class name in two features: FastAPI falls back to the module path. Name them by meaning.
_COMPONENT_NAMES = {
    "app__units__schemas__UnitRef": "UnitRef",
    "app__criteria__schemas__UnitRef": "ThresholdUnitRef",
    "app__assessments__schemas__UnitRef": "AssessedUnitRef",
    "app__units__schemas__History": "UnitHistory",
    "app__assessments__schemas__History": "ValueHistory",
    "app__units__schemas__LegalBasis": "LegalBasis",
    "app__criteria__document__LegalBasis": "CriteriaLegalBasis",
}
_PAGE_DESCRIPTION = (
    "One page of a list, in a stable order. Ask for the next page with `cursor=<next_cursor>` "
    '(the same filters), or follow the `Link: <…>; rel="next"` header; the last page has '
    "`next_cursor` null."
)
_FORM_DESCRIPTIONS = {
    "AuthTokenForm": "The form of `POST /auth/token` (`application/x-www-form-urlencoded`): "
    "the OAuth2 password grant (RFC 6749 §4.3) or client-credentials grant (§4.4).",
    "AuthRevokeForm": "The form of `POST /auth/revoke` (`application/x-www-form-urlencoded`, "
    "RFC 7009 §2.1).",
}
_QUALIFIED = re.compile(r"^app__(?P<feature>[a-z_]+?)__(?:[a-z_]+__)*(?P<name>[A-Za-z0-9]+)$")
_PAGE = re.compile(r"^Page_(?P<item>[A-Za-z0-9]+)_$")


def _component_name(name: str) -> str:
    if name in _COMPONENT_NAMES:
        return _COMPONENT_NAMES[name]
    if match := _QUALIFIED.match(name):
        return _pascal(match["feature"]) + match["name"]
    if name.startswith("Body_"):
        return _pascal(name.removeprefix("Body_")) + "Form"
    if match := _PAGE.match(name):
        return match["item"].removesuffix("Out") + "Page"
    return name


def _pascal(words: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", words) if part)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _rename_components(schema: dict[str, Any]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    renames = {old: _component_name(old) for old in components if _component_name(old) != old}
    clash = set(renames.values()) & (set(components) - set(renames))
    if clash or len(set(renames.values())) != len(renames):
        raise RuntimeError(f"OpenAPI component names would collide: {sorted(clash)}")
    schema["components"]["schemas"] = {renames.get(k, k): v for k, v in components.items()}
    for old, new in renames.items():
        # Generators name classes by ``title`` when there is one: it must be the new name too.
        component = schema["components"]["schemas"][new]
        component["title"] = new
        # FastAPI's own models (a route's form, a page of a generic list) have no docstring.
        if not component.get("description"):
            if _PAGE.match(old):
                component["description"] = _PAGE_DESCRIPTION
            elif new in _FORM_DESCRIPTIONS:
                component["description"] = _FORM_DESCRIPTIONS[new]
    prefix = "#/components/schemas/"
    for node in _walk(schema):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] in renames:
            node["$ref"] = prefix + renames[ref[len(prefix) :]]
        title = node.get("title")
        if isinstance(title, str) and title in renames:
            node["title"] = renames[title]


# Inline vocabularies named after where they appear, where that name would not say what they are.
_ENUM_NAMES = {
    "ApplicabilityRuleIfClassification": "ApplicabilityClassification",
    "ResolvedIndicatorMissingCode": "ThresholdMissingReason",
    "ScopeOutKind": "CriteriaScopeKind",
}


@cache
def _domain_enums() -> dict[frozenset[str], tuple[str, str]]:
    found: dict[frozenset[str], tuple[str, str]] = {}
    for name, value in vars(domain_enums).items():
        if isinstance(value, type) and issubclass(value, enum.Enum) and value is not enum.Enum:
            members = frozenset(str(m.value) for m in value)
            doc = (value.__doc__ or "").strip()
            found.setdefault(members, (name, doc))
    return found


def _hoist_enums(schema: dict[str, Any]) -> None:
    """Every inline ``enum`` of strings becomes a named component (generated clients name it)."""
    components: dict[str, Any] = schema["components"]["schemas"]
    by_values: dict[frozenset[str], str] = {}
    for name, component in components.items():
        if isinstance(component.get("enum"), list):
            by_values.setdefault(frozenset(map(str, component["enum"])), name)

    def name_for(values: frozenset[str], context: str, node: dict[str, Any]) -> str:
        if values in by_values:
            return by_values[values]
        known = _domain_enums().get(values)
        name = known[0] if known and known[0] not in components else _pascal(context)
        name = _ENUM_NAMES.get(name, name)
        candidate, n = name, 2
        while candidate in components:
            candidate, n = f"{name}{n}", n + 1
        component = {
            "type": "string",
            "enum": node["enum"],
            "title": candidate,
            "description": (known[1] if known and known[1] else node.get("description"))
            or f"One of: {', '.join(map(str, node['enum']))}.",
        }
        components[candidate] = component
        by_values[values] = candidate
        return candidate

    def replace(node: Any, context: str) -> Any:
        if not isinstance(node, dict):
            return node
        values = node.get("enum")
        if isinstance(values, list) and len(values) > 1 and all(isinstance(v, str) for v in values):
            name = name_for(frozenset(values), context, node)
            extra = {k: v for k, v in node.items() if k in ("description", "default", "examples")}
            return {"$ref": f"#/components/schemas/{name}", **extra}
        for key in ("anyOf", "oneOf", "allOf"):
            if isinstance(node.get(key), list):
                node[key] = [replace(item, context) for item in node[key]]
        if isinstance(node.get("items"), dict):
            node["items"] = replace(node["items"], context)
        for prop, sub in (node.get("properties") or {}).items():
            node["properties"][prop] = replace(sub, f"{context}_{prop}")
        return node

    for name in list(components):
        if "enum" not in components[name]:
            components[name] = replace(components[name], name)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    context = f"{operation.get('operationId', '')}_{parameter['name']}"
                    parameter["schema"] = replace(parameter["schema"], context)


# ---------------------------------------------------------------------------------------------
# Headers: what each operation honours and sets. Keyed by operation id; a test checks the keys
# exist, and tests of each feature check the behaviour behind them.

# Writes that compare If-Match with the resource's current strong ETag (412 when stale).
IF_MATCH = frozenset(
    {
        "users_update",
        "users_deactivate",
        "clients_update",
        "units_update",
        "units_classifications_create",
        "criteria_sets_update",
        "criteria_sets_publish",
        "criteria_sets_retire",
        "criteria_sets_indicators_create",
        "criteria_sets_indicators_thresholds_put",
        "assessments_update",
        "assessments_values_put",
        "assessments_judgements_put",
        "assessments_conditions_put",
        "dossiers_transitions_create",
        "recognitions_revocation_revoke",
        "plans_update",
        "plans_adjustments_adjust",
        "plans_targets_update",
        "plans_roadmap_update",
        "plans_tasks_update",
        "webhooks_update",
    }
)
# Reads that answer 304 to a matching If-None-Match.
IF_NONE_MATCH = frozenset(
    {
        "users_get",
        "users_roles_get",
        "clients_get",
        "clients_roles_get",
        "me_tokens_get",
        "units_get",
        "units_classifications_get",
        "unit_events_get",
        "criteria_sets_get",
        "criteria_sets_thresholds_get",
        "criteria_sets_export_get",
        "assessments_get",
        "assessments_evaluation_get",
        "assessments_gaps_get",
        "dossiers_get",
        "dossier_procedures_list",
        "recognitions_get",
        "plans_get",
        "sync_bundle_get",
    }
)
# Writes whose success carries the resource's new ETag (besides every If-Match write). Every
# write answering 200/201 is here or in IF_MATCH, except the few that change no one resource
# (tests/system/test_openapi_contract.py lists them with the reason).
ETAG_WRITES = frozenset(
    {
        "users_create",
        "users_roles_create",
        "clients_create",
        "clients_secret_rotate",
        "clients_roles_create",
        "me_tokens_create",
        "units_create",
        "unit_events_create",
        "criteria_sets_create",
        "criteria_sets_import",
        "criteria_sets_derive",
        "assessments_create",
        "dossiers_create",
        "dossiers_documents_create",
        "recognitions_create",
        "recognitions_carry_over_confirm",
        "plans_create",
        "plans_targets_create",
        "plans_roadmap_create",
        "plans_tasks_create",
        "plans_documents_attach",
        "webhooks_create",
    }
)
# Paginated lists: the next page is also in a ``Link: <…>; rel="next"`` header.
LINKED = frozenset(
    {
        "me_tokens_list",
        "users_list",
        "users_roles_list",
        "clients_list",
        "clients_roles_list",
        "units_list",
        "units_children_get",
        "criteria_sets_list",
        "assessments_list",
        "dossiers_list",
        "audit_list",
    }
)
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

_STRING = {"type": "string"}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key and body within 24 h replay the first "
    "answer; the same key with another body is 422 `idempotency_key_reused`; while the first "
    "request is still running, 409 `idempotency_key_in_progress`. Scoped to the caller.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": "5f0c2b1e-7a43-4c1e-9a55-2d6f1c9b8e10",
}
_AUDIT_NOTE = {
    "name": "Audit-Note",
    "in": "header",
    "required": False,
    "description": "Why the change is made; kept (URL-decoded, cut to its first 2000 characters) "
    "with the audit record of this write.",
    "schema": {"type": "string"},
    "example": "Figures from the commune report of Q3",
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag you read; 412 `precondition_failed` when it is no longer current "
    "(strong comparison).",
    "schema": _STRING,
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags you hold; 304 without a body when the current one is among them.",
    "schema": _STRING,
}
_RESPONSE_HEADERS = {
    "ETag": "The strong entity tag of the resource as answered (for If-None-Match, If-Match).",
    "Location": "The URL of the created resource.",
    "Link": 'The next page: `<url>; rel="next"` (absent on the last page).',
    "Retry-After": "Seconds to wait before trying again.",
}


def _header(name: str) -> dict[str, Any]:
    return {"description": _RESPONSE_HEADERS[name], "schema": _STRING}


def _add_parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    names = {(p.get("in"), str(p.get("name", "")).lower()) for p in parameters}
    if ("header", parameter["name"].lower()) not in names:
        parameters.append(dict(parameter))


def _add_response_header(response: dict[str, Any], name: str) -> None:
    response.setdefault("headers", {}).setdefault(name, _header(name))


def _success(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r for status, r in operation.get("responses", {}).items() if str(status) in ("200", "201")
    ]


def _declare_headers(method: str, operation: dict[str, Any]) -> None:
    op_id = operation["operationId"]
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header":
            # FastAPI spells ``if_match`` as ``if-match``; clients show the name as written.
            parameter["name"] = "-".join(p.capitalize() for p in parameter["name"].split("-"))
    responses = operation.setdefault("responses", {})
    if method == "post":
        _add_parameter(operation, _IDEMPOTENCY_KEY)
    if method in WRITE_METHODS:
        _add_parameter(operation, _AUDIT_NOTE)
    if op_id in IF_MATCH:
        _add_parameter(operation, _IF_MATCH)
    if op_id in IF_NONE_MATCH:
        _add_parameter(operation, _IF_NONE_MATCH)
        responses.setdefault("304", {"description": "Not modified (If-None-Match)."})
        _add_response_header(responses["304"], "ETag")
    if op_id in IF_NONE_MATCH or op_id in IF_MATCH or op_id in ETAG_WRITES:
        for response in _success(operation):
            _add_response_header(response, "ETag")
    if "201" in responses:
        _add_response_header(responses["201"], "Location")
    if op_id in LINKED:
        for response in _success(operation):
            _add_response_header(response, "Link")
    for status in ("429", "503"):
        if status in responses:
            _add_response_header(responses[status], "Retry-After")


# ---------------------------------------------------------------------------------------------
# Problem responses and their codes

_ERROR_CLASSES = {
    "BadRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "Conflict": 409,
    "PreconditionFailed": 412,
    "Unprocessable": 422,
    "ServiceUnavailable": 503,
}
_DEFAULT_CODES = {
    400: "bad_request",
    404: "not_found",
    409: "conflict",
    429: "too_many_requests",
}
_RAISE = re.compile(r"\b(" + "|".join([*_ERROR_CLASSES, "ProblemError"]) + r")\(")
_STATUS = re.compile(r"\bstatus=(\d{3})\b")
_CODE = re.compile(r"""\bcode=["']([a-z0-9_]+)["']""")
_APP = Path(__file__).resolve().parent.parent
_TAG_FEATURE = {
    "identity": "identity",
    "units": "units",
    "criteria": "criteria",
    "assessments": "assessments",
    "indicator values": "assessments",
    "audit": "audit",
    "dossiers": "dossiers",
    "integration": "integration",
    "system": "system",
    "recognitions": "recognitions",
}
# Codes raised for a feature by a shared helper rather than in its own source: the one status
# rule of imports (app/core/importing.py) answers 422 import_rejected for both imports.
_SHARED_CODES: dict[str, dict[int, tuple[str, ...]]] = {
    "assessments": {422: ("import_rejected",)},
    "recognitions": {422: ("import_rejected",)},
}
# Codes any operation may answer, raised by the shared layers.
_COMMON_CODES = {
    401: ["not_authenticated", "invalid_token"],
    403: ["forbidden"],
    412: ["precondition_failed"],
    413: ["payload_too_large"],
    415: ["unsupported_media_type"],
    428: ["precondition_required"],
    422: ["validation_error", "unknown_query_parameter"],
    503: ["database_unavailable", "service_unavailable"],
}


@cache
def _feature_codes(feature: str) -> dict[int, tuple[str, ...]]:
    """The ``code=`` of each typed error raised in a feature's source, by status.

    A code belongs to the nearest error class written before it (within a few lines)."""
    found: dict[int, set[str]] = {}
    folder = _APP / feature
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else []
    for file in files:
        text = file.read_text(encoding="utf-8")
        for match in _CODE.finditer(text):
            window = text[max(0, match.start() - 600) : match.start()]
            raises = list(_RAISE.finditer(window))
            if not raises:
                continue
            kind = raises[-1].group(1)
            if kind == "ProblemError":
                status_match = _STATUS.search(text, match.end(), match.end() + 300)
                if status_match is None:
                    continue
                status = int(status_match.group(1))
            else:
                status = _ERROR_CLASSES[kind]
            found.setdefault(status, set()).add(match.group(1))
    for status, shared in _SHARED_CODES.get(feature, {}).items():
        found.setdefault(status, set()).update(shared)
    return {status: tuple(sorted(codes)) for status, codes in found.items()}


def _declare_problems(path: str, method: str, operation: dict[str, Any]) -> None:
    from app.core.errors import PROBLEM_SCHEMA

    responses = operation.setdefault("responses", {})
    wanted: set[int] = {422}
    if operation.get("security"):
        wanted |= {401, 403}
    if "{" in path:
        wanted.add(404)
    if operation["operationId"] in IF_MATCH:
        wanted.add(412)
    if method == "post":
        wanted |= {400, 409}  # a malformed Idempotency-Key; one still in progress
    for status in sorted(wanted):
        responses.setdefault(
            str(status), {"description": HTTPStatus(status).phrase, **PROBLEM_SCHEMA}
        )
    tags = operation.get("tags") or []
    feature = _TAG_FEATURE.get(tags[0], "") if tags else ""
    codes = _feature_codes(feature) if feature else {}
    for status, response in responses.items():
        if not str(status).isdigit() or int(status) < 400:
            continue
        number = int(status)
        listed = sorted(set(codes.get(number, ())) | set(_COMMON_CODES.get(number, ())))
        if method == "post" and number == 409:
            listed = sorted({*listed, "idempotency_key_in_progress"})
            _add_response_header(response, "Retry-After")
        if method == "post" and number == 400:
            listed = sorted({*listed, "invalid_idempotency_key"})
        if operation["operationId"] in LINKED and number == 422:
            listed = sorted({*listed, "invalid_cursor"})
        if method == "post" and number == 422:
            listed = sorted({*listed, "idempotency_key_reused"})
        if not listed:
            # No specific code raised for it: the typed error's default code.
            listed = [
                _DEFAULT_CODES.get(number, HTTPStatus(number).phrase.lower().replace(" ", "_"))
            ]
        if listed:
            response["x-problem-codes"] = listed
            if "`code`" not in response.get("description", ""):
                response["description"] = (
                    f"{response.get('description', HTTPStatus(number).phrase)}. "
                    f"`code` is one of: {', '.join(f'`{c}`' for c in listed)}."
                ).replace("..", ".")


# ---------------------------------------------------------------------------------------------
# Descriptions and examples


def _describe(path: str, method: str, operation: dict[str, Any]) -> None:
    """An operation without a description gets one from its summary and what it requires."""
    if operation.get("description"):
        return
    parts = [operation.get("summary", "").rstrip(".") + "."]
    if operation.get("x-public"):
        parts.append("Public: no token needed.")
    elif operation.get("security"):
        parts.append("Requires a bearer token with the right over the resource's scope.")
    if operation["operationId"] in LINKED:
        parts.append("Cursor-paginated: follow `next_cursor` (or the `Link` header).")
    if method in WRITE_METHODS:
        parts.append("Audited; an `Audit-Note` header is kept with the record.")
    operation["description"] = " ".join(p for p in parts if p.strip("."))


def _example(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """A minimal valid value of a schema: required properties only, first choices."""
    if not isinstance(node, dict) or depth > 12:
        return None
    if "$ref" in node:
        return _example(components[node["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    for key in ("examples",):
        if isinstance(node.get(key), list) and node[key]:
            return node[key][0]
    if "example" in node:
        return node["example"]
    if "default" in node and node["default"] is not None:
        return node["default"]
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list):
        return node["enum"][0]
    for key in ("oneOf", "anyOf", "allOf"):
        if isinstance(node.get(key), list):
            choices = [c for c in node[key] if c.get("type") != "null"]
            if key == "allOf":
                merged: dict[str, Any] = {}
                for choice in choices:
                    value = _example(choice, components, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
            if choices:
                return _example(choices[0], components, depth + 1)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        properties = node.get("properties", {})
        return {
            name: _example(properties[name], components, depth + 1)
            for name in node.get("required", [])
            if name in properties
        }
    if kind == "array":
        item = _example(node.get("items", {}), components, depth + 1)
        return [item] * max(int(node.get("minItems", 1)), 1)
    if kind == "integer":
        return max(int(node.get("minimum", 1)), 1) if "maximum" not in node else node["maximum"]
    if kind == "number":
        return node.get("minimum", 1.0)
    if kind == "boolean":
        return True
    if kind == "string":
        return _STRING_EXAMPLES.get(node.get("format", ""), "x" * max(node.get("minLength", 1), 1))
    return None


_STRING_EXAMPLES = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date": "2025-07-01",
    "date-time": "2025-07-01T08:00:00Z",
    "email": "can.bo@example.vn",
    "binary": "",
    "password": "mat-khau-dai-du-12",
}


def _add_examples(operation: dict[str, Any], components: dict[str, Any]) -> None:
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        schema = media.get("schema", {})
        if media_type == "text/csv" and schema.get("type") == "string":
            # A file's bytes, whatever its encoding: generated clients send it as a file.
            schema.setdefault("format", "binary")
        if schema.get("format") == "binary":
            continue  # raw file bytes: an example would be an empty file
        if "example" in media or "examples" in media:
            continue
        media["example"] = _example(schema, components)


# ---------------------------------------------------------------------------------------------
# Entry point


def refine(schema: dict[str, Any]) -> dict[str, Any]:
    """Apply the contract's naming and documentation rules to FastAPI's document, in place."""
    _rename_components(schema)
    _hoist_enums(schema)
    components = schema["components"]["schemas"]
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            _declare_headers(method, operation)
            _declare_problems(path, method, operation)
            _describe(path, method, operation)
            _add_examples(operation, components)
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return schema
