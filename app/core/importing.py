"""The one status rule of every import (docs/assessments.md), shared by the features' imports.

Refused rows with nothing written (or, in a dry run, nothing that would be) answer 422
``import_rejected`` carrying the summary; a dry run otherwise 200; a real run 201 when it created
something, else 200. The summary is a dict with at least ``dry_run``, ``partial``, ``written``,
``created``, ``updated``, ``unchanged``, ``rejected`` and ``rejections`` (groups of refused rows:
``code`` and ``rows`` of ``row``, ``column``, ``field``, ``message``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Response

from app.core.errors import Unprocessable, field_error
from app.core.http import FastJSONResponse

MAX_FIELD_ERRORS = 20


def field_errors(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first refused rows as Problem ``errors``: ``loc`` is body, row, field."""
    out: list[dict[str, Any]] = []
    for group in groups:
        for row in group["rows"]:
            if len(out) >= MAX_FIELD_ERRORS:
                return out
            where: list[str | int] = ["body"]
            if row["row"] is not None:
                where.append(row["row"])
            where.append(row["field"] or row["column"] or "row")
            out.append(field_error(where, row["message"], group["code"]))
    return out


def summary_response(
    summary: dict[str, Any], *, created_keys: Sequence[str] = ("created",)
) -> Response:
    """The answer of an import from its summary (see the module's docstring)."""
    accepted = sum(int(summary[key]) for key in ("created", "updated", "unchanged"))
    would_write = summary["written"] or (summary["dry_run"] and summary["partial"] and accepted)
    if summary["rejected"] and not would_write:
        codes = ", ".join(group["code"] for group in summary["rejections"]) or "none"
        advice = (
            "every row was refused."
            if summary.get("partial")
            else "fix them, or send `partial=true` to write the valid rows."
        )
        nothing = "Nothing would be imported" if summary["dry_run"] else "Nothing was imported"
        raise Unprocessable(
            f"{nothing}: {summary['rejected']} row(s) refused ({codes}); {advice}",
            code="import_rejected",
            errors=field_errors(summary["rejections"]),
            extra=summary,
        )
    created = not summary["dry_run"] and any(summary.get(key) for key in created_keys)
    return FastJSONResponse(summary, status_code=201 if created else 200)
