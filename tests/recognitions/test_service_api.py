"""The typed service API other features call: record_grant, record_revocation, titles_held."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext
from app.core.errors import Conflict, Unprocessable
from app.models.enums import RecognitionSource, Title
from app.models.system import AuditRecord
from app.recognitions import service
from app.recognitions.query import titles_held
from app.units import query as units

SYSTEM = AuditContext.system("test")


async def _commune(session: AsyncSession, code: str = "07450") -> uuid.UUID:
    found = await units.ids_by_code(session, [code], date(2023, 6, 1), level="commune")
    (unit_id,) = found[code]
    return unit_id


async def test_grant_then_revoke_answers_titles_held_on_each_day(session: AsyncSession) -> None:
    commune = await _commune(session)
    granted = await service.record_grant(
        session,
        context=SYSTEM,
        principal=None,
        unit_id=commune,
        title=Title.NTM_COMMUNE,
        year_for=2019,
        decision_number="12/QĐ-UBND",
        decision_date=date(2020, 1, 11),
        signer="Chủ tịch UBND tỉnh",
        source=RecognitionSource.HISTORICAL,
    )
    assert granted.held_from == date(2020, 1, 11)
    assert granted.held_until is None
    assert await titles_held(session, [commune], date(2020, 1, 10)) == {}
    assert await titles_held(session, [commune], date(2020, 1, 11)) == {
        commune: frozenset({Title.NTM_COMMUNE})
    }
    revoked = await service.record_revocation(
        session,
        context=SYSTEM,
        principal=None,
        recognition_id=granted.id,
        decision_number="99/QĐ-UBND",
        decision_date=date(2022, 3, 1),
        signer="Chủ tịch UBND tỉnh",
        reason="Không còn đạt 10/19 tiêu chí",
    )
    assert revoked.held_until == date(2022, 3, 1)
    assert revoked.revocation is not None
    assert revoked.revocation.decision_number == "99/QĐ-UBND"
    assert revoked.revision == 2
    assert await titles_held(session, [commune], date(2022, 2, 28)) == {
        commune: frozenset({Title.NTM_COMMUNE})
    }
    assert await titles_held(session, [commune], date(2022, 3, 1)) == {}
    audited = await session.scalar(
        select(func.count()).where(
            AuditRecord.entity == "recognition", AuditRecord.entity_id == str(granted.id)
        )
    )
    assert audited == 2


async def test_bad_grants_and_revocations_are_refused(session: AsyncSession) -> None:
    commune = await _commune(session)
    base = {
        "context": SYSTEM,
        "principal": None,
        "unit_id": commune,
        "year_for": 2019,
        "decision_number": "1/QĐ",
        "decision_date": date(2020, 1, 11),
        "signer": "X",
    }
    with pytest.raises(Unprocessable) as caught:
        await service.record_grant(session, **base, title=Title.NTM_DISTRICT)  # type: ignore[arg-type]
    assert caught.value.code == "title_level_mismatch"
    with pytest.raises(Unprocessable) as caught:
        await service.record_grant(
            session,
            **{**base, "decision_date": date(2999, 1, 1)},  # type: ignore[arg-type]
            title=Title.NTM_COMMUNE,
        )
    assert caught.value.code == "decision_date_in_future"
    first = await service.record_grant(session, **base, title=Title.NTM_COMMUNE)  # type: ignore[arg-type]
    with pytest.raises(Conflict) as conflict:
        await service.record_grant(session, **base, title=Title.NTM_COMMUNE)  # type: ignore[arg-type]
    assert conflict.value.code == "recognition_exists"
    with pytest.raises(Unprocessable) as caught:
        await service.record_revocation(
            session,
            context=SYSTEM,
            principal=None,
            recognition_id=first.id,
            decision_number="2/QĐ",
            decision_date=date(2020, 1, 11),
            signer="X",
            reason="r",
        )
    assert caught.value.code == "revocation_before_grant"
