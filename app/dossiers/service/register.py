"""The register of titles (app.recognitions), as the dossiers feature uses it: which titles units
held on a day, and the entry a decision creates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession


async def titles_held(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], on: date
) -> Mapping[uuid.UUID, frozenset[str]] | None:
    """The titles each unit held on ``on``; None while no register can answer (the prerequisite
    is then reported as unverified, which blocks the transition)."""
    return None
