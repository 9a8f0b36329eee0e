"""The contract hook itself: it finds the operation, resolves references and reports drift."""

from __future__ import annotations

from typing import Any

from httpx import Request, Response

from tests.contract import KNOWN_DRIFT, Contract

DOCUMENT: dict[str, Any] = {
    "paths": {
        "/things/{thing_id}": {
            "get": {
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        }
                    },
                    "201": {"description": "declared without a body schema"},
                }
            }
        },
        "/things/special": {
            "get": {
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"type": "array"}}}}
                }
            }
        },
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "tag": {"$ref": "#/components/schemas/Tag"},
                },
                "required": ["id"],
            },
            "Tag": {"type": "string", "enum": ["a", "b"]},
            "Problem": {
                "type": "object",
                "properties": {"code": {"type": "string"}},
                "required": ["code"],
            },
        }
    },
}


def _response(path: str, status: int, body: Any, media_type: str = "application/json") -> Response:
    return Response(
        status,
        json=body,
        headers={"content-type": media_type},
        request=Request("GET", f"http://t{path}"),
    )


def test_a_body_that_matches_its_schema_passes_and_one_that_drifts_is_named() -> None:
    contract = Contract(DOCUMENT)
    assert contract.problems(_response("/things/1", 200, {"id": 1, "tag": "a"})) == []
    problems = contract.problems(_response("/things/1", 200, {"id": "1", "tag": "c"}))
    assert len(problems) == 2
    assert problems[0].startswith("GET /things/{thing_id} -> 200 application/json: at id:")
    assert "tag" in problems[1]


def test_a_literal_path_wins_over_a_template() -> None:
    contract = Contract(DOCUMENT)
    assert contract.problems(_response("/things/special", 200, [1, 2])) == []
    assert contract.problems(_response("/things/special", 200, {"id": 1})) != []


def test_problems_are_problems_even_where_undeclared_and_2xx_needs_a_schema() -> None:
    contract = Contract(DOCUMENT)
    problem = "application/problem+json"
    assert contract.problems(_response("/things/1", 404, {"code": "x"}, problem)) == []
    assert contract.problems(_response("/nowhere", 404, {"title": "no code"}, problem)) != []
    undeclared = contract.problems(_response("/things/1", 201, {"id": 1}))
    assert undeclared == [
        "GET /things/{thing_id} -> 201 application/json: the document declares no schema for "
        "this JSON body"
    ]
    assert contract.problems(_response("/things/1", 200, "a,b", "text/csv")) == []


def test_validators_are_compiled_once_per_operation_status_and_media_type() -> None:
    contract = Contract(DOCUMENT)
    for _ in range(3):
        contract.problems(_response("/things/1", 200, {"id": 1}))
    assert list(contract.validators) == [("GET", "/things/{thing_id}", "200", "application/json")]


def test_no_waiver_is_left_and_the_import_rejection_is_checked_whole() -> None:
    """The one waiver (the 422 ``import_rejected`` body's ``errors``) is gone: that body now
    declares its own schema, whose ``errors`` are FieldErrors and ``rejections`` the groups."""
    assert KNOWN_DRIFT == {}
    contract = Contract.load()
    problem = "application/problem+json"
    path = "/api/v1/indicator-values/import"
    groups = [{"code": "empty_file", "count": 1, "rows": []}]
    summary = {
        "import_id": "00000000-0000-0000-0000-000000000001",
        "format": "csv",
        "layout": None,
        "dry_run": False,
        "mode": "upsert",
        "partial": False,
        "written": False,
        "rows": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "rejected": 1,
        "assessments_created": 0,
        "assessments_touched": 0,
        "rejections": groups,
    }
    base = {"type": "about:blank", "title": "t", "status": 422, "detail": "d"}
    fields = [{"loc": ["body", 2, "unit_code"], "msg": "m", "type": "empty_file"}]
    good = _response(
        path, 422, {**base, "code": "import_rejected", **summary, "errors": fields}, problem
    )
    good.request.method = "POST"
    assert contract.problems(good) == []
    old_shape = _response(
        path, 422, {**base, "code": "import_rejected", **summary, "errors": groups}, problem
    )
    old_shape.request.method = "POST"
    assert contract.problems(old_shape) != []
