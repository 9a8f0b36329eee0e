"""The register of titles (app.recognitions), as the dossiers feature uses it: which titles units
held on a day, and the entry a decision creates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext
from app.models.enums import RecognitionSource, Title
from app.recognitions import query as recognitions
from app.recognitions import service as recognitions_service
from app.recognitions.titles import implied


async def titles_held(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], on: date
) -> Mapping[uuid.UUID, frozenset[str]]:
    """The titles each unit held on ``on``, with the ones below them on their ladder (a commune
    recognised advanced has met NTM, whether or not its NTM decision is in the register)."""
    held = await recognitions.titles_held(session, unit_ids, on)
    return {unit_id: frozenset(str(t) for t in implied(titles)) for unit_id, titles in held.items()}


async def record_grant(
    session: AsyncSession,
    context: AuditContext,
    *,
    dossier_id: uuid.UUID,
    unit_id: uuid.UUID,
    title: str,
    year_for: int,
    decision_number: str,
    decision_date: date,
    signer: str,
    field: str | None,
    issuing_unit_id: uuid.UUID | None,
) -> uuid.UUID:
    """The register entry of the decision that closes the dossier; its id. The dossier's
    decision step authorised the act (``principal`` None for the register)."""
    recognition = await recognitions_service.record_grant(
        session,
        context=context,
        principal=None,
        unit_id=unit_id,
        title=Title(title),
        year_for=year_for,
        decision_number=decision_number,
        decision_date=decision_date,
        signer=signer,
        issuing_unit_id=issuing_unit_id,
        field=field,
        dossier_id=dossier_id,
        source=RecognitionSource.DOSSIER,
    )
    return recognition.id
