"""The plan's own documents (the signed KH, its adjustments, annexes) in the file storage.

The upload is spooled by ``app.core.uploads.receive_upload`` (size checked while it arrives),
hashed, and moved into the storage under ``plans/<plan id>/<document id>``; the row records
its name, type, size and SHA-256. Documents are never replaced: a new file is a new document.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core.security import Principal
from app.core.uploads import Upload
from app.db.types import utcnow
from app.models.enums import AuditAction, PlanDocumentKind
from app.plans import repository as repo
from app.plans.service.common import (
    document_out,
    invalid,
    not_found,
    plan_for_child_write,
    readable_plan,
)
from app.storage import FileStorage

AUDIT_ENTITY = "plan_document"
_CHUNK = 1 << 20
# Served inline-safe types; anything else is sent as an opaque download.
SERVED_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _kind(upload: Upload) -> PlanDocumentKind:
    value = upload.fields.get("kind", PlanDocumentKind.PLAN.value)
    try:
        return PlanDocumentKind(value)
    except ValueError:
        raise invalid(
            ["body", "kind"],
            "document_kind_invalid",
            f"kind is one of {', '.join(k.value for k in PlanDocumentKind)}.",
        ) from None


async def attach(
    session: AsyncSession,
    context: AuditContext,
    storage: FileStorage,
    plan_id: uuid.UUID,
    upload: Upload,
    principal: Principal | None,
) -> dict[str, Any]:
    plan = await plan_for_child_write(session, plan_id, principal)
    kind = _kind(upload)
    if upload.size == 0:
        raise invalid(["body", "file"], "document_empty", "The file is empty.")
    filename = (upload.filename or "").strip()[:300] or None
    document_id = uuid.uuid4()
    key = f"plans/{plan_id}/{document_id}"
    row = {
        "id": document_id,
        "plan_id": plan_id,
        "kind": kind.value,
        "filename": filename,
        "media_type": (upload.media_type or "application/octet-stream")[:100],
        "size_bytes": upload.size,
        "sha256": _sha256(upload.path),
        "storage_key": key,
        "uploaded_at": utcnow(),
        "uploaded_by": context.actor_id,
        "uploaded_by_name": context.actor_name,
    }
    await repo.insert_one(session, repo.DOCUMENTS, row)
    await record(
        session,
        context,
        entity=AUDIT_ENTITY,
        entity_id=document_id,
        action=AuditAction.CREATE,
        after={k: v for k, v in row.items() if k != "storage_key"},
        unit_id=plan["issuing_unit_id"],
    )
    # Last, once everything else has been checked and written: a failure after this point
    # leaves an unreferenced file, never a row without its file.
    await storage.put_file(key, upload.path)
    return document_out(row)


async def list_documents(
    session: AsyncSession, plan_id: uuid.UUID, principal: Principal | None
) -> list[dict[str, Any]]:
    await readable_plan(session, plan_id, principal)
    return [document_out(row) for row in await repo.children(session, repo.DOCUMENTS, plan_id)]


async def document_row(
    session: AsyncSession, plan_id: uuid.UUID, document_id: uuid.UUID, principal: Principal | None
) -> RowMapping:
    await readable_plan(session, plan_id, principal)
    row = await repo.get(session, repo.DOCUMENTS, document_id)
    if row is None or row["plan_id"] != plan_id:
        raise not_found("plan_document", document_id)
    return row


async def content(storage: FileStorage, key: str) -> AsyncIterator[bytes]:
    async with storage.local_copy(key) as path:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
