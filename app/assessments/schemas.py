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
    """A new assessment (đánh giá) of one unit against one criteria set for one year, at one
    step (`kind`). There is one per (unit, set, year, kind): another answers 409
    `assessment_exists` with its id. Sending the same `id` and body again answers the existing
    one (200)."""

    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id (offline creation); replays are not errors."
    )
    unit_id: uuid.UUID = Field(description="The unit assessed, at the set's level.")
    criteria_set_id: uuid.UUID = Field(description="A published set covering `year`.")
    year: Year
    kind: AssessmentKind
    note: Text | None = None


class AssessmentPatch(Strict):
    """Changes to an assessment: its status (moved by the lifecycle's transitions) or its note."""

    status: AssessmentStatus | None = Field(
        default=None, description="draft → submitted → locked; submitted → draft to reopen."
    )
    note: Text | None = None


class EvidenceRef(Strict):
    """What supports a value: a document's title, a link, or the id of a stored document."""

    title: Annotated[str, Field(max_length=500)] | None = None
    url: Annotated[str, Field(max_length=2000)] | None = None
    document_id: uuid.UUID | None = Field(default=None, description="A stored document's id.")


class ValueIn(Strict):
    """The value of one indicator, named by its id or by its code (`2.1`) in the assessment's
    set."""

    indicator_id: uuid.UUID | None = Field(default=None, description="Or `indicator_code`.")
    indicator_code: Annotated[str, Field(max_length=20)] | None = Field(
        default=None, description="The indicator's code in the set, e.g. `2.1`; or `indicator_id`."
    )
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
    """Values of some indicators of the assessment; indicators not listed keep theirs."""

    values: list[ValueIn] = Field(max_length=2000)


class JudgementIn(Strict):
    """An appraiser's judgement of a whole criterion (named by id or by number), which decides
    its status."""

    criterion_id: uuid.UUID | None = Field(default=None, description="Or `criterion_number`.")
    criterion_number: int | None = Field(
        default=None, description="The criterion's number in the set, e.g. 17; or `criterion_id`."
    )
    status: Judgement | None = Field(description="null withdraws the judgement.")
    reason: Text | None = Field(default=None, description="Required unless withdrawing.")

    @model_validator(mode="after")
    def _one_criterion(self) -> JudgementIn:
        if (self.criterion_id is None) == (self.criterion_number is None):
            raise ValueError("give exactly one of criterion_id and criterion_number")
        return self


class JudgementsPut(Strict):
    """Judgements of some criteria; criteria not listed keep theirs."""

    judgements: list[JudgementIn] = Field(max_length=200)


class ConditionIn(Strict):
    """The value of one recognition condition of the set (e.g. `resident_satisfaction`, the
    residents' satisfaction rate in %, 18/2022/QĐ-TTg art. 4)."""

    code: Annotated[str, Field(max_length=64)] = Field(
        description="The condition's code in the set, e.g. `resident_satisfaction`."
    )
    value: StrictBool | StrictInt | StrictFloat | None = Field(
        description="A rate in % or true/false, as the set defines the condition; null removes."
    )
    note: Text | None = None
    evidence: list[EvidenceRef] | None = Field(default=None, max_length=50)


class ConditionsPut(Strict):
    """Values of some recognition conditions; conditions not listed keep theirs."""

    conditions: list[ConditionIn] = Field(max_length=50)


# --- responses --------------------------------------------------------------------------------


class UnitRef(BaseModel):
    """The assessed unit by its id, code, name and level (as of the assessment's year)."""

    id: uuid.UUID
    code: str | None = Field(default=None, description="null: no version in that year.")
    name: str | None = None
    level: str | None = Field(default=None, description="province, district, commune, village.")


class Assessment(BaseModel):
    """An assessment of one unit against one criteria set for one year, at one step (`kind`) of
    the recognition procedure (18/2022/QĐ-TTg). `revision` goes up with every write (values
    included); the ETag names it."""

    id: uuid.UUID
    unit_id: uuid.UUID
    criteria_set_id: uuid.UUID
    year: int = Field(description="The year assessed (the figures are for that year).")
    kind: AssessmentKind
    status: AssessmentStatus
    note: str | None
    revision: int = Field(description="Goes up with every write of the assessment or its values.")
    created_at: datetime
    updated_at: datetime
    created_by_name: str | None = Field(description="Who created it (username or client name).")
    updated_by_name: str | None = Field(description="Who wrote it last.")
    submitted_at: datetime | None = Field(description="null: not submitted (or reopened).")
    locked_at: datetime | None = Field(description="null: not locked.")
    evaluation: EvaluationSummary | None = Field(
        default=None, description="Only with `include=evaluation`."
    )


class ParentUnit(BaseModel):
    """A unit above the assessed one, as it stood in the assessment's year."""

    id: uuid.UUID
    code: str
    name: str
    level: str = Field(description="province or district.")


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
    """An assessment in a list, with its unit and the unit's parents as of the assessment's
    year."""

    unit: AssessedUnit | None = Field(
        description="null only when the unit had no version in the assessment's year."
    )


class AssessmentPage(BaseModel):
    """One page of assessments. Ask for the next page with `cursor=<next_cursor>`; null on the
    last page."""

    items: list[AssessmentListItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


class ValueOut(BaseModel):
    """The current value of one indicator, with who entered it and when."""

    indicator_id: uuid.UUID
    indicator_code: str | None
    value: bool | float | str | None = Field(
        description="A number (in the indicator's unit), true/false, or a judgement (`met`, "
        "`basically_met`, `not_met`)."
    )
    note: str | None
    judgement_reason: str | None = Field(description="Why a judgement is not `met`.")
    evidence: list[dict[str, Any]] | None = Field(description="EvidenceRef objects as sent.")
    entered_by_name: str | None
    entered_at: datetime
    source: str | None = Field(description="How it was entered: `api`, or `import:<id>`.")


class JudgementOut(BaseModel):
    """The current judgement of one criterion, with who made it and when."""

    criterion_id: uuid.UUID
    criterion_number: int | None
    status: Judgement
    reason: str = Field(description="The appraiser's reasons, as entered.")
    judged_by_name: str | None
    judged_at: datetime


class ConditionOut(BaseModel):
    """The current value of one recognition condition, with who entered it and when."""

    code: str
    value: bool | float | None = Field(description="A rate in %, or true/false.")
    note: str | None
    evidence: list[dict[str, Any]] | None
    entered_by_name: str | None
    entered_at: datetime


class Headline(BaseModel):
    """The counts behind the headline "đạt N/M tiêu chí" (N of M criteria met). Not met and
    undetermined are counted apart."""

    criteria_total: int = Field(description="Criteria in the set (M).")
    criteria_met: int = Field(description="Met (đạt): N of the headline.")
    criteria_basically_met: int = Field(description="Basically met (cơ bản đạt).")
    criteria_not_met: int = Field(description="Not met (chưa đạt).")
    criteria_undetermined: int = Field(
        description="Not decidable yet: a value is missing or no threshold applies."
    )
    headline: str = Field(
        description='"đạt 17/19 tiêu chí" (vi), "17/19 criteria met" (en): by Accept-Language.'
    )
    indicators_total: int
    indicators_met: int
    indicators_missing: int = Field(description="Indicators without a value yet.")


class TitleOutlook(BaseModel):
    """Whether the set's title (e.g. NTM commune) is within reach on these values, and what
    blocks it."""

    title: str | None = Field(description="The title's label, in the caller's language.")
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
    """An assessment's evaluation in brief: the headline counts, the title outlook and whether
    the failing criteria fall under a revocation band."""

    summary: Headline
    title: TitleOutlook
    falls_under_revocation_band: bool = Field(
        description="The failing criteria would revoke a recognition (thu hồi, 18/2022/QĐ-TTg)."
    )


class AssessmentDetail(Assessment):
    """An assessment with its current values, judgements and condition values."""

    unit: UnitRef
    values: list[ValueOut]
    judgements: list[JudgementOut]
    conditions: list[ConditionOut]


class ValuesResult(BaseModel):
    """What a PUT of values did, by count, and the assessment's new revision."""

    created: int = Field(description="Indicators that had no value.")
    updated: int = Field(description="Values changed (the old one goes to the history).")
    unchanged: int = Field(description="Sent as they already were: nothing written.")
    deleted: int = Field(description="Values removed (sent as null).")
    revision: int = Field(description="The assessment's revision after the write.")


class HistoryVersion(BaseModel):
    """One version of an indicator's value: the current one, or an earlier one with who
    replaced or removed it and when."""

    indicator_id: uuid.UUID
    indicator_code: str | None
    value: bool | float | str | None
    note: str | None
    judgement_reason: str | None
    entered_by_name: str | None
    entered_at: datetime
    source: str | None
    superseded_at: datetime | None = Field(description="null for the current value.")
    superseded_by_name: str | None = Field(description="Who replaced or removed it.")
    change: str | None = Field(description="update or delete; null for the current value.")


class History(BaseModel):
    """Every version of the values of an assessment: per indicator, oldest first, the current
    one last."""

    assessment_id: uuid.UUID
    items: list[HistoryVersion]


class IndicatorResult(BaseModel):
    """How one indicator fares: its value against the threshold that applies to the unit in the
    year."""

    indicator_id: uuid.UUID
    code: str
    name: str
    kind: str = Field(description="number, boolean or judgement.")
    unit: str | None = Field(description="Unit of measure, e.g. `%`.")
    comparator: str | None = Field(description="`ge` (≥), `le` (≤) or `eq`.")
    value: bool | float | str | None = Field(description="The value entered; null: missing.")
    threshold: bool | float | None = Field(description="The threshold applied; null: none.")
    threshold_reason: str | None = Field(
        description="Why this threshold (or why none), in the caller's language."
    )
    threshold_basis: dict[str, Any] | None = Field(
        default=None, description="The set's row that matched and its legal basis."
    )
    status: IndicatorStatus
    reason: str | None = Field(description="The status as a sentence, in the caller's language.")
    distance: float | None = Field(description="How far a number is from its threshold.")


class CriterionJudgement(BaseModel):
    """A reviewer's judgement of the whole criterion, which decides its status."""

    status: Judgement
    reason: str
    judged_by: str | None
    judged_at: datetime | None


class CriterionResult(BaseModel):
    """How one criterion fares: its status from its indicators (or a judgement) and why."""

    criterion_id: uuid.UUID
    number: int
    name: str
    group: str | None = Field(description="Code of its group.")
    rule: str = Field(description="all, any, at_least_<k> or judgement.")
    computed_status: CriterionStatus = Field(description="From the indicators alone.")
    status: CriterionStatus = Field(description="The judgement's status where one is recorded.")
    reason: str | None = Field(description="In the language of Accept-Language.")
    judgement: CriterionJudgement | None = Field(description="null: not judged.")
    indicators: list[IndicatorResult]


class ConditionResult(BaseModel):
    """How one recognition condition fares (e.g. residents' satisfaction)."""

    code: str
    name: str
    kind: str = Field(description="number or boolean.")
    comparator: str | None = Field(description="`ge` (≥), `le` (≤) or `eq`.")
    threshold: bool | float | None = Field(description="null: the province has not set it.")
    value: bool | float | None = Field(description="null: not entered.")
    status: ConditionStatus
    reason: str | None = Field(description="In the caller's language.")


class PrerequisiteResult(BaseModel):
    """How one prerequisite of the title fares (e.g. holding the NTM title before the advanced
    one)."""

    kind: str = Field(
        description="title, income_ratio, smart_village, outstanding_field, subunits_with_title."
    )
    description: str = Field(description="In the language of Accept-Language.")
    data: dict[str, Any] = Field(description="The prerequisite as the set states it.")
    status: PrerequisiteStatus
    reason: str = Field(description="In the caller's language.")


class RevocationBandMatch(BaseModel):
    """The revocation band the failing criteria fall in (18/2022/QĐ-TTg: ≥ 50 % failing, or 30
    %–<50 % with a key criterion failing)."""

    min_failing_share: float = Field(description="Lower bound, a fraction (0.3 = 30 %), included.")
    max_failing_share: float | None = Field(description="Upper bound, excluded; null: none.")
    requires_failing_criterion: list[int] = Field(
        description="Key criteria of the band (numbers); empty: any criterion counts."
    )
    key_criteria_failing: list[int] = Field(description="Those of them failing here.")


class RevocationOutlook(BaseModel):
    """Whether the failing criteria fall under a revocation band of the set (18/2022/QĐ-TTg)."""

    bands_defined: bool = Field(description="The set states its revocation bands.")
    failing_criteria: list[int] = Field(description="Numbers of the criteria not met.")
    failing_share: float = Field(description="Their share of the set's criteria, a fraction.")
    falls_under_band: bool = Field(description="A band matches: a recognition would be revoked.")
    band: RevocationBandMatch | None = Field(description="The band that matches; null: none.")
    unit_holds_title: bool | None = Field(
        description="Whether the register of titles shows the unit holding the set's title "
        "on the assessment's date; null when the set names no title."
    )
    reason: str = Field(description="In the caller's language.")
    note: str | None


class ThresholdsContext(BaseModel):
    """What picked the thresholds: the date the unit is read at, its region (and why), its
    classifications and commune group, its province."""

    as_of: IsoDate = Field(description="The date the unit and its classifications are read at.")
    region: str | None = Field(
        description="The region column read (one of the 7 of 318/QĐ-TTg); null: unknown."
    )
    region_reason: dict[str, Any] | None = Field(
        description="Why that region: the province's classification, or an applicability rule."
    )
    classifications: list[str] = Field(
        description="The unit's classifications that pick thresholds (e.g. `especially_difficult`)."
    )
    commune_group: int | None = Field(
        description="Nhóm xã 1, 2 or 3 (51/2025/QĐ-TTg); null: not classified."
    )
    province: dict[str, Any] | None = Field(description="The unit's province on `as_of`.")


class EvaluatedSet(BaseModel):
    """The criteria set an assessment is evaluated against."""

    id: uuid.UUID
    code: str
    title: str | None = Field(description="The title's label, in the caller's language.")
    criteria_count: int


class Evaluation(BaseModel):
    """An assessment evaluated against its criteria set: every criterion, indicator, condition
    and prerequisite with its status and reason, the headline and the title outlook. Sentences
    are in the caller's language (Accept-Language)."""

    assessment_id: uuid.UUID
    revision: int = Field(description="The assessment's revision evaluated.")
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
    """An indicator that is not met (or not known), with how far its value is from the
    threshold."""

    indicator_id: uuid.UUID
    code: str
    name: str
    status: IndicatorStatus
    value: bool | float | str | None = Field(description="null: missing.")
    threshold: bool | float | None = Field(description="null: none applies.")
    comparator: str | None = Field(description="`ge` (≥), `le` (≤) or `eq`.")
    unit: str | None = Field(description="Unit of measure, e.g. `%`.")
    distance: float | None = Field(description="How far a number is from its threshold.")
    reason: str | None = Field(description="In the caller's language.")


class Gap(BaseModel):
    """A criterion that is not met, and the indicators that keep it so."""

    criterion_id: uuid.UUID
    number: int
    name: str
    status: CriterionStatus
    reason: str | None = Field(description="In the caller's language.")
    indicators: list[GapIndicator] = Field(description="The indicators that are not met.")


class Gaps(BaseModel):
    """What separates a unit from the title: the criteria, conditions and prerequisites not met
    yet."""

    assessment_id: uuid.UUID
    title: str | None = Field(description="The title's label, in the caller's language.")
    summary: Headline
    criteria: list[Gap] = Field(description="Criteria not met (or undetermined).")
    conditions: list[ConditionResult]
    prerequisites: list[PrerequisiteResult]


class IndicatorSide(BaseModel):
    """An indicator's value and status in one of the two assessments compared."""

    value: bool | float | str | None
    status: IndicatorStatus


class IndicatorChange(BaseModel):
    """An indicator whose value or status differs between the two assessments (`a`, `b`; null:
    absent on that side)."""

    code: str
    a: IndicatorSide | None
    b: IndicatorSide | None


class CriterionChange(BaseModel):
    """A criterion's status in the two assessments compared, and which way it moved."""

    number: int
    name: str
    a: CriterionStatus | None = Field(description="In assessment `a`; null: not in its set.")
    b: CriterionStatus | None = Field(description="In assessment `b`; null: not in its set.")
    changed: bool
    direction: Direction
    indicators: list[IndicatorChange] = Field(
        description="Indicators whose value or status differs."
    )


class ComparisonSide(BaseModel):
    """One of the two assessments compared, with its headline."""

    assessment_id: uuid.UUID
    year: int
    kind: AssessmentKind
    status: AssessmentStatus
    criteria_set: EvaluatedSet
    summary: Headline


class Comparison(BaseModel):
    """Two assessments of the same unit compared criterion by criterion (e.g. two years, or
    self-assessment and appraisal)."""

    unit: UnitRef
    same_criteria_set: bool = Field(
        description="false: criteria are matched by number across two sets."
    )
    a: ComparisonSide
    b: ComparisonSide
    criteria: list[CriterionChange]
    changed: int = Field(description="Criteria whose status differs.")


class RejectedRow(BaseModel):
    """A refused row of an import: where it is in the file and why."""

    row: int | None = Field(
        description="Spreadsheet row (the header is row 1) or JSON element; null: the file."
    )
    column: str | None = Field(default=None, description="Wide layout: the column's header.")
    field: str | None = Field(default=None, description="The field at fault, e.g. `unit_code`.")
    value: Any = Field(default=None, description="The offending value as read.")
    message: str = Field(description="Why it was refused, in the caller's language.")


class RejectionGroup(BaseModel):
    """Refused rows of an import sharing one reason (`code`)."""

    code: str = Field(description="The reason's stable code, e.g. `unit_not_found`.")
    count: int = Field(description="Rows refused for it.")
    rows: list[RejectedRow] = Field(description="Up to 1,000 of them.")
    truncated: bool = Field(default=False, description="true: more rows than listed.")


class ImportSummary(BaseModel):
    """What an indicator-values import did (or, in a dry run, would do), by count, with the
    refused rows grouped by reason (docs/assessments.md, "The status rule of every import")."""

    import_id: uuid.UUID = Field(description="Recorded as the `source` of the values written.")
    format: str | None = Field(description="csv, xlsx or json (JSON lines included), as detected.")
    layout: str | None = Field(description="long (a value per row) or wide (the template).")
    dry_run: bool = Field(description="true: nothing was written.")
    mode: str = Field(
        description="upsert, or replace (also removes the touched assessments' other values)."
    )
    partial: bool = Field(description="true: accepted rows are written even if some are refused.")
    written: bool = Field(description="Something was written.")
    rows: int = Field(description="Values read from the file (a wide row holds several).")
    created: int = Field(description="Values created.")
    updated: int = Field(description="Values changed.")
    unchanged: int = Field(description="Values already as sent.")
    deleted: int = Field(description="Values removed (mode replace).")
    rejected: int = Field(description="Values refused.")
    assessments_created: int = Field(description="Assessments created for the file's units.")
    assessments_touched: int = Field(description="Assessments with a value written.")
    rejections: list[RejectionGroup] = Field(
        description="The refused rows, grouped by the reason's code (most frequent first)."
    )
    duration_ms: float | None = Field(default=None, description="Time taken, in milliseconds.")


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
    """An import run in the background: its state, progress and, once finished, its summary or
    error. Poll `GET /import-jobs/{id}`."""

    id: uuid.UUID
    status: ImportJobStatus
    criteria_set_id: uuid.UUID
    params: dict[str, Any] = Field(description="The import's options as sent.")
    filename: str | None
    rows_estimated: int | None = Field(description="Values expected, from the file's size.")
    rows_processed: int = Field(description="Values read so far.")
    summary: ImportSummary | None = Field(description="Once finished; null before.")
    error: dict[str, Any] | None = Field(
        description="A failed job's problem (`code`, `detail`); null otherwise."
    )
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
