"""HTTP layer of bulk indicator values: the import, its background jobs and the XLSX template."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.assessments.imports import parsing
from app.assessments.imports.service import jobs as job_service
from app.assessments.imports.service import pipeline as import_service
from app.assessments.imports.service import template as template_service
from app.assessments.schemas import ImportJob, ImportRejected, ImportSummary, TemplateQuery, Year
from app.audit.service import AuditContextDep
from app.core.errors import PROBLEM_MEDIA_TYPE, Unprocessable, field_error, problem_responses
from app.core.http import FastJSONResponse
from app.core.importing import summary_response
from app.core.permissions import Action
from app.core.security import Principal, require
from app.core.types import IsoDate
from app.core.uploads import receive_upload
from app.db.session import SessionDep
from app.models.assessments import AssessmentKind
from app.worker import wake_worker

# Above this many rows (estimated from the file) an import runs as a job unless `async=false`.
ASYNC_THRESHOLD_ROWS = 50_000

router = APIRouter(tags=["indicator values"])
REJECTED_REF = "#/components/schemas/ImportRejected"
Reader = Annotated[Principal, require(Action.ASSESSMENTS_READ)]
Writer = Annotated[Principal, require(Action.ASSESSMENTS_WRITE)]


class ImportOptions(BaseModel):
    """The options, from the query string or from the form fields of a multipart upload."""

    model_config = ConfigDict(extra="ignore")

    criteria_set_id: uuid.UUID | None = None
    kind: AssessmentKind | None = None
    dry_run: bool = False
    mode: Literal["upsert", "replace"] = "upsert"
    partial: bool = False
    year: Year | None = None
    as_of: IsoDate | None = None
    run_async: bool | None = Field(default=None, alias="async")


def _options(query: dict[str, Any], fields: dict[str, Any]) -> ImportOptions:
    try:
        return ImportOptions.model_validate({**query, **fields})
    except ValidationError as exc:
        errors = [
            field_error(["query", *map(str, e["loc"])], e["msg"], e["type"]) for e in exc.errors()
        ]
        raise Unprocessable("The import options are not valid.", errors=errors) from exc


def _params(
    options: ImportOptions,
    path: Path,
    media_type: str | None,
    filename: str | None,
    limits: parsing.Limits,
    checked: bool,
) -> import_service.ImportParams:
    """The import's parameters; the XLSX template's ``meta`` sheet fills in what the query
    leaves out, read only from a workbook whose size was checked (in a thread: openpyxl)."""
    declared = parsing.declared_format(media_type, filename)
    meta: dict[str, str] = {}
    if checked and (options.criteria_set_id is None or options.kind is None):
        with contextlib.suppress(parsing.FileProblem):
            if parsing.detect_format(path, declared) == "xlsx":
                meta = parsing.xlsx_meta(path)
    set_id = options.criteria_set_id
    if set_id is None:
        try:
            set_id = uuid.UUID(meta["criteria_set_id"])
        except (KeyError, ValueError):
            raise Unprocessable(
                "Say which criteria set the values belong to (`criteria_set_id`).",
                code="validation_error",
                errors=[field_error(["query", "criteria_set_id"], "required", "missing")],
            ) from None
    kind = options.kind
    if kind is None:
        kind = (
            AssessmentKind(meta["kind"])
            if meta.get("kind") in set(AssessmentKind)
            else (AssessmentKind.SELF_ASSESSMENT)
        )
    return import_service.ImportParams(
        criteria_set_id=set_id,
        kind=kind,
        dry_run=options.dry_run,
        mode=options.mode,
        partial=options.partial,
        year=options.year,
        as_of=options.as_of,
        declared_format=declared,
        filename=filename,
        limits=limits,
    )


def _inspect(path: Path, declared: str | None, limits: parsing.Limits) -> tuple[int | None, bool]:
    """(estimated values, whether the file passed its size checks), before any other work (in a
    thread). A file over a limit is refused at once with 422; a damaged one is left to the
    import, which reports it in its summary."""
    try:
        fmt = parsing.detect_format(path, declared)
        return parsing.estimate_rows(path, fmt, limits), True
    except parsing.FileProblem as problem:
        if problem.code in (parsing.TOO_LARGE, parsing.ARCHIVE_TOO_LARGE):
            raise Unprocessable(
                problem.message,
                code=problem.code,
                errors=[field_error(["body", "file"], problem.message, problem.code)],
            ) from None
        return None, False


def _summary_response(summary: dict[str, Any]) -> Response:
    """The one status rule of every import (``app.core.importing``)."""
    return summary_response(summary, created_keys=("created", "assessments_created"))


IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file, as the `file` field of a multipart form (other form fields may "
        "carry the options), or as the raw body with its media type.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            template_service.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/indicator-values/import",
    response_model=ImportSummary,
    summary="Import indicator values from CSV, XLSX or JSON",
    description="Tidy long layout: `unit_code` (or `unit_id`), `year`, `indicator_code`, "
    "`value`, optional `note`; or the wide layout of the XLSX template (one column per "
    "indicator code). Units are resolved by code within the year (or `as_of`). Assessments of "
    "the kind are created as needed. All or nothing unless `partial=true`. "
    "`dry_run=true` validates and counts without writing. `mode=replace` also removes the values "
    "of the touched assessments that the file does not mention. Status (the rule of every "
    "import): a dry run answers 200 with the summary; a real run 201 when it created values or "
    "assessments, else 200; when rows are refused and nothing is (or would be) written, 422 "
    "`import_rejected` with the same summary, in both modes. A file over the size limits "
    "(rows, columns, cells; an XLSX's uncompressed size and compression ratio) is refused "
    "before any work with 422 `import_too_large` or `xlsx_too_large`. Large files (over "
    f"{ASYNC_THRESHOLD_ROWS:,} values, or `async=true`) run as a job: 202 with `Location`.",
    openapi_extra=IMPORT_BODY,
    responses={
        201: {"description": "Values or assessments were created.", "model": ImportSummary},
        202: {"description": "Accepted as a job.", "model": ImportJob},
        **problem_responses(400, 404, 413, 429),
        422: {
            "description": "Refused rows (`import_rejected`, with the summary), a file over "
            "the limits, or invalid options.",
            "model": ImportRejected,
            # Refused rows carry the summary; other 422s (limits, options) are plain problems.
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {
                        "anyOf": [
                            {"$ref": REJECTED_REF},
                            {"$ref": "#/components/schemas/Problem"},
                        ]
                    }
                }
            },
        },
        **problem_responses(503),
    },
)
async def import_values(
    request: Request,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Writer,
    criteria_set_id: uuid.UUID | None = None,
    kind: AssessmentKind | None = None,
    dry_run: Annotated[bool, Query(description="Validate and count; write nothing.")] = False,
    mode: Literal["upsert", "replace"] = "upsert",
    partial: Annotated[bool, Query(description="Write the valid rows even if some fail.")] = False,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="For files without a year column.")
    ] = None,
    as_of: Annotated[IsoDate | None, Query(description="Resolve unit codes on this date.")] = None,
    run_async: Annotated[bool | None, Query(alias="async")] = None,
) -> Response:
    async with receive_upload(request) as upload:
        options = _options(dict(request.query_params), upload.fields)
        limits = parsing.Limits.of(request.app.state.settings)
        declared = parsing.declared_format(upload.media_type, upload.filename)
        estimate, checked = await asyncio.to_thread(_inspect, upload.path, declared, limits)
        params = await asyncio.to_thread(
            _params, options, upload.path, upload.media_type, upload.filename, limits, checked
        )
        as_job = options.run_async
        if as_job is None:
            as_job = estimate is not None and estimate > ASYNC_THRESHOLD_ROWS
        if as_job:
            await job_service.check_capacity(session, principal)
            job_id = await job_service.create_job(
                session,
                request.app.state.storage,
                audit,
                params,
                principal,
                upload=upload,
                estimate=estimate,
            )
            try:
                body = await job_service.get_job(session, job_id, principal)
                await session.commit()
            except BaseException:
                await request.app.state.storage.delete(job_service.upload_key(job_id))
                raise
            wake_worker(request.app)
            return FastJSONResponse(
                body, status_code=202, headers={"Location": f"/api/v1/import-jobs/{job_id}"}
            )
        summary = await import_service.run_import(
            session, audit, upload.path, params, principal=principal
        )
        if summary["written"]:
            await session.commit()
        return _summary_response(summary)


@router.get(
    "/import-jobs/{job_id}",
    response_model=ImportJob,
    summary="Status, progress and summary of an import job",
    responses=problem_responses(404),
)
async def get_import_job(session: SessionDep, principal: Writer, job_id: uuid.UUID) -> Response:
    return FastJSONResponse(await job_service.get_job(session, job_id, principal))


@router.get(
    "/indicator-values/template",
    summary="XLSX template of a set for a unit's subtree (imports back unchanged)",
    description="One row per unit of the set's level under `unit_id` (codes and names as of "
    "the year), one column per indicator code; current values of existing assessments of the "
    "kind are filled in.",
    response_class=Response,
    responses={
        200: {"content": {template_service.MEDIA_TYPE: {}}, "description": "The workbook."},
        **problem_responses(404, 422),
    },
)
async def indicator_values_template(
    session: SessionDep,
    principal: Reader,
    criteria_set_id: uuid.UUID,
    unit_id: uuid.UUID,
    year: Annotated[int, Query(ge=2000, le=2100)],
    kind: AssessmentKind = AssessmentKind.SELF_ASSESSMENT,
    as_of: IsoDate | None = None,
) -> Response:
    query = TemplateQuery(
        criteria_set_id=criteria_set_id, unit_id=unit_id, year=year, kind=kind, as_of=as_of
    )
    content, name = await template_service.build(session, query, principal)
    return Response(
        content,
        media_type=template_service.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
