"""Request and response bodies of the assessments feature.

Hot responses (evaluation, gaps, comparisons) are rendered from the engine's typed results as
plain dicts (``app.assessments.present``) and sent with orjson; the models below document them
in OpenAPI (the suite checks every body against the document) and validate what clients send.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
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

from app.core.pagination import TOTAL_DESCRIPTION
from app.core.problem import FieldError
from app.core.types import IsoDate
from app.models.enums import (
    AssessmentKind,
    AssessmentStatus,
    ConditionStatus,
    CriterionStatus,
    Direction,
    ImportJobStatus,
    IndicatorStatus,
    Judgement,
    PrerequisiteStatus,
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


class ParentUnit(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    level: str


class AssessedUnit(BaseModel):
    """The assessed unit as it stood in the assessment's year (its map, not today's)."""

    id: uuid.UUID
    code: str
    name: str
    level: str
    as_of: date = Field(description="The day the unit and its parents are read on.")
    parents: list[ParentUnit] = Field(
        description="Its parents on that day, nearest first (district, then province)."
    )


class AssessmentListItem(Assessment):
    unit: AssessedUnit | None = Field(
        description="null only when the unit had no version in the assessment's year."
    )


class AssessmentPage(BaseModel):
    items: list[AssessmentListItem]
    next_cursor: str | None
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


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
    headline: str = Field(
        description='"đạt 17/19 tiêu chí" (vi), "17/19 criteria met" (en): by Accept-Language.'
    )
    indicators_total: int
    indicators_met: int
    indicators_missing: int


class TitleOutlook(BaseModel):
    title: str | None
    attainable: bool | None = Field(
        description="false when something checkable fails; null when all that can be checked "
        "is met but a prerequisite or condition cannot be verified yet."
    )
    blocking: list[str] = Field(
        description="Why the title is out of reach, in the language of Accept-Language: "
        "criteria not met, undetermined and only basically met are counted apart."
    )
    unverified: list[str] = Field(description="Codes of conditions and prerequisites.")


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


class CriterionJudgement(BaseModel):
    """A reviewer's judgement of the whole criterion, which decides its status."""

    status: Judgement
    reason: str
    judged_by: str | None
    judged_at: datetime | None


class CriterionResult(BaseModel):
    criterion_id: uuid.UUID
    number: int
    name: str
    group: str | None
    rule: str = Field(description="all, any, at_least_<k> or judgement.")
    computed_status: CriterionStatus = Field(description="From the indicators alone.")
    status: CriterionStatus = Field(description="The judgement's status where one is recorded.")
    reason: str | None = Field(description="In the language of Accept-Language.")
    judgement: CriterionJudgement | None
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


class PrerequisiteResult(BaseModel):
    kind: str
    description: str = Field(description="In the language of Accept-Language.")
    data: dict[str, Any] = Field(description="The prerequisite as the set states it.")
    status: PrerequisiteStatus
    reason: str


class RevocationBandMatch(BaseModel):
    min_failing_share: float
    max_failing_share: float | None
    requires_failing_criterion: list[int]
    key_criteria_failing: list[int]


class RevocationOutlook(BaseModel):
    """Whether the failing criteria fall under a revocation band of the set (18/2022/QĐ-TTg)."""

    bands_defined: bool
    failing_criteria: list[int]
    failing_share: float
    falls_under_band: bool
    band: RevocationBandMatch | None
    unit_holds_title: bool | None = Field(
        description="Whether the register of titles shows the unit holding the set's title "
        "on the assessment's date; null when the set names no title."
    )
    reason: str
    note: str | None


class ThresholdsContext(BaseModel):
    """What picked the thresholds: the date the unit is read at, its region (and why), its
    classifications and commune group, its province."""

    as_of: IsoDate
    region: str | None
    region_reason: dict[str, Any] | None
    classifications: list[str]
    commune_group: int | None
    province: dict[str, Any] | None


class EvaluatedSet(BaseModel):
    id: uuid.UUID
    code: str
    title: str | None
    criteria_count: int


class Evaluation(BaseModel):
    assessment_id: uuid.UUID
    revision: int
    unit: UnitRef
    year: int
    kind: AssessmentKind
    status: AssessmentStatus
    thresholds_context: ThresholdsContext
    criteria_set: EvaluatedSet
    summary: Headline
    title: TitleOutlook
    criteria: list[CriterionResult]
    conditions: list[ConditionResult]
    prerequisites: list[PrerequisiteResult]
    revocation: RevocationOutlook


class GapIndicator(BaseModel):
    indicator_id: uuid.UUID
    code: str
    name: str
    status: IndicatorStatus
    value: bool | float | str | None
    threshold: bool | float | None
    comparator: str | None
    unit: str | None
    distance: float | None = Field(description="How far a number is from its threshold.")
    reason: str | None


class Gap(BaseModel):
    criterion_id: uuid.UUID
    number: int
    name: str
    status: CriterionStatus
    reason: str | None
    indicators: list[GapIndicator] = Field(description="The indicators that are not met.")


class Gaps(BaseModel):
    assessment_id: uuid.UUID
    title: str | None
    summary: Headline
    criteria: list[Gap]
    conditions: list[ConditionResult]
    prerequisites: list[PrerequisiteResult]


class IndicatorSide(BaseModel):
    value: bool | float | str | None
    status: IndicatorStatus


class IndicatorChange(BaseModel):
    code: str
    a: IndicatorSide | None
    b: IndicatorSide | None


class CriterionChange(BaseModel):
    number: int
    name: str
    a: CriterionStatus | None
    b: CriterionStatus | None
    changed: bool
    direction: Direction
    indicators: list[IndicatorChange] = Field(
        description="Indicators whose value or status differs."
    )


class ComparisonSide(BaseModel):
    assessment_id: uuid.UUID
    year: int
    kind: AssessmentKind
    status: AssessmentStatus
    criteria_set: EvaluatedSet
    summary: Headline


class Comparison(BaseModel):
    unit: UnitRef
    same_criteria_set: bool
    a: ComparisonSide
    b: ComparisonSide
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
    rejections: list[RejectionGroup] = Field(
        description="The refused rows, grouped by the reason's code (most frequent first)."
    )
    duration_ms: float | None = None


class ImportRejected(ImportSummary):
    """422 ``import_rejected``: a problem (RFC 9457) that also carries the import's summary. Its
    ``errors`` are the first refused rows as field errors (``loc``: ``body``, the row, the field);
    ``rejections`` has them all, grouped."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldError]


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
