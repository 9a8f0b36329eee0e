"""The served OpenAPI document as a product: names, headers, problems and examples.

Walks the document the app serves, so a new operation without a summary, a description, an
example body, an Idempotency-Key parameter or its problem responses fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator

from app.config import Settings
from app.core import openapi as contract
from app.main import create_app

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
WRITES = {"post", "put", "patch", "delete"}
Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(database_url="sqlite+aiosqlite://")).openapi()


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def header_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_operation_ids_are_unique_snake_case_and_named_after_the_path(
    document: dict[str, Any],
) -> None:
    ids = [op.get("operationId", "") for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for path, method, operation in operations(document):
        op_id = operation.get("operationId", "")
        assert SNAKE.match(op_id), f"{method.upper()} {path}: {op_id!r}"
        first = path.removeprefix("/api/v1").strip("/").split("/")[0].replace("-", "_")
        assert op_id.startswith(first), f"{method.upper()} {path}: {op_id!r}"


def test_operation_ids_are_stable(document: dict[str, Any], app: FastAPI) -> None:
    by_route = {(method, path): op["operationId"] for path, method, op in operations(document)}
    # The ones integrators already code against; changing one breaks their generated clients.
    assert by_route[("get", "/api/v1/units")] == "units_list"
    assert by_route[("get", "/api/v1/units/{unit_id}")] == "units_get"
    assert by_route[("patch", "/api/v1/units/{unit_id}")] == "units_update"
    assert by_route[("post", "/api/v1/units")] == "units_create"
    assert by_route[("put", "/api/v1/assessments/{assessment_id}/values")] == (
        "assessments_values_put"
    )
    assert by_route[("post", "/api/v1/auth/token")] == "auth_token"
    assert by_route[("post", "/api/v1/criteria-sets/{criteria_set_id}/publish")] == (
        "criteria_sets_publish"
    )
    assert by_route[("post", "/api/v1/indicator-values/import")] == "indicator_values_import"
    # The same app built again names everything the same way.
    again = {(m, p): op["operationId"] for p, m, op in operations(app.openapi())}
    assert again == by_route


def test_every_operation_has_a_summary_a_description_and_an_id(document: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}: {key}"
        for path, method, operation in operations(document)
        for key in ("summary", "description", "operationId")
        if not str(operation.get(key, "")).strip()
    ]
    assert missing == []


def test_every_request_body_has_an_example_that_its_schema_accepts(
    document: dict[str, Any],
) -> None:
    components = {"components": document["components"]}
    checked = 0
    for path, method, operation in operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        with_example = [m for m in content.values() if "example" in m or m.get("examples")]
        assert not content or with_example, f"{method.upper()} {path}: no example"
        for media_type, media in content.items():
            where = f"{method.upper()} {path} {media_type}"
            if media.get("schema", {}).get("format") != "binary":
                assert "example" in media or media.get("examples"), f"{where}: no example"
            example = media.get("example")
            if media_type in ("application/json", "application/x-www-form-urlencoded"):
                validator = Draft202012Validator({**media["schema"], **components})
                errors = [e.message for e in validator.iter_errors(example)]
                assert errors == [], f"{where}: the example does not validate: {errors}"
                checked += 1
    assert checked > 20


def test_headers_that_are_honoured_are_declared(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        names = header_names(operation)
        if method == "post":
            assert "Idempotency-Key" in names, where
        if method in WRITES:
            assert "Audit-Note" in names, where
        op_id = operation["operationId"]
        if op_id in contract.IF_MATCH:
            assert "If-Match" in names, where
            assert "412" in operation["responses"], where
        if op_id in contract.IF_NONE_MATCH:
            assert "If-None-Match" in names, where
            assert "304" in operation["responses"], where
            assert "ETag" in operation["responses"]["200"]["headers"], where
        if "201" in operation["responses"]:
            assert "Location" in operation["responses"]["201"].get("headers", {}), where
        if op_id in contract.LINKED:
            assert "Link" in operation["responses"]["200"].get("headers", {}), where
        for status in ("429", "503"):
            if status in operation["responses"]:
                assert "Retry-After" in operation["responses"][status].get("headers", {}), where
        # Headers are spelled as in RFC 9110, not as FastAPI derives them from parameter names.
        assert all(n[0].isupper() for n in names), f"{where}: {sorted(names)}"


def test_the_header_tables_name_operations_that_exist(document: dict[str, Any]) -> None:
    ids = {op["operationId"] for _, _, op in operations(document)}
    for table in (contract.IF_MATCH, contract.IF_NONE_MATCH, contract.ETAG_WRITES, contract.LINKED):
        assert table <= ids, sorted(table - ids)


# Writes that answer 200/201 without an ETag, and why: none of them leaves one resource that a
# client reads back and edits with If-Match.
WRITES_WITHOUT_ETAG = {
    # OAuth2 token endpoints (RFC 6749, RFC 7009): the answer is a credential, not a resource.
    "auth_token": "issues an access token",
    "auth_revoke": "revokes a token; RFC 7009 answers 200 with no body",
    # Imports and bulk writes: a summary of many resources (or a job), each with its own ETag.
    "units_import": "creates or changes many villages; answers a summary",
    "unit_classifications_bulk_create": "changes many units; answers a summary",
    "indicator_values_import": "writes many assessments' values, or queues a job (202)",
    "recognitions_import": "records or changes many decisions; answers a summary",
}


def test_every_write_that_answers_a_resource_declares_its_etag(
    document: dict[str, Any],
) -> None:
    missing = []
    for path, method, operation in operations(document):
        if method not in WRITES:
            continue
        op_id = operation["operationId"]
        for status in ("200", "201"):
            response = operation["responses"].get(status)
            if response is None or op_id in WRITES_WITHOUT_ETAG:
                continue
            if "ETag" not in response.get("headers", {}):
                missing.append(f"{method.upper()} {path} ({op_id}) {status}")
    assert missing == []
    # The exclusions are writes that exist and answer 200/201, so the list cannot go stale.
    ids = {
        op["operationId"]: op
        for _, method, op in operations(document)
        if method in WRITES and {"200", "201"} & set(op["responses"])
    }
    assert set(WRITES_WITHOUT_ETAG) <= set(ids), sorted(set(WRITES_WITHOUT_ETAG) - set(ids))


def test_every_component_has_a_description(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    missing = sorted(n for n, s in schemas.items() if not str(s.get("description", "")).strip())
    assert missing == [], f"{len(missing)} components without a description: {missing}"


def test_every_operation_declares_its_problem_responses_and_codes(
    document: dict[str, Any],
) -> None:
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert "422" in responses, where
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
        for status, response in responses.items():
            if int(status) >= 400 and "application/problem+json" in response.get("content", {}):
                codes = response.get("x-problem-codes")
                assert codes, f"{where} {status}: no x-problem-codes"
                assert all(SNAKE.match(code) for code in codes), f"{where} {status}: {codes}"
                assert f"`{codes[0]}`" in response["description"], where


def test_an_operation_lists_the_codes_its_feature_raises(document: dict[str, Any]) -> None:
    put_values = document["paths"]["/api/v1/assessments/{assessment_id}/values"]["put"]
    assert "assessment_not_found" in put_values["responses"]["404"]["x-problem-codes"]
    assert "assessment_locked" in put_values["responses"]["409"]["x-problem-codes"]
    assert "precondition_failed" in put_values["responses"]["412"]["x-problem-codes"]
    get_unit = document["paths"]["/api/v1/units/{unit_id}"]["get"]
    assert "unit_not_found" in get_unit["responses"]["404"]["x-problem-codes"]
    create = document["paths"]["/api/v1/units"]["post"]
    assert "idempotency_key_in_progress" in create["responses"]["409"]["x-problem-codes"]
    assert "idempotency_key_reused" in create["responses"]["422"]["x-problem-codes"]


def test_component_names_are_unique_and_meaningful(document: dict[str, Any]) -> None:
    names = list(document["components"]["schemas"])
    generated = [n for n in names if "__" in n or n.startswith(("Page_", "Body_"))]
    assert generated == []
    for name, schema in document["components"]["schemas"].items():
        assert schema.get("title", name) == name, f"{name} is titled {schema.get('title')!r}"
    # The three former UnitRefs are three components with their own names.
    assert {"UnitRef", "ThresholdUnitRef", "AssessedUnitRef"} <= set(names)
    assert {"UnitHistory", "ValueHistory", "LegalBasis", "CriteriaLegalBasis"} <= set(names)


def _inline_enums(node: Any, where: str) -> Iterator[str]:
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list) and len(values) > 1:
            yield where
        for key, value in node.items():
            yield from _inline_enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _inline_enums(value, f"{where}/{index}")


def test_every_enum_is_a_named_component(document: dict[str, Any]) -> None:
    inline = list(_inline_enums(document["paths"], "#/paths"))
    for name, schema in document["components"]["schemas"].items():
        body = {k: v for k, v in schema.items() if k != "enum"}
        inline += _inline_enums(body, f"#/components/schemas/{name}")
    assert inline == []
    # Where the values are a domain vocabulary, the component has the StrEnum's name.
    level = document["paths"]["/api/v1/units"]["get"]["parameters"]
    level_schema = next(p["schema"] for p in level if p["name"] == "level")
    assert "#/components/schemas/UnitLevel" in str(level_schema)
