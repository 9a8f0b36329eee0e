"""Request and response bodies of the assessments feature.

Hot responses (evaluation, gaps, comparisons) are built as plain dicts and sent with orjson; the
models below document them in OpenAPI and validate what clients send.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from app.core.types import IsoDate
from app.models.assessments import (
    AssessmentKind,
    AssessmentStatus,
    ConditionStatus,
    CriterionStatus,
    ImportJobStatus,
    IndicatorStatus,
    Judgement,
)

Year = Annotated[int, Field(ge=2000, le=2100, description="The year assessed.")]
Text = Annotated[str, Field(max_length=5000)]
RawValue = StrictBool | StrictInt | StrictFloat | StrictStr | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------


class AssessmentCreate(Strict):
    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id (offline creation); replays are not errors."
    )
    unit_id: uuid.UUID
    criteria_set_id: uuid.UUID
    year: Year
    kind: AssessmentKind
    note: Text | None = None


class AssessmentPatch(Strict):
    status: AssessmentStatus | None = Field(
        default=None, description="draft → submitted → locked; submitted → draft to reopen."
    )
    note: Text | None = None


class EvidenceRef(Strict):
    title: Annotated[str, Field(max_length=500)] | None = None
    url: Annotated[str, Field(max_length=2000)] | None = None
    document_id: uuid.UUID | None = None


class ValueIn(Strict):
    indicator_id: uuid.UUID | None = None
    indicator_code: Annotated[str, Field(max_length=20)] | None = None
    value: RawValue = Field(
        description="A number, true/false, or a judgement (met, basically_met, not_met); "
        "null removes the value."
    )
    note: Text | None = None
    judgement_reason: Text | None = Field(
        default=None, description="Required for a judgement of basically_met or not_met."
    )
    evidence: list[EvidenceRef] | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _one_indicator(self) -> ValueIn:
        if (self.indicator_id is None) == (self.indicator_code is None):
            raise ValueError("give exactly one of indicator_id and indicator_code")
        return self


class ValuesPut(Strict):
    values: list[ValueIn] = Field(max_length=2000)


class JudgementIn(Strict):
    criterion_id: uuid.UUID | None = None
    criterion_number: int | None = None
    status: Judgement | None = Field(description="null withdraws the judgement.")
    reason: Text | None = Field(default=None, description="Required unless withdrawing.")

    @model_validator(mode="after")
    def _one_criterion(self) -> JudgementIn:
        if (self.criterion_id is None) == (self.criterion_number is None):
            raise ValueError("give exactly one of criterion_id and criterion_number")
        return self


class JudgementsPut(Strict):
    judgements: list[JudgementIn] = Field(max_length=200)


class ConditionIn(Strict):
    code: Annotated[str, Field(max_length=64)]
    value: StrictBool | StrictInt | StrictFloat | None = Field(
        description="A rate in % or true/false, as the set defines the condition; null removes."
    )
    note: Text | None = None
    evidence: list[EvidenceRef] | None = Field(default=None, max_length=50)


class ConditionsPut(Strict):
    conditions: list[ConditionIn] = Field(max_length=50)


# --- responses --------------------------------------------------------------------------------


class UnitRef(BaseModel):
    id: uuid.UUID
    code: str | None = None
    name: str | None = None
    level: str | None = None


class Assessment(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    criteria_set_id: uuid.UUID
    year: int
    kind: AssessmentKind
    status: AssessmentStatus
    note: str | None
    revision: int
    created_at: datetime
    updated_at: datetime
    created_by_name: str | None
    updated_by_name: str | None
    submitted_at: datetime | None
    locked_at: datetime | None
    evaluation: EvaluationSummary | None = Field(
        default=None, description="Only with `include=evaluation`."
    )


class AssessmentPage(BaseModel):
    items: list[Assessment]
    next_cursor: str | None


class ValueOut(BaseModel):
    indicator_id: uuid.UUID
    indicator_code: str | None
    value: bool | float | str | None
    note: str | None
    judgement_reason: str | None
    evidence: list[dict[str, Any]] | None
    entered_by_name: str | None
    entered_at: datetime
    source: str | None


class JudgementOut(BaseModel):
    criterion_id: uuid.UUID
    criterion_number: int | None
    status: Judgement
    reason: str
    judged_by_name: str | None
    judged_at: datetime


class ConditionOut(BaseModel):
    code: str
    value: bool | float | None
    note: str | None
    evidence: list[dict[str, Any]] | None
    entered_by_name: str | None
    entered_at: datetime


class Headline(BaseModel):
    criteria_total: int
    criteria_met: int
    criteria_basically_met: int
    criteria_not_met: int
    criteria_undetermined: int
    headline: str = Field(description='e.g. "đạt 17/19 tiêu chí".')
    indicators_total: int
    indicators_met: int
    indicators_missing: int


class TitleOutlook(BaseModel):
    title: str | None
    attainable: bool | None = Field(
        description="false when something checkable fails; null when all that can be checked "
        "is met but a prerequisite or condition cannot be verified yet."
    )
    blocking: list[str]
    unverified: list[str]


class EvaluationSummary(BaseModel):
    summary: Headline
    title: TitleOutlook
    falls_under_revocation_band: bool


class AssessmentDetail(Assessment):
    unit: UnitRef
    values: list[ValueOut]
    judgements: list[JudgementOut]
    conditions: list[ConditionOut]


class ValuesResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    deleted: int
    revision: int


class HistoryVersion(BaseModel):
    indicator_id: uuid.UUID
    indicator_code: str | None
    value: bool | float | str | None
    note: str | None
    judgement_reason: str | None
    entered_by_name: str | None
    entered_at: datetime
    source: str | None
    superseded_at: datetime | None = Field(description="null for the current value.")
    superseded_by_name: str | None
    change: str | None = Field(description="update or delete; null for the current value.")


class History(BaseModel):
    assessment_id: uuid.UUID
    items: list[HistoryVersion]


class IndicatorResult(BaseModel):
    indicator_id: uuid.UUID
    code: str
    name: str
    kind: str
    unit: str | None
    comparator: str | None
    value: bool | float | str | None
    threshold: bool | float | None
    threshold_reason: str | None
    threshold_basis: dict[str, Any] | None = None
    status: IndicatorStatus
    reason: str | None
    distance: float | None = Field(description="How far a number is from its threshold.")


class CriterionResult(BaseModel):
    criterion_id: uuid.UUID
    number: int
    name: str
    group: str | None
    rule: str
    computed_status: CriterionStatus
    status: CriterionStatus
    reason: str | None
    judgement: dict[str, Any] | None
    indicators: list[IndicatorResult]


class ConditionResult(BaseModel):
    code: str
    name: str
    kind: str
    comparator: str | None
    threshold: bool | float | None
    value: bool | float | None
    status: ConditionStatus
    reason: str | None


class Evaluation(BaseModel):
    assessment_id: uuid.UUID
    revision: int
    unit: UnitRef
    year: int
    kind: AssessmentKind
    status: AssessmentStatus
    thresholds_context: dict[str, Any] = Field(
        description="What picked the thresholds: region, classifications, commune group."
    )
    criteria_set: dict[str, Any]
    summary: Headline
    title: TitleOutlook
    criteria: list[CriterionResult]
    conditions: list[ConditionResult]
    prerequisites: list[dict[str, Any]]
    revocation: dict[str, Any]


class Gap(BaseModel):
    criterion_id: uuid.UUID
    number: int
    name: str
    status: CriterionStatus
    reason: str | None
    indicators: list[dict[str, Any]]


class Gaps(BaseModel):
    assessment_id: uuid.UUID
    title: str | None
    summary: Headline
    criteria: list[Gap]
    conditions: list[ConditionResult]
    prerequisites: list[dict[str, Any]]


class CriterionChange(BaseModel):
    number: int
    name: str
    a: CriterionStatus | None
    b: CriterionStatus | None
    changed: bool
    direction: str = Field(description="improved, worsened, changed or unchanged.")
    indicators: list[dict[str, Any]]


class Comparison(BaseModel):
    unit: UnitRef
    same_criteria_set: bool
    a: dict[str, Any]
    b: dict[str, Any]
    criteria: list[CriterionChange]
    changed: int


class RejectedRow(BaseModel):
    row: int | None
    column: str | None = None
    field: str | None = None
    value: Any = None
    message: str


class RejectionGroup(BaseModel):
    code: str
    count: int
    rows: list[RejectedRow]
    truncated: bool = False


class ImportSummary(BaseModel):
    import_id: uuid.UUID
    format: str | None
    layout: str | None
    dry_run: bool
    mode: str
    partial: bool
    written: bool
    rows: int = Field(description="Values read from the file (a wide row holds several).")
    created: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    assessments_created: int
    assessments_touched: int
    errors: list[RejectionGroup]
    duration_ms: float | None = None


class ImportJob(BaseModel):
    id: uuid.UUID
    status: ImportJobStatus
    criteria_set_id: uuid.UUID
    params: dict[str, Any]
    filename: str | None
    rows_estimated: int | None
    rows_processed: int
    summary: ImportSummary | None
    error: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TemplateQuery(Strict):
    criteria_set_id: uuid.UUID
    unit_id: uuid.UUID
    year: Year
    kind: AssessmentKind = AssessmentKind.SELF_ASSESSMENT
    as_of: IsoDate | None = None


Assessment.model_rebuild()
AssessmentDetail.model_rebuild()
