"""What a transition checks before it moves a dossier on (the step's ``checks``); every failing
one is listed in the 422 ``dossier_preconditions_failed`` (``failed``).

* ``documents``: each document type the step requires was added at that step.
* ``assessment_meets_set``: every criterion of the set is met in each assessment the dossier rests
  on (18/2022/QĐ-TTg art. 4: the whole set), or an appraiser recorded an override with reasons.
* ``conditions``: each recognition condition of the set is met (satisfaction rate at the set's
  value, no outstanding construction debt, not a complex security area: 18/2022/QĐ-TTg art. 4);
  a condition whose threshold the province has not entered is unverified, and fails.
* ``title_prerequisites``: the titles the unit (or each of its communes) must hold on the day,
  from the register of titles (DOMAIN.md §3).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service.evaluation import AssessmentEvaluation
from app.core.clock import today
from app.core.errors import Unprocessable
from app.db.intervals import ONE_DAY
from app.dossiers.procedures import Step, TitlePrerequisite
from app.dossiers.service import register
from app.models.enums import (
    ConditionStatus,
    CriterionStatus,
    PreconditionKind,
    PrerequisiteKind,
    Title,
    UnitLevel,
)
from app.units import query as units


@dataclass(frozen=True)
class Failure:
    kind: PreconditionKind
    code: str
    detail: str
    data: Mapping[Any, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "code": self.code,
            "detail": self.detail,
            "data": dict(self.data),
        }


def failed(failures: Sequence[Failure]) -> Unprocessable:
    listed = "; ".join(f"{f.kind}: {f.detail}" for f in failures)
    return Unprocessable(
        f"The dossier cannot move on: {listed}",
        code="dossier_preconditions_failed",
        params={"count": len(failures)},
        extra={"failed": [f.as_dict() for f in failures]},
    )


def documents(step: Step, present: Sequence[Mapping[Any, Any]]) -> list[Failure]:
    added = {row["document_type"] for row in present if row["step"] == step.code}
    return [
        Failure(
            PreconditionKind.DOCUMENTS,
            "document_missing",
            f"a {wanted} added at the step {step.code} is required",
            {"document_type": str(wanted), "step": str(step.code)},
        )
        for wanted in step.documents
        if wanted not in added
    ]


def meets_set(
    evaluations: Sequence[AssessmentEvaluation], override: Mapping[Any, Any] | None
) -> list[Failure]:
    if override is not None:
        return []
    out = []
    for item in evaluations:
        summary = item.result.summary
        not_met = [c.number for c in item.result.criteria if c.status != CriterionStatus.MET]
        if summary.criteria_total == 0 or not_met:
            out.append(
                Failure(
                    PreconditionKind.ASSESSMENT_MEETS_SET,
                    "criteria_not_met",
                    f"assessment {item.assessment_id} meets {summary.criteria_met}/"
                    f"{summary.criteria_total} criteria",
                    {
                        "assessment_id": str(item.assessment_id),
                        "criteria_met": summary.criteria_met,
                        "criteria_total": summary.criteria_total,
                        "criteria_not_met": not_met,
                    },
                )
            )
    return out


def conditions(evaluations: Sequence[AssessmentEvaluation]) -> list[Failure]:
    out = []
    for item in evaluations:
        for condition in item.result.conditions:
            if condition.status == ConditionStatus.MET:
                continue
            out.append(
                Failure(
                    PreconditionKind.CONDITIONS,
                    condition.code,
                    f"{condition.code} is {condition.status}",
                    {
                        "assessment_id": str(item.assessment_id),
                        "status": str(condition.status),
                        "value": condition.value,
                        "threshold": condition.threshold,
                    },
                )
            )
    return out


def _wanted(
    title: str,
    configured: Sequence[TitlePrerequisite],
    evaluations: Sequence[AssessmentEvaluation],
) -> list[tuple[Title, str, str]]:
    """(required title, of unit | communes, source): the configured ones and the set's own."""
    wanted = {(p.requires, p.of): p.source for p in configured if p.title == title}
    for item in evaluations:
        for prerequisite in item.result.prerequisites:
            if prerequisite.kind == PrerequisiteKind.TITLE and prerequisite.data.get("title"):
                key = (Title(str(prerequisite.data["title"])), "unit")
                wanted.setdefault(key, f"criteria set {item.result.criteria_set.code}")
    return [(requires, of, source) for (requires, of), source in sorted(wanted.items())]


async def title_prerequisites(
    session: AsyncSession,
    unit_id: uuid.UUID,
    title: str,
    on: date,
    configured: Sequence[TitlePrerequisite],
    evaluations: Sequence[AssessmentEvaluation],
) -> list[Failure]:
    wanted = _wanted(title, configured, evaluations)
    if not wanted:
        return []
    subjects: dict[str, list[uuid.UUID]] = {"unit": [unit_id]}
    if any(of == "communes" for _, of, _ in wanted):
        # The communes under the unit on the day, or as they last stood under it.
        last = (await units.last_versions(session, [unit_id], on)).get(unit_id)
        day = on if last is None else min(on, last.valid_to - ONE_DAY)
        subtree = await units.units_in_subtree(session, [unit_id], day, level=UnitLevel.COMMUNE)
        subjects["communes"] = [u.unit_id for u in subtree if u.unit_id != unit_id]
    every = sorted({u for ids in subjects.values() for u in ids}, key=str)
    held = await register.titles_held(session, every, on)
    out = []
    for requires, of, source in wanted:
        lacking = [u for u in subjects[of] if requires not in held.get(u, frozenset())]
        if lacking:
            out.append(
                Failure(
                    PreconditionKind.TITLE_PREREQUISITES,
                    "title_not_held",
                    f"{len(lacking)} of {len(subjects[of])} ({of}) did not hold {requires} on {on}",
                    {
                        "requires": str(requires),
                        "of": of,
                        "on": on.isoformat(),
                        "units": [str(u) for u in lacking],
                        "source": source,
                    },
                )
            )
    return out


def check_day(decision_date: date | None) -> date:
    """The day titles must be held: the decision's date when there is one, else today."""
    return decision_date or today()
