"""The Problem schema, for OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    """One input at fault, as in FastAPI's validation errors."""

    loc: list[str | int] = Field(
        description='Where: `["body", "values", 3, "value"]`, `["query", "as_of"]`, an import '
        'row `["body", 12, "unit_code"]`.'
    )
    msg: str = Field(description="What is wrong, in the caller's language.")
    type: str = Field(description="A stable code for it, e.g. `missing`, `unit_not_found`.")


class Problem(BaseModel):
    """RFC 9457 problem details with a stable machine-readable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem (RFC 9457 §3.1.1).")
    title: str = Field(description="A short summary, in the caller's language (vi or en).")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(
        description="What went wrong with this request and how to fix it, in the caller's language."
    )
    code: str = Field(
        description="A stable machine-readable code (e.g. `unit_not_found`): program against it, "
        "not against `title` or `detail`. Each operation lists its codes per status."
    )
    instance: str | None = Field(default=None, description="The request's path.")
    errors: list[FieldError] | None = Field(
        default=None, description="422: each input at fault; null otherwise."
    )
