"""Every problem ``code`` the application can answer with, collected from its source.

Read by the catalogue test (``test_messages.py``): a code raised anywhere in ``app/`` without a
Vietnamese and an English message fails the suite, so translations cannot silently fall behind.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import app

APP_DIR = Path(app.__file__).parent
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

# Helpers that take a code as a positional argument: name → the positions that may hold it.
CODE_ARGUMENTS: dict[str, tuple[int, ...]] = {
    "invalid": (0, 1),  # app.units.errors.invalid(code, …), app.assessments…invalid(loc, code, …)
    "_invalid": (2,),
    "conflict": (0,),
    "oauth_error": (0,),
    "field_error": (2,),  # an error's type becomes the problem's code (Violations, raise_if)
    "_duplicates": (1,),
    "problem_body": (1,),
    "problem_response": (1,),
    "_send_problem": (3,),
}
# ``x.add(code, loc, msg)`` collectors whose first item's code becomes the problem's code.
VIOLATION_COLLECTORS = frozenset({"violations", "out"})
# Codes held in module constants that reach the problem handler (the import router re-raises
# these FileProblem codes of app.assessments.imports.parsing as 422 problems).
CONSTANT_CODES = frozenset({"import_too_large", "xlsx_too_large"})
# Codes the handlers of app/core/errors.py and the ASGI guards produce, and the class defaults.
HANDLER_CODES = frozenset(
    {
        "validation_error",
        "not_found",
        "method_not_allowed",
        "not_acceptable",
        "payload_too_large",
        "unsupported_media_type",
        "database_unavailable",
        "internal_error",
        "unknown_query_parameter",
        "bad_request",
        "not_authenticated",
        "forbidden",
        "conflict",
        "precondition_failed",
        "service_unavailable",
    }
)


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _receiver(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return _name(func.value)
    return None


def _constants(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _suffix(node: ast.JoinedStr) -> str | None:
    """``f"{entity}_not_found"`` → ``_not_found``."""
    parts = node.values
    if len(parts) == 2 and isinstance(parts[0], ast.FormattedValue):
        tail = parts[1]
        if isinstance(tail, ast.Constant) and isinstance(tail.value, str):
            return tail.value
    return None


def collect() -> tuple[set[str], set[str], set[str]]:
    """(literal codes, entity names, entities with a lifecycle: ``ENTITY`` of a module)."""
    codes: set[str] = set()
    entities: set[str] = set()
    lifecycles: set[str] = set()
    for path in APP_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                # ``code = "a" if … else "b"`` and ``ENTITY = "criteria_set"``
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in ("code", "ENTITY"):
                        found = set(_constants(node.value))
                        (codes if target.id == "code" else lifecycles).update(found)
            if isinstance(node, ast.Dict):
                # ``{"loc": …, "msg": …, "type": code}``: a field error spelled out
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                if {"loc", "msg", "type"} <= set(keys):
                    value = node.values[keys.index("type")]
                    codes.update(c for c in _constants(value) if CODE.match(c))
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            for keyword in node.keywords:
                if keyword.arg == "code":
                    codes.update(_constants(keyword.value))
                elif keyword.arg == "entity":
                    entities.update(_constants(keyword.value))
            positions = CODE_ARGUMENTS.get(name or "", ())
            if name == "add" and _receiver(node.func) in VIOLATION_COLLECTORS:
                positions = (0,)
            if name == "not_found" and node.args:
                entities.update(_constants(node.args[0]))
            for position in positions:
                if position < len(node.args):
                    codes.update(c for c in _constants(node.args[position]) if CODE.match(c))
    return codes, entities | lifecycles, lifecycles


def built_codes() -> set[str]:
    """The f-string codes of app/core: ``authz.not_found`` and ``TransitionTable``."""
    found: set[str] = set()
    for path in (APP_DIR / "core" / "authz.py", APP_DIR / "core" / "lifecycle.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "code"
                and isinstance(node.value, ast.JoinedStr)
                and (suffix := _suffix(node.value))
            ):
                found.add(suffix)
    return found


def problem_codes() -> set[str]:
    codes, entities, lifecycles = collect()
    suffixes = built_codes()
    assert suffixes == {"_not_found", "_transition_not_allowed"}, suffixes
    built = {entity + "_not_found" for entity in entities}
    built |= {entity + "_transition_not_allowed" for entity in lifecycles}
    return codes | built | HANDLER_CODES | CONSTANT_CODES
