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
SourceRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A `sources[].id` of the set: the document the fact comes from.",
    ),
]


class DocModel(BaseModel):
    # NaN and infinities are no threshold (and JSON cannot carry them back out).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Name(DocModel):
    """A name in Vietnamese (`vi`, the official one) and, optionally, English (`en`). Labels
    are answered in the caller's language; Vietnamese when there is no English."""

    vi: Annotated[str, Field(min_length=1, max_length=2000)] = Field(description="Vietnamese.")
    en: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="English; null: not translated."
    )


class Period(DocModel):
    """The programme period a set belongs to, in calendar years, both included (e.g.
    2021–2025)."""

    start_year: Annotated[StrictInt, Field(ge=1990, le=2100)] = Field(description="Included.")
    end_year: Annotated[StrictInt, Field(ge=1990, le=2100)] = Field(description="Included.")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start_year > self.end_year:
            raise ValueError("start_year must not be after end_year")
        return self


class LegalBasis(DocModel):
    """The legal document a set or a threshold rests on, e.g. Decision 318/QĐ-TTg of 08/03/2022
    (QĐ-TTg: Quyết định của Thủ tướng Chính phủ, a decision of the Prime Minister; QĐ-UBND: of
    a provincial People's Committee)."""

    number: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="The document's number as written, e.g. `318/QĐ-TTg`."
    )
    date: IsoDate | None = Field(default=None, description="Date of signature.")
    issuer: ShortText | None = Field(default=None, description="e.g. `Thủ tướng Chính phủ`.")
    signer: ShortText | None = Field(default=None, description="Who signed it.")
    title: Text | None = Field(default=None, description="Its title (trích yếu).")
    url: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="Where to read it."
    )


class NationalScope(DocModel):
    """A set that applies to the whole country (the central sets of the Prime Minister's
    decisions)."""

    kind: Literal["national"]


class ProvinceScope(DocModel):
    """A province, by id or by its code as of a date (codes are reused: the date matters)."""

    kind: Literal["province"]
    unit_id: uuid.UUID | None = Field(default=None, description="The province's id.")
    unit_code: Annotated[str, Field(min_length=1, max_length=20)] | None = Field(
        default=None, description="Or its code (e.g. `24`), read on `as_of`."
    )
    as_of: IsoDate | None = Field(
        default=None,
        description="The date the code is read at; default: 1 January of the period's first year.",
    )

    @model_validator(mode="after")
    def _identified(self) -> ProvinceScope:
        if self.unit_id is None and self.unit_code is None:
            raise ValueError("a province scope needs unit_id or unit_code")
        return self


Scope = Annotated[NationalScope | ProvinceScope, Field(discriminator="kind")]


class Source(DocModel):
    """A document cited by the set's facts (their `source`): a legal text, an official report."""

    id: SourceRef = Field(description="Its key within the set, used by the facts' `source`.")
    title: Text
    url: Annotated[str, Field(max_length=2000)] | None = None
    confidence: Confidence | None = Field(default=None, description="How reliable the source is.")


class ApplicabilityRule(DocModel):
    """E.g. especially difficult communes use the TDMNPB column (318/QĐ-TTg art. 1)."""

    if_classification: ThresholdClassification = Field(
        description="The classification of the unit (`especially_difficult`, `safe_zone`)."
    )
    use_region: RegionCode = Field(description="The region column such a unit reads instead.")
    note: Text | None = None
    source: SourceRef | None = None


class Group(DocModel):
    """A group of criteria, as the decision orders them (e.g. Socio-economic infrastructure, hạ
    tầng kinh tế – xã hội)."""

    code: Annotated[str, Field(min_length=1, max_length=20)] = Field(
        description="Its key within the set, used by the criteria's `group`."
    )
    name: Name
    confidence: Confidence | None = None


class RuleAll(DocModel):
    """The criterion is met when every indicator is met (the default)."""

    kind: Literal[CriterionRule.ALL]


class RuleAny(DocModel):
    """The criterion is met when at least one indicator is met."""

    kind: Literal[CriterionRule.ANY]


class RuleJudgement(DocModel):
    """The appraiser assesses the criterion as a whole (its indicators are not all known)."""

    kind: Literal[CriterionRule.JUDGEMENT]


class RuleAtLeast(DocModel):
    """The criterion is met when at least `k` indicators are met."""

    kind: Literal[CriterionRule.AT_LEAST]
    k: Annotated[StrictInt, Field(ge=1, le=1000)] = Field(description="Indicators to meet.")


Rule = Annotated[RuleAll | RuleAny | RuleJudgement | RuleAtLeast, Field(discriminator="kind")]


class When(DocModel):
    """Dimensions of a threshold; an absent key matches any unit. ``{}`` is the default value."""

    region: RegionCode | None = Field(
        default=None, description="One of the 7 regions (vùng) of 318/QĐ-TTg, e.g. `TDMNPB`."
    )
    year: Annotated[StrictInt, Field(ge=1990, le=2100)] | None = Field(
        default=None, description="The year assessed (income thresholds rise year by year)."
    )
    commune_group: StrictInt | None = Field(
        default=None, description="Nhóm xã 1, 2 or 3 (51/2025/QĐ-TTg, 2026–2030)."
    )
    classification: ThresholdClassification | None = Field(
        default=None, description="`especially_difficult` or `safe_zone` units only."
    )


class Threshold(DocModel):
    """One value of an indicator's threshold and where it applies (`when`: region, year,
    commune group, classification; `{}` is the default for every unit). The most specific match
    wins."""

    value: Value = Field(
        description="The threshold, in the indicator's `unit` (a number), or true/false."
    )
    when: When = Field(default_factory=When, description="Where it applies; `{}`: everywhere.")
    source: SourceRef | None = Field(default=None, description="A `sources[].id` of the set.")
    confidence: Confidence | None = None
    note: Text | None = None
    # The document that set this value; for a province's override, its decision.
    legal_basis: LegalBasis | None = Field(
        default=None, description="The decision that set this value (a province's, for its own)."
    )


class IndicatorDocument(DocModel):
    """An indicator (chỉ tiêu) of a criterion, as the set's document gives it: how it is
    measured and its thresholds."""

    code: Annotated[str, Field(min_length=1, max_length=20)] = Field(
        description="Its number within the criterion, e.g. `2.1` or `17.8`; unique in the set."
    )
    name: Name
    kind: IndicatorKind
    unit: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="Unit of measure of values and thresholds, e.g. `%`, `km`."
    )
    comparator: Comparator | None = Field(
        default=None, description="`ge`: the value must be ≥ the threshold; `le`: ≤; `eq`: =."
    )
    value_min: Number | None = Field(default=None, description="Smallest value accepted.")
    value_max: Number | None = Field(default=None, description="Largest value accepted.")
    thresholds: Annotated[list[Threshold], Field(max_length=500)] = Field(default_factory=list)
    left_to_province: StrictBool = Field(
        default=False,
        description="The national set delegates the threshold to each province (which sets it "
        "in its own set); until then the indicator is undetermined.",
    )
    source: SourceRef | None = None
    confidence: Confidence | None = None
    note: Text | None = None


class CriterionDocument(DocModel):
    """A criterion (tiêu chí) of a set, as the set's document gives it: its number, group, rule
    and indicators."""

    number: Annotated[StrictInt, Field(ge=1, le=1000)] = Field(
        description="Its number in the decision (1–19 for the 2021–2025 commune sets)."
    )
    group: Annotated[str, Field(min_length=1, max_length=20)] | None = Field(
        default=None, description="A `groups[].code` of the set."
    )
    name: Name
    rule: Rule = Field(
        default_factory=lambda: RuleAll(kind=CriterionRule.ALL),
        description="How its indicators combine; default: all must be met.",
    )
    source: SourceRef | None = None
    confidence: Confidence | None = None
    note: Text | None = None
    indicators: Annotated[list[IndicatorDocument], Field(max_length=500)] = Field(
        default_factory=list
    )


class Condition(DocModel):
    """A recognition condition that is not an indicator (18/2022/QĐ-TTg art. 4)."""

    code: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="Its key, e.g. `resident_satisfaction`; values are entered under it."
    )
    name: Name
    kind: IndicatorKind
    unit: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="Unit of measure, e.g. `%`."
    )
    comparator: Comparator | None = Field(
        default=None, description="`ge`: met when the value is ≥ the threshold; `le`: ≤."
    )
    threshold: Value | None = Field(
        default=None, description="null: not stated (e.g. the commune satisfaction rate)."
    )
    left_to_province: StrictBool = Field(
        default=False, description="The province sets the threshold in its own set."
    )
    source: SourceRef | None = None
    confidence: Confidence | None = None
    note: Text | None = None


class _Prerequisite(DocModel):
    source: SourceRef | None = None
    note: Text | None = None
    left_to_province: StrictBool = Field(
        default=False, description="The province defines it (the national set leaves it open)."
    )


class TitlePrerequisite(_Prerequisite):
    """The title requires another title first (e.g. the advanced NTM commune requires the NTM
    commune title)."""

    kind: Literal[PrerequisiteKind.TITLE]
    title: Title


class IncomeRatioPrerequisite(_Prerequisite):
    """Income at least ``ratio`` times the threshold of ``indicator`` for ``of_title``."""

    kind: Literal[PrerequisiteKind.INCOME_RATIO]
    indicator: Annotated[str, Field(min_length=1, max_length=20)] = Field(
        description="The income indicator's code in that title's set, e.g. `10.x1`."
    )
    of_title: Title = Field(description="The title whose income threshold is the reference.")
    ratio: Annotated[Number, Field(gt=0, le=100)] = Field(
        description="A multiple: 1.1 means 110 % (model NTM commune, 319/QĐ-TTg)."
    )


class SmartVillagePrerequisite(_Prerequisite):
    """The title requires at least `min_count` smart villages (thôn thông minh) in the unit
    (model NTM commune, 319/QĐ-TTg)."""

    kind: Literal[PrerequisiteKind.SMART_VILLAGE]
    min_count: Annotated[StrictInt, Field(ge=1, le=1000)] = Field(description="Smart villages.")


class OutstandingFieldPrerequisite(_Prerequisite):
    """The title requires excellence in a field the province defines (education, culture,
    production, tourism, …; model NTM commune, 319/QĐ-TTg): checked by the appraiser."""

    kind: Literal[PrerequisiteKind.OUTSTANDING_FIELD]


class SubunitsWithTitlePrerequisite(_Prerequisite):
    """The title requires a `share` of the units of `level` below to hold `title` (e.g. for a
    district title, a share of its communes)."""

    kind: Literal[PrerequisiteKind.SUBUNITS_WITH_TITLE]
    level: UnitLevel = Field(description="The level of the units counted below the unit.")
    title: Title = Field(description="The title they must hold.")
    share: Annotated[Number, Field(gt=0, le=1)] = Field(
        description="Share of them that must hold it, as a fraction (1 = all, 0.9 = 90 %)."
    )


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

    min_failing_share: Annotated[Number, Field(ge=0, le=1)] = Field(
        description="Share of criteria failing, as a fraction (0.5 = 50 %), included."
    )
    max_failing_share: Annotated[Number, Field(ge=0, le=1)] | None = Field(
        default=None, description="Upper bound, excluded; null: no upper bound."
    )
    requires_failing_criterion: list[StrictInt] | None = Field(
        default=None,
        description="Criterion numbers of which one must fail too (e.g. Income, Environment); "
        "null: any.",
    )
    note: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RevocationBand:
        if self.max_failing_share is not None and self.max_failing_share <= self.min_failing_share:
            raise ValueError("max_failing_share must be greater than min_failing_share")
        return self


class Revocation(DocModel):
    """When a recognition is revoked (thu hồi): the bands of failing criteria that trigger it."""

    bands: list[RevocationBand] = Field(
        default_factory=list, description="Any band that matches revokes the recognition."
    )
    source: SourceRef | None = None
    note: Text | None = None


class CriteriaSetDocument(DocModel):
    """A whole criteria set, as bundled, exported and imported."""

    format: Literal["ntm.criteria-set/1"] = Field(
        default=FORMAT, description="The document format and its version."
    )
    code: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")] = Field(
        description="Unique key of the set, e.g. `QD318-NTM-XA-2021-2025`."
    )
    name: Name
    title: Title = Field(description="The title a unit meeting the set is recognised with.")
    level: UnitLevel = Field(description="The level of the units it assesses.")
    period: Period
    legal_basis: LegalBasis = Field(description="The decision that issued the set.")
    scope: Scope = Field(
        default_factory=lambda: NationalScope(kind="national"),
        description="The whole country (default) or one province.",
    )
    derived_from: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="Code of the published set a province's set specifies."
    )
    amends: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="Code of the set this one amends (e.g. by 211/QĐ-TTg)."
    )
    complete: StrictBool = Field(
        default=False, description="The document lists the whole legal text (declared)."
    )
    applicability_rules: list[ApplicabilityRule] = Field(
        default_factory=list,
        description="Which region column classified units read (318/QĐ-TTg art. 1).",
    )
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
