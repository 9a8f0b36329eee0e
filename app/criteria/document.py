"""The criteria-set document (``ntm.criteria-set/1``): bundled data, export and import share it.

Validation is strict: unknown keys are rejected and numbers, booleans and years are never coerced
from strings. Checks that need the whole document (duplicates, references, regions, commune
groups) live in ``app.criteria.validation`` so that they answer with their own stable codes.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    WithJsonSchema,
    model_validator,
)

from app.core.types import IsoDate
from app.models.enums import (
    Comparator,
    Confidence,
    CriterionRule,
    IndicatorKind,
    PrerequisiteKind,
    Region,
    Title,
    UnitLevel,
)

FORMAT: Literal["ntm.criteria-set/1"] = "ntm.criteria-set/1"

ThresholdClassification = Literal["especially_difficult", "safe_zone"]
Number = StrictInt | StrictFloat
Value = StrictBool | StrictInt | StrictFloat
# Free text, but checked against Region by the validator so that the error has its own code.
RegionCode = Annotated[
    str, WithJsonSchema({"type": "string", "enum": [region.value for region in Region]})
]
Text = Annotated[str, Field(min_length=1, max_length=20000)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
SourceRef = Annotated[str, Field(min_length=1, max_length=64)]


class DocModel(BaseModel):
    # NaN and infinities are no threshold (and JSON cannot carry them back out).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Name(DocModel):
    vi: Annotated[str, Field(min_length=1, max_length=2000)]
    en: Annotated[str, Field(max_length=2000)] | None = None


class Period(DocModel):
    start_year: Annotated[StrictInt, Field(ge=1990, le=2100)]
    end_year: Annotated[StrictInt, Field(ge=1990, le=2100)]

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start_year > self.end_year:
            raise ValueError("start_year must not be after end_year")
        return self


class LegalBasis(DocModel):
    number: Annotated[str, Field(min_length=1, max_length=100)]
    date: IsoDate | None = None
    issuer: ShortText | None = None
    signer: ShortText | None = None
    title: Text | None = None
    url: Annotated[str, Field(max_length=2000)] | None = None


class NationalScope(DocModel):
    kind: Literal["national"]


class ProvinceScope(DocModel):
    """A province, by id or by its code as of a date (codes are reused: the date matters)."""

    kind: Literal["province"]
    unit_id: uuid.UUID | None = None
    unit_code: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    as_of: IsoDate | None = None

    @model_validator(mode="after")
    def _identified(self) -> ProvinceScope:
        if self.unit_id is None and self.unit_code is None:
            raise ValueError("a province scope needs unit_id or unit_code")
        return self


Scope = Annotated[NationalScope | ProvinceScope, Field(discriminator="kind")]


class Source(DocModel):
    id: SourceRef
    title: Text
    url: Annotated[str, Field(max_length=2000)] | None = None
    confidence: Confidence | None = None


class ApplicabilityRule(DocModel):
    """E.g. especially difficult communes use the TDMNPB column (318/QĐ-TTg art. 1)."""

    if_classification: ThresholdClassification
    use_region: RegionCode
    note: Text | None = None
    source: SourceRef | None = None


class Group(DocModel):
    code: Annotated[str, Field(min_length=1, max_length=20)]
    name: Name
    confidence: Confidence | None = None


class RuleAll(DocModel):
    kind: Literal[CriterionRule.ALL]


class RuleAny(DocModel):
    kind: Literal[CriterionRule.ANY]


class RuleJudgement(DocModel):
    """The appraiser assesses the criterion as a whole (its indicators are not all known)."""

    kind: Literal[CriterionRule.JUDGEMENT]


class RuleAtLeast(DocModel):
    kind: Literal[CriterionRule.AT_LEAST]
    k: Annotated[StrictInt, Field(ge=1, le=1000)]


Rule = Annotated[RuleAll | RuleAny | RuleJudgement | RuleAtLeast, Field(discriminator="kind")]


class When(DocModel):
    """Dimensions of a threshold; an absent key matches any unit. ``{}`` is the default value."""

    region: RegionCode | None = None
    year: Annotated[StrictInt, Field(ge=1990, le=2100)] | None = None
    commune_group: StrictInt | None = None
    classification: ThresholdClassification | None = None


class Threshold(DocModel):
    value: Value
    when: When = Field(default_factory=When)
    source: SourceRef | None = None
    confidence: Confidence | None = None
    note: Text | None = None
    # The document that set this value; for a province's override, its decision.
    legal_basis: LegalBasis | None = None


class IndicatorDocument(DocModel):
    code: Annotated[str, Field(min_length=1, max_length=20)]
    name: Name
    kind: IndicatorKind
    unit: Annotated[str, Field(max_length=100)] | None = None
    comparator: Comparator | None = None
    value_min: Number | None = None
    value_max: Number | None = None
    thresholds: Annotated[list[Threshold], Field(max_length=500)] = Field(default_factory=list)
    left_to_province: StrictBool = False
    source: SourceRef | None = None
    confidence: Confidence | None = None
    note: Text | None = None


class CriterionDocument(DocModel):
    number: Annotated[StrictInt, Field(ge=1, le=1000)]
    group: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    name: Name
    rule: Rule = Field(default_factory=lambda: RuleAll(kind=CriterionRule.ALL))
    source: SourceRef | None = None
    confidence: Confidence | None = None
    note: Text | None = None
    indicators: Annotated[list[IndicatorDocument], Field(max_length=500)] = Field(
        default_factory=list
    )


class Condition(DocModel):
    """A recognition condition that is not an indicator (18/2022/QĐ-TTg art. 4)."""

    code: Annotated[str, Field(min_length=1, max_length=64)]
    name: Name
    kind: IndicatorKind
    unit: Annotated[str, Field(max_length=100)] | None = None
    comparator: Comparator | None = None
    threshold: Value | None = None
    left_to_province: StrictBool = False
    source: SourceRef | None = None
    confidence: Confidence | None = None
    note: Text | None = None


class _Prerequisite(DocModel):
    source: SourceRef | None = None
    note: Text | None = None
    left_to_province: StrictBool = False


class TitlePrerequisite(_Prerequisite):
    kind: Literal[PrerequisiteKind.TITLE]
    title: Title


class IncomeRatioPrerequisite(_Prerequisite):
    """Income at least ``ratio`` times the threshold of ``indicator`` for ``of_title``."""

    kind: Literal[PrerequisiteKind.INCOME_RATIO]
    indicator: Annotated[str, Field(min_length=1, max_length=20)]
    of_title: Title
    ratio: Annotated[Number, Field(gt=0, le=100)]


class SmartVillagePrerequisite(_Prerequisite):
    kind: Literal[PrerequisiteKind.SMART_VILLAGE]
    min_count: Annotated[StrictInt, Field(ge=1, le=1000)]


class OutstandingFieldPrerequisite(_Prerequisite):
    kind: Literal[PrerequisiteKind.OUTSTANDING_FIELD]


class SubunitsWithTitlePrerequisite(_Prerequisite):
    kind: Literal[PrerequisiteKind.SUBUNITS_WITH_TITLE]
    level: UnitLevel
    title: Title
    share: Annotated[Number, Field(gt=0, le=1)]


Prerequisite = Annotated[
    TitlePrerequisite
    | IncomeRatioPrerequisite
    | SmartVillagePrerequisite
    | OutstandingFieldPrerequisite
    | SubunitsWithTitlePrerequisite,
    Field(discriminator="kind"),
]


class RevocationBand(DocModel):
    """Revoked when the failing share is in ``[min, max)`` and, if given, one of these fails."""

    min_failing_share: Annotated[Number, Field(ge=0, le=1)]
    max_failing_share: Annotated[Number, Field(ge=0, le=1)] | None = None
    requires_failing_criterion: list[StrictInt] | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RevocationBand:
        if self.max_failing_share is not None and self.max_failing_share <= self.min_failing_share:
            raise ValueError("max_failing_share must be greater than min_failing_share")
        return self


class Revocation(DocModel):
    bands: list[RevocationBand] = Field(default_factory=list)
    source: SourceRef | None = None
    note: Text | None = None


class CriteriaSetDocument(DocModel):
    """A whole criteria set, as bundled, exported and imported."""

    format: Literal["ntm.criteria-set/1"] = FORMAT
    code: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
    name: Name
    title: Title
    level: UnitLevel
    period: Period
    legal_basis: LegalBasis
    scope: Scope = Field(default_factory=lambda: NationalScope(kind="national"))
    derived_from: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    amends: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    complete: StrictBool = False
    applicability_rules: list[ApplicabilityRule] = Field(default_factory=list)
    sources: Annotated[list[Source], Field(max_length=1000)] = Field(default_factory=list)
    groups: Annotated[list[Group], Field(max_length=100)] = Field(default_factory=list)
    criteria: Annotated[list[CriterionDocument], Field(max_length=200)] = Field(
        default_factory=list
    )
    conditions: Annotated[list[Condition], Field(max_length=100)] = Field(default_factory=list)
    prerequisites: Annotated[list[Prerequisite], Field(max_length=100)] = Field(
        default_factory=list
    )
    revocation: Revocation | None = None


def stored(items: list[Any]) -> list[dict[str, Any]]:
    """JSON parts as the document gave them (keys it left out stay out, so exports match)."""
    return [item.model_dump(mode="json", exclude_unset=True) for item in items]
