"""The revocation check: each set's revocation bands applied to the titled units' latest
assessments (18/2022/QĐ-TTg).

A commune's recognition is revoked when ≥ 50 % of its criteria fail, or 30 %–< 50 % fail with
one of the set's key criteria among them; the bands are data of each criteria set (the engine
applies them, ``app.assessments.engine.evaluate_revocation``). A set without bands is reported
as ``no_bands``: its bands are data an administrator enters, never guessed here. The district
rule "≥ 30 % of its communes lost their title" is not in the sets' data and is not applied.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service import evaluation as assessments
from app.audit.service import AuditContext
from app.core import authz
from app.core.errors import ProblemError
from app.core.permissions import Action
from app.core.security import Principal
from app.models.enums import CriterionStatus, RevocationCheck, Title
from app.recognitions import repository as repo
from app.recognitions.schemas import (
    BandOut,
    FailingCriterion,
    RecognitionOut,
    RevocationCandidate,
    RevocationCreate,
)
from app.recognitions.service import invalid, record_revocation, represent
from app.units import query as units


def _candidate(
    recognition: RecognitionOut, found: assessments.AssessmentEvaluation | None
) -> RevocationCandidate:
    if found is None:
        return RevocationCandidate(recognition=recognition, status=RevocationCheck.NO_ASSESSMENT)
    result = found.result
    revocation = result.revocation
    if not revocation.bands_defined:
        status = RevocationCheck.NO_BANDS
    elif revocation.falls_under_band:
        status = RevocationCheck.FALLS_UNDER_BAND
    else:
        status = RevocationCheck.WITHIN_BANDS
    band = revocation.band
    return RevocationCandidate(
        recognition=recognition,
        status=status,
        assessment_id=found.assessment_id,
        criteria_set_id=result.criteria_set.id,
        criteria_set_code=result.criteria_set.code,
        year=found.year,
        kind=found.kind.value,
        failing_criteria=[
            FailingCriterion(number=c.number, name=c.name)
            for c in result.criteria
            if c.status == CriterionStatus.NOT_MET
        ],
        failing_share=revocation.failing_share,
        band=None
        if band is None
        else BandOut(
            min_failing_share=band.min_failing_share,
            max_failing_share=band.max_failing_share,
            requires_failing_criterion=list(band.requires_failing_criterion),
            key_criteria_failing=list(band.key_criteria_failing),
        ),
    )


async def check(
    session: AsyncSession,
    *,
    principal: Principal | None,
    as_of: date,
    within: uuid.UUID | None = None,
    title: Title | None = None,
    status: RevocationCheck | None = RevocationCheck.FALLS_UNDER_BAND,
) -> list[RevocationCandidate]:
    """Every recognition in force on ``as_of`` (under ``within``, of ``title``) against the
    latest assessment of its unit for a year up to ``as_of``'s, against a set of its title;
    only those of ``status`` if given. Ordered by unit code, title and recognition."""
    visible = (
        authz.scope(principal, Action.RECOGNITIONS_READ).clause(repo.RECOGNITIONS.c.unit_id)
        if principal is not None
        else None
    )
    rows = await repo.list_all(
        session,
        repo.ListFilters(
            visible=visible,
            units=units.subtree_select([within], as_of) if within is not None else None,
            title=title.value if title is not None else None,
            held_on=as_of,
        ),
    )
    recognitions = await represent(session, rows)
    latest = await assessments.latest_evaluations(
        session, sorted({r.unit_id for r in recognitions}), up_to_year=as_of.year
    )
    found = [
        _candidate(recognition, latest.get((recognition.unit_id, recognition.title.value)))
        for recognition in recognitions
    ]
    if status is not None:
        found = [item for item in found if item.status == status]
    found.sort(
        key=lambda c: (
            c.recognition.unit.code if c.recognition.unit else "",
            list(Title).index(c.recognition.title),
            str(c.recognition.id),
        )
    )
    return found


async def basis(
    session: AsyncSession, recognition: Mapping[Any, Any], assessment_id: uuid.UUID
) -> dict[str, Any]:
    """What a revocation rests on: the assessment's failing criteria and band. An assessment
    of another unit, or none, is refused alike (nothing said about other units)."""
    mismatch = invalid(
        ("body", "assessment_id"),
        "revocation_assessment_mismatch",
        f"There is no assessment {assessment_id} of the recognised unit.",
    )
    try:
        evaluated = await assessments.evaluate_many(session, [assessment_id])
    except ProblemError as exc:
        if exc.code == "assessment_not_found":
            raise mismatch from exc
        raise
    found = evaluated[assessment_id]
    if found.unit.id != recognition["unit_id"]:
        raise mismatch
    candidate = _candidate((await represent(session, [recognition]))[0], found)
    return {
        "assessment_id": str(assessment_id),
        "criteria_set_code": candidate.criteria_set_code,
        "year": candidate.year,
        "status": candidate.status.value,
        "failing_criteria": [c.number for c in candidate.failing_criteria],
        "failing_share": candidate.failing_share,
        "band": candidate.band.model_dump() if candidate.band is not None else None,
    }


async def revoke(
    session: AsyncSession,
    context: AuditContext,
    principal: Principal | None,
    recognition_id: uuid.UUID,
    body: RevocationCreate,
    if_match: str | None,
) -> RecognitionOut:
    """``POST /recognitions/{id}/revocation``: the decision, and what it rests on if given."""
    assessment_id = body.assessment_id

    async def rests_on(row: Mapping[Any, Any]) -> dict[str, Any]:
        assert assessment_id is not None
        return await basis(session, row, assessment_id)

    return await record_revocation(
        session,
        context=context,
        principal=principal,
        recognition_id=recognition_id,
        decision_number=body.decision_number,
        decision_date=body.decision_date,
        signer=body.signer,
        issuing_body=body.issuing_body,
        reason=body.reason,
        if_match=if_match,
        basis_from=rests_on if assessment_id is not None else None,
    )
