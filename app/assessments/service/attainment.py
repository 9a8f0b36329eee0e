"""Computed attainment of many units for a year, for reports: one assessment per unit, evaluated
by the same engine as ``GET /assessments/{id}/evaluation`` — or read from the result kept for it
under the current key (``results``), which is what that engine gave for the same rows.

Computed attainment is never a title: titles come from the register (``app.recognitions``);
reports show this beside them under its own name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import engine
from app.assessments.repository import results as results_repo
from app.assessments.service import criteria as criteria_port
from app.assessments.service import results
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
    assessment that cannot be evaluated (its unit left the map of its year) is skipped.

    The assessments and their kept results come in one statement per chunk of units; a result
    kept under the current key is used as it is (``results``), the others are evaluated by the
    engine here, as ``GET /assessments/{id}/evaluation`` would. Nothing is written."""
    rows = await results_repo.of_units_in_year(session, list(unit_ids), year, criteria_set_id)
    sets: dict[uuid.UUID, tuple[engine.SetSpec, criteria_port.SetKey | None]] = {}
    for set_id in sorted({row["criteria_set_id"] for row in rows}):
        sets[set_id] = await criteria_port.load_keyed(session, set_id, language)
    rank = {kind.value: index for index, kind in enumerate(PRECEDENCE)}
    chosen: dict[uuid.UUID, RowMapping] = {}
    for row in sorted(
        (r for r in rows if title is None or sets[r["criteria_set_id"]][0].title == title),
        key=lambda r: (rank.get(r["kind"], 99), -r["updated_at"].timestamp(), r["id"]),
    ):
        chosen.setdefault(row["unit_id"], row)
    found: dict[uuid.UUID, Attainment] = {}
    stale: list[RowMapping] = []
    shapes: dict[uuid.UUID, _Shape] = {}
    for row in chosen.values():
        spec, content = sets[row["criteria_set_id"]]
        result = results.kept(row, content, len(spec.criteria))
        if result is None:
            stale.append(row)
        elif result.evaluable:
            shape = shapes.get(spec.id) or shapes.setdefault(spec.id, _Shape.of(spec))
            found[row["unit_id"]] = _attainment(
                row, spec.code, result.criteria_total, result.criteria_met,
                shape.criteria(result.statuses),
            )  # fmt: skip
    for start in range(0, len(stale), BATCH):
        batch = stale[start : start + BATCH]
        for row, evaluated in await _evaluated(session, batch, language):
            found[row["unit_id"]] = _attainment(
                row, evaluated.criteria_set.code, evaluated.summary.criteria_total,
                evaluated.summary.criteria_met,
                tuple(CriterionAttainment(c.number, c.name, c.status) for c in evaluated.criteria),
            )  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class _Shape:
    """A set's criteria as reports name them: one shared :class:`CriterionAttainment` per
    criterion and status, so that thousands of kept results build no objects of their own."""

    by_position: tuple[Mapping[CriterionStatus, CriterionAttainment], ...]

    @classmethod
    def of(cls, spec: engine.SetSpec) -> _Shape:
        return cls(
            tuple(
                {s: CriterionAttainment(c.number, c.name, s) for s in CriterionStatus}
                for c in spec.criteria
            )
        )

    def criteria(self, statuses: Sequence[CriterionStatus]) -> tuple[CriterionAttainment, ...]:
        return tuple(
            named[status] for named, status in zip(self.by_position, statuses, strict=True)
        )


def _attainment(
    row: RowMapping,
    code: str,
    total: int,
    met: int,
    criteria: tuple[CriterionAttainment, ...],
) -> Attainment:
    return Attainment(
        unit_id=row["unit_id"],
        assessment_id=row["id"],
        kind=AssessmentKind(row["kind"]),
        criteria_set_id=row["criteria_set_id"],
        criteria_set_code=code,
        updated_at=row["updated_at"],
        criteria_total=total,
        criteria_met=met,
        criteria=criteria,
    )


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
