"""Where units stand against a title's criteria on a date, for other features (plans, reports).

For each unit: the assessment against a set granting the title for the latest year up to the
year of the date, the council's appraisal first, then the review, the annual review and the
commune's self-assessment (the later in the procedure, the more authoritative:
18/2022/QĐ-TTg), evaluated from its values as they stand.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.repository import standing as repo
from app.assessments.service import criteria as criteria_port
from app.assessments.service.evaluation import evaluate, load_many
from app.models.enums import AssessmentKind, CriterionStatus

_KIND_ORDER = {
    AssessmentKind.APPRAISAL: 0,
    AssessmentKind.REVIEW: 1,
    AssessmentKind.ANNUAL_REVIEW: 2,
    AssessmentKind.SELF_ASSESSMENT: 3,
}


@dataclass(frozen=True, slots=True)
class Standing:
    unit_id: uuid.UUID
    assessment_id: uuid.UUID
    year: int
    kind: AssessmentKind
    criteria_total: int
    criteria_met: int
    # Numbers of the criteria not met (basically met counts as not yet met; undetermined too).
    criteria_not_met: tuple[int, ...]


async def standings(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], title: str, on: date
) -> dict[uuid.UUID, Standing]:
    """The standing of each unit that has an assessment for ``title`` up to ``on``'s year."""
    rows = await repo.up_to_year(session, unit_ids, on.year)
    titles: dict[uuid.UUID, str | None] = {}
    for set_id in {row["criteria_set_id"] for row in rows}:
        titles[set_id] = (await criteria_port.load_set(session, set_id)).title
    best: dict[uuid.UUID, tuple[tuple[int, int, float], RowMapping]] = {}
    for row in rows:
        if titles[row["criteria_set_id"]] != title:
            continue
        key = (
            row["year"],
            -_KIND_ORDER[AssessmentKind(row["kind"])],
            row["updated_at"].timestamp(),
        )
        current = best.get(row["unit_id"])
        if current is None or key > current[0]:
            best[row["unit_id"]] = (key, row)
    chosen = [row for _key, row in best.values()]
    out: dict[uuid.UUID, Standing] = {}
    for loaded in await load_many(session, chosen):
        result = evaluate(loaded).result
        not_met = tuple(
            criterion.number
            for criterion in result.criteria
            if criterion.status != CriterionStatus.MET
        )
        out[loaded.row["unit_id"]] = Standing(
            unit_id=loaded.row["unit_id"],
            assessment_id=loaded.row["id"],
            year=loaded.row["year"],
            kind=AssessmentKind(loaded.row["kind"]),
            criteria_total=len(result.criteria),
            criteria_met=result.summary.criteria_met,
            criteria_not_met=not_met,
        )
    return out
