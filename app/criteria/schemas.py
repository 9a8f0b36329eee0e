"""Request bodies and response shapes of the criteria API (the document lives in ``document``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator

from app.core.pagination import TOTAL_DESCRIPTION
from app.core.types import IsoDate
from app.criteria.document import (
    ApplicabilityRule,
    Condition,
    CriteriaSetDocument,
    CriterionDocument,
    DocModel,
    Group,
    IndicatorDocument,
    LegalBasis,
    Name,
    Period,
    Prerequisite,
    Revocation,
    Source,
    Threshold,
)
from app.models.enums import (
    Comparator,
    Confidence,
    CriteriaSetStatus,
    IndicatorKind,
    ResolutionStatus,
    Title,
    UnitLevel,
)

Status = CriteriaSetStatus


# --- requests ---------------------------------------------------------------------------------


class CriteriaSetCreate(CriteriaSetDocument):
    """A whole document; ``id`` may be supplied by the client (offline creation)."""

    id: uuid.UUID | None = None


class CriteriaSetPatch(DocModel):
    """Each key given replaces that part of the draft (lists are replaced whole)."""

    code: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$"
    )
    name: Name | None = None
    period: Period | None = None
    legal_basis: LegalBasis | None = None
    amends: str | None = Field(default=None, min_length=1, max_length=100)
    complete: StrictBool | None = None
    applicability_rules: list[ApplicabilityRule] | None = None
    sources: list[Source] | None = None
    groups: list[Group] | None = None
    criteria: list[CriterionDocument] | None = None
    conditions: list[Condition] | None = None
    prerequisites: list[Prerequisite] | None = None
    revocation: Revocation | None = None

    @model_validator(mode="after")
    def _no_null_parts(self) -> CriteriaSetPatch:
        nullable = {"amends", "revocation"}
        for key in self.model_fields_set - nullable:
            if getattr(self, key) is None:
                raise ValueError(f"{key} cannot be null")
        return self


class DeriveRequest(DocModel):
    """A province's specification: the province by id, or by code as of a date."""

    id: uuid.UUID | None = Field(default=None, description="Id of the new set; null: a new one.")
    code: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Unique key of the province's set.",
    )
    name: Name
    legal_basis: LegalBasis = Field(
        description="The province's decision (e.g. a QĐ-UBND) that specifies the national set."
    )
    unit_id: uuid.UUID | None = Field(default=None, description="The province; or `unit_code`.")
    unit_code: str | None = Field(
        default=None, min_length=1, max_length=20, description="The province's code on `as_of`."
    )
    as_of: IsoDate | None = Field(
        default=None, description="Date the province code is read at (default: period start)."
    )
    period: Period | None = Field(
        default=None, description="Within the parent's period; default: the parent's."
    )

    @model_validator(mode="after")
    def _province(self) -> DeriveRequest:
        if self.unit_id is None and self.unit_code is None:
            raise ValueError("give the province as unit_id or unit_code")
        return self


class IndicatorCreate(IndicatorDocument):
    """A new indicator (chỉ tiêu) added to a draft set, under the criterion numbered
    `criterion`."""

    criterion: StrictInt = Field(ge=1, description="Number of the criterion it belongs to.")


class ThresholdsReplace(DocModel):
    """The whole list of an indicator's thresholds in a draft set, replacing the current one."""

    thresholds: list[Threshold] = Field(
        max_length=500, description="An empty list removes every threshold."
    )


# --- responses --------------------------------------------------------------------------------


class Names(BaseModel):
    """A label in both languages: Vietnamese (`vi`) and English (`en`, null when not
    translated)."""

    vi: str = Field(description="Vietnamese (the official label).")
    en: str | None = Field(default=None, description="English; null: not translated.")


class SetRef(BaseModel):
    """A criteria set named by its id, code and version (the version counts its writes)."""

    id: uuid.UUID
    code: str | None = None
    version: int | None = Field(
        default=None, description="Its version (a derived set: the parent's version it copied)."
    )


class ScopeOut(BaseModel):
    """Where a set applies: the whole country, or one province (by id, and by its code as of
    the date it was resolved at: province codes are reused after the 2025 reform)."""

    kind: Literal["national", "province"]
    unit_id: uuid.UUID | None = Field(default=None, description="The province; null: national.")
    unit_code: str | None = Field(default=None, description="The province's code on `as_of`.")
    as_of: IsoDate | None = Field(default=None, description="The date the code was read at.")


class MissingItem(BaseModel):
    """Something the set does not say yet and a province or an administrator must specify."""

    kind: Literal["criterion", "indicator", "condition", "prerequisite"] = Field(
        description="What lacks something."
    )
    reason: str = Field(
        description="Why: `left_to_province` (the province must set it), `threshold_not_found`, "
        "`indicators_not_found` (a criterion without indicators), `regions_not_covered`, "
        "`commune_groups_not_covered`."
    )
    criterion: int | None = Field(default=None, description="The criterion's number.")
    code: str | None = Field(default=None, description="The indicator's or condition's code.")
    prerequisite: str | None = Field(default=None, description="The prerequisite's kind.")
    regions: list[str] | None = Field(
        default=None, description="Regions without a threshold (for region-dependent ones)."
    )
    commune_groups: list[int] | None = Field(
        default=None, description="Commune groups without a threshold (2026–2030 sets)."
    )


class CriteriaSetSummary(BaseModel):
    """A criteria set (bộ tiêu chí) without its criteria: the title it leads to, for which
    level and period, its legal basis, and how complete it is. Labels are in the caller's
    language."""

    id: uuid.UUID
    code: str
    name: str = Field(description="In the language of Accept-Language where present.")
    names: Names
    title: Title
    level: UnitLevel
    period: Period
    legal_basis: LegalBasis
    scope: ScopeOut
    status: Status
    version: int = Field(description="Goes up with every write of the set.")
    derived_from: SetRef | None = Field(
        description="The published set this province's set was derived from; null: not derived."
    )
    amends: SetRef | None = Field(
        description="The set this one amends (e.g. by 211/QĐ-TTg of 2024); null: none."
    )
    declared_complete: bool = Field(description="The document says it lists the whole legal text.")
    complete: bool = Field(description="Declared complete and nothing missing.")
    missing: list[MissingItem] = Field(
        description="What the set does not say yet (thresholds left to the province, …)."
    )
    criteria_count: int | None = Field(description="null: not counted in this answer.")
    indicator_count: int | None = Field(description="null: not counted in this answer.")
    bundled: bool = Field(
        description="Loaded from the reference documents shipped with the service."
    )
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = Field(description="null: still a draft.")
    retired_at: datetime | None = Field(description="null: not retired.")


class ThresholdOut(BaseModel):
    """One value of an indicator's threshold and where it applies (`when`), as the set gives
    it."""

    value: bool | int | float = Field(description="In the indicator's `unit`, or true/false.")
    when: dict[str, Any] = Field(
        description="Where it applies: any of `region`, `year`, `commune_group`, "
        "`classification`; `{}`: every unit."
    )
    source: str | None = Field(description="A `sources[].id` of the set.")
    confidence: Confidence | None
    note: str | None
    legal_basis: LegalBasis | None
    province_override: bool = Field(description="Set by the province in its derived set.")


class IndicatorOut(BaseModel):
    """An indicator (chỉ tiêu) of a criterion: how it is measured, and its thresholds."""

    id: uuid.UUID
    code: str
    name: str
    names: Names
    kind: IndicatorKind
    unit: str | None = Field(description="Unit of measure, e.g. `%`, `km`, `million VND`.")
    comparator: Comparator | None = Field(
        description="`ge`: met when the value is ≥ the threshold; `le`: ≤; `eq`: =."
    )
    value_min: int | float | None = Field(description="Smallest value accepted; null: none.")
    value_max: int | float | None = Field(description="Largest value accepted; null: none.")
    left_to_province: bool = Field(
        description="The national set leaves the threshold to each province."
    )
    source: str | None
    confidence: Confidence | None
    note: str | None
    inherited: bool = Field(description="In a derived set: copied unchanged from the parent.")
    overridden: bool = Field(description="In a derived set: in the parent, but changed here.")
    thresholds: list[ThresholdOut]


class CriterionOut(BaseModel):
    """A criterion (tiêu chí) of a set with its indicators."""

    id: uuid.UUID
    number: int = Field(description="Its number in the decision, e.g. 1–19.")
    group: str | None = Field(description="Code of its group.")
    name: str
    names: Names
    rule: dict[str, Any] = Field(
        description='How its indicators combine: `{"kind": "all"}`, `any`, '
        "`at_least` with `k`, or `judgement` (assessed as a whole by the appraiser)."
    )
    source: str | None
    confidence: Confidence | None
    note: str | None
    indicators: list[IndicatorOut]


class GroupOut(BaseModel):
    """A group of criteria (nhóm tiêu chí), e.g. Socio-economic infrastructure."""

    code: str
    name: str
    names: Names
    confidence: Confidence | None


class CriteriaSetOut(CriteriaSetSummary):
    """A whole criteria set: the summary and its groups, criteria, indicators, thresholds,
    recognition conditions, title prerequisites and revocation rule. `version` goes up with
    every write; the ETag names it."""

    applicability_rules: list[dict[str, Any]] = Field(
        description="Which region column a classified unit reads, e.g. especially difficult "
        "communes use TDMNPB (318/QĐ-TTg)."
    )
    sources: list[dict[str, Any]] = Field(description="Documents the set's facts cite.")
    groups: list[GroupOut]
    criteria: list[CriterionOut]
    conditions: list[dict[str, Any]] = Field(
        description="Recognition conditions besides the criteria (18/2022/QĐ-TTg art. 4)."
    )
    prerequisites: list[dict[str, Any]] = Field(
        description="What the title requires besides the criteria (e.g. an earlier title)."
    )
    revocation: dict[str, Any] | None = Field(
        description="When a recognition is revoked (thu hồi); null: not stated."
    )


class CriteriaSetPage(BaseModel):
    """One page of criteria sets (summaries). Ask for the next page with
    `cursor=<next_cursor>`; null on the last page."""

    items: list[CriteriaSetSummary]
    next_cursor: str | None = None
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


class ImportCheck(BaseModel):
    """The outcome of ``dry_run=true``: the document passed every check."""

    valid: bool = Field(description="Always true: an invalid document answers 422.")
    code: str = Field(description="The set's code.")
    criteria_count: int
    indicator_count: int
    complete: bool = Field(description="Declared complete and nothing missing.")
    missing: list[MissingItem] = Field(description="What the set does not say yet.")


class UnitRef(BaseModel):
    """A unit named by its id, code, name and level as of the date the thresholds are read at."""

    id: uuid.UUID
    code: str
    name: str
    level: UnitLevel


class ThresholdReason(BaseModel):
    """Why a threshold value applies to the unit: which row of the set matched (`basis`,
    `matched`) and the legal text behind it."""

    basis: Literal[
        "province_override",
        "classification",
        "region_year",
        "region",
        "year",
        "commune_group",
        "default",
    ]
    matched: dict[str, Any] = Field(description="The dimensions of the row that matched.")
    province_override: bool = Field(description="The province's own value.")
    legal_basis: LegalBasis | None
    source: dict[str, Any] | None = Field(description="The set's source the value cites.")
    confidence: Confidence | None
    note: str | None
    detail: str = Field(description="The reason as a sentence, in the caller's language.")


class ResolvedIndicator(BaseModel):
    """The threshold of one indicator that applies to the unit in the year, or why none does
    (`missing`)."""

    criterion: int = Field(description="Number of its criterion.")
    code: str
    name: str
    kind: IndicatorKind
    unit: str | None
    comparator: Comparator | None
    value: bool | int | float | None = Field(description="The threshold; null: none applies.")
    status: ResolutionStatus
    reason: ThresholdReason | None
    missing: str | None = Field(description='Why no value applies, e.g. "left to the province".')
    missing_code: (
        Literal["left_to_province", "region_unknown", "commune_group_unknown", "not_found"] | None
    )


class ResolvedCondition(BaseModel):
    """The threshold of one recognition condition (e.g. residents' satisfaction) for the unit
    in the year."""

    code: str
    name: str
    kind: str
    unit: str | None
    comparator: str | None
    value: bool | int | float | None = Field(description="The threshold; null: none applies.")
    status: ResolutionStatus
    left_to_province: bool = Field(description="The rate is for the province to set.")
    source: dict[str, Any] | None


class ResolvedThresholds(BaseModel):
    """Every threshold of a set that applies to one unit in one year, with what picked them:
    the unit's province, region, classifications and commune group on `as_of`."""

    criteria_set: SetRef
    year: int = Field(
        description="The year the thresholds are for (income thresholds vary by year)."
    )
    as_of: IsoDate = Field(description="The date the unit and its classifications are read at.")
    unit: UnitRef
    province: UnitRef | None = Field(description="The unit's province on `as_of`.")
    region: str | None = Field(
        description="The region column read (one of the 7 of 318/QĐ-TTg); null: not classified."
    )
    region_reason: dict[str, Any] = Field(
        description="Why that region: the province's classification, or an applicability rule."
    )
    classifications: list[str] = Field(
        description="The unit's classifications that pick thresholds (e.g. `especially_difficult`)."
    )
    commune_group: int | None = Field(
        description="Nhóm xã 1, 2 or 3 (51/2025/QĐ-TTg); null: not classified."
    )
    indicators: list[ResolvedIndicator]
    conditions: list[ResolvedCondition]
