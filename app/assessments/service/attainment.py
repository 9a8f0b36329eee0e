"""Computed attainment of many units for a year, for reports: one assessment per unit, evaluated
by the same engine as ``GET /assessments/{id}/evaluation``.

Computed attainment is never a title: titles come from the register (``app.recognitions``);
reports show this beside them under its own name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import engine
from app.assessments.repository import assessments as repo
from app.assessments.service import criteria as criteria_port
from app.assessments.service.evaluation import evaluate, load_many
from app.core.errors import ProblemError
from app.core.http import Language
from app.models.enums import AssessmentKind, CriterionStatus

# When a unit has several assessments of a year, the most authoritative view counts: the
# provincial council's appraisal (thẩm định), then the review (thẩm tra), the annual review,
# and last the commune's own self-assessment (18/2022/QĐ-TTg steps, DOMAIN.md §4).
PRECEDENCE = (
    AssessmentKind.APPRAISAL,
    AssessmentKind.REVIEW,
    AssessmentKind.ANNUAL_REVIEW,
    AssessmentKind.SELF_ASSESSMENT,
)
# Evaluated per batch: bounded memory whatever the scope.
BATCH = 500


@dataclass(frozen=True, slots=True)
class CriterionAttainment:
    number: int
    name: str
    status: CriterionStatus


@dataclass(frozen=True, slots=True)
class Attainment:
    unit_id: uuid.UUID
    assessment_id: uuid.UUID
    kind: AssessmentKind
    criteria_set_id: uuid.UUID
    criteria_set_code: str
    updated_at: datetime
    criteria_total: int
    criteria_met: int
    criteria: tuple[CriterionAttainment, ...]


async def attainment(
    session: AsyncSession,
    unit_ids: Iterable[uuid.UUID],
    year: int,
    *,
    title: str | None = None,
    criteria_set_id: uuid.UUID | None = None,
    language: Language = "vi",
) -> dict[uuid.UUID, Attainment]:
    """For each unit with an assessment of ``year`` (against ``criteria_set_id``, or any set for
    ``title``): its most authoritative assessment, evaluated. Units without one are absent; an
    assessment that cannot be evaluated (its unit left the map of its year) is skipped."""
    rows = await repo.of_units_in_year(session, list(unit_ids), year, criteria_set_id)
    titled = []
    for row in rows:
        spec = await criteria_port.load_set(session, row["criteria_set_id"], language)
        if title is None or spec.title == title:
            titled.append(row)
    rank = {kind.value: index for index, kind in enumerate(PRECEDENCE)}
    chosen: dict[uuid.UUID, RowMapping] = {}
    for row in sorted(
        titled, key=lambda r: (rank.get(r["kind"], 99), -r["updated_at"].timestamp(), r["id"])
    ):
        chosen.setdefault(row["unit_id"], row)
    picked = list(chosen.values())
    found: dict[uuid.UUID, Attainment] = {}
    for start in range(0, len(picked), BATCH):
        batch = picked[start : start + BATCH]
        for row, result in await _evaluated(session, batch, language):
            found[row["unit_id"]] = Attainment(
                unit_id=row["unit_id"],
                assessment_id=row["id"],
                kind=AssessmentKind(row["kind"]),
                criteria_set_id=row["criteria_set_id"],
                criteria_set_code=result.criteria_set.code,
                updated_at=row["updated_at"],
                criteria_total=result.summary.criteria_total,
                criteria_met=result.summary.criteria_met,
                criteria=tuple(
                    CriterionAttainment(c.number, c.name, c.status) for c in result.criteria
                ),
            )
    return found


async def _evaluated(
    session: AsyncSession, rows: list[RowMapping], language: Language
) -> list[tuple[RowMapping, engine.Evaluation]]:
    try:
        loaded = await load_many(session, rows, language)
    except ProblemError:
        loaded = []
        for row in rows:
            try:
                loaded.extend(await load_many(session, [row], language))
            except ProblemError:
                continue
    return [(one.row, evaluate(one).result) for one in loaded]
