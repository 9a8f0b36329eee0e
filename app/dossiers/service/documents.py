"""Documents of a dossier: stored by key in the file storage (never by path), with their SHA-256,
a size limit (``NTM_DOSSIER_DOCUMENT_MAX_BYTES``) and a type found in the content, not the name."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core.errors import Conflict, Forbidden, NotFound, ProblemError
from app.core.permissions import Action
from app.core.security import Principal
from app.core.uploads import Upload
from app.db.types import utcnow
from app.dossiers import content, repository
from app.dossiers.service.common import (
    acts_at,
    authorize,
    dossier_not_found,
    invalid,
    procedure_of,
    unit_chain,
)
from app.dossiers.service.dossiers import load_or_404
from app.models.enums import DossierDocumentType, DossierStatus
from app.storage import FileStorage

AUDIT_ENTITY = "dossier_document"


def document_not_found(document_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"There is no document {document_id} in this dossier.",
        code="dossier_document_not_found",
        params={"id": document_id},
    )


def document_key(dossier_id: uuid.UUID, document_id: uuid.UUID) -> str:
    return f"dossiers/{dossier_id}/{document_id}"


def document_out(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "dossier_id": row["dossier_id"],
        "document_type": row["document_type"],
        "step": row["step"],
        "filename": row["filename"],
        "media_type": row["media_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "note": row["note"],
        "uploaded_by_name": row["uploaded_by_name"],
        "uploaded_at": row["uploaded_at"],
    }


def _digest_and_type(path: Path) -> tuple[str, str | None]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest(), content.detect(path)


def _document_type(raw: str | None) -> DossierDocumentType:
    try:
        return DossierDocumentType(raw or "")
    except ValueError:
        raise invalid(
            ["body", "document_type"],
            "dossier_document_type_unknown",
            f"document_type must be one of {', '.join(DossierDocumentType)}.",
        ) from None


async def add(
    session: AsyncSession,
    context: AuditContext,
    storage: FileStorage,
    dossier_id: uuid.UUID,
    upload: Upload,
    principal: Principal,
) -> dict[str, Any]:
    row = await repository.get_for_update(session, dossier_id)
    if row is None:
        raise dossier_not_found(dossier_id)
    await authorize(session, principal, Action.DOSSIERS_READ, row)
    document_type = _document_type(upload.fields.get("document_type"))
    note = upload.fields.get("note") or None
    if note is not None and len(note) > 5000:
        raise invalid(["body", "note"], "dossier_document_note_too_long", "The note is too long.")
    status = DossierStatus(row["status"])
    if status.is_final:
        raise Conflict(
            f"Dossier {dossier_id} is {status}: it takes no more documents.",
            code="dossier_closed",
        )
    procedure = procedure_of(row)
    step = procedure.step(status)
    assert step is not None
    if not acts_at(principal, procedure, step, await unit_chain(session, row["unit_id"])):
        raise Forbidden(
            f"Documents at the step {step.code} are added by its actors.",
            code="forbidden",
            extra={"step": procedure.step_ref(step), "actors": [a.as_dict() for a in step.actors]},
        )
    if upload.size == 0:
        raise invalid(["body", "file"], "dossier_document_empty", "The file is empty.")
    sha256, media_type = await asyncio.to_thread(_digest_and_type, upload.path)
    if media_type is None:
        raise ProblemError(
            "The file's content is not an accepted document type (PDF, PNG, JPEG, Word, Excel, "
            "OpenDocument); the name and declared type are not trusted.",
            code="dossier_document_content_not_allowed",
            status=415,
            extra={"allowed": list(content.ALLOWED)},
        )
    document_id = uuid.uuid4()
    key = document_key(dossier_id, document_id)
    # Storage refusing the file (full: 507, not writable: 500) raises before any row is written.
    size = await storage.put_file(key, upload.path)
    try:
        now = utcnow()
        filename = (upload.filename or "")[:255] or None
        document = {
            "id": document_id,
            "dossier_id": dossier_id,
            "document_type": document_type.value,
            "step": status.value,
            "storage_key": key,
            "filename": filename,
            "media_type": media_type,
            "size": size,
            "sha256": sha256,
            "note": note,
            "uploaded_by": principal.id,
            "uploaded_by_name": principal.name,
            "uploaded_at": now,
        }
        await repository.insert_document(session, document)
        await repository.update_dossier(
            session,
            dossier_id,
            {"revision": row["revision"] + 1, "updated_at": now, "updated_by_name": principal.name},
        )
        await record(
            session,
            context,
            entity=AUDIT_ENTITY,
            entity_id=document_id,
            action="create",
            after={k: v for k, v in document.items() if k != "storage_key"},
            unit_id=row["unit_id"],
        )
    except BaseException:
        # The rows will not be committed: the file must not outlive them.
        await storage.delete(key)
        raise
    return {**document_out(document), "revision": row["revision"] + 1}


async def list_documents(
    session: AsyncSession, dossier_id: uuid.UUID, principal: Principal
) -> list[dict[str, Any]]:
    await load_or_404(session, dossier_id, principal)
    return [document_out(r) for r in await repository.documents(session, dossier_id)]


async def for_download(
    session: AsyncSession, dossier_id: uuid.UUID, document_id: uuid.UUID, principal: Principal
) -> Mapping[Any, Any]:
    await load_or_404(session, dossier_id, principal)
    row = await repository.document(session, dossier_id, document_id)
    if row is None:
        raise document_not_found(document_id)
    return row
