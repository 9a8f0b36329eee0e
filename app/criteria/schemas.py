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

    id: uuid.UUID | None = None
    code: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    name: Name
    legal_basis: LegalBasis
    unit_id: uuid.UUID | None = None
    unit_code: str | None = Field(default=None, min_length=1, max_length=20)
    as_of: IsoDate | None = Field(
        default=None, description="Date the province code is read at (default: period start)."
    )
    period: Period | None = None

    @model_validator(mode="after")
    def _province(self) -> DeriveRequest:
        if self.unit_id is None and self.unit_code is None:
            raise ValueError("give the province as unit_id or unit_code")
        return self


class IndicatorCreate(IndicatorDocument):
    criterion: StrictInt = Field(ge=1, description="Number of the criterion it belongs to.")


class ThresholdsReplace(DocModel):
    thresholds: list[Threshold] = Field(max_length=500)


# --- responses --------------------------------------------------------------------------------


class Names(BaseModel):
    vi: str
    en: str | None = None


class SetRef(BaseModel):
    id: uuid.UUID
    code: str | None = None
    version: int | None = None


class ScopeOut(BaseModel):
    kind: Literal["national", "province"]
    unit_id: uuid.UUID | None = None
    unit_code: str | None = None
    as_of: IsoDate | None = None


class MissingItem(BaseModel):
    """Something the set does not say yet and a province or an administrator must specify."""

    kind: Literal["criterion", "indicator", "condition", "prerequisite"]
    reason: str
    criterion: int | None = None
    code: str | None = None
    prerequisite: str | None = None
    regions: list[str] | None = None
    commune_groups: list[int] | None = None


class CriteriaSetSummary(BaseModel):
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
    version: int
    derived_from: SetRef | None
    amends: SetRef | None
    declared_complete: bool = Field(description="The document says it lists the whole legal text.")
    complete: bool = Field(description="Declared complete and nothing missing.")
    missing: list[MissingItem]
    criteria_count: int | None
    indicator_count: int | None
    bundled: bool = Field(
        description="Loaded from the reference documents shipped with the service."
    )
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    retired_at: datetime | None


class ThresholdOut(BaseModel):
    value: bool | int | float
    when: dict[str, Any]
    source: str | None
    confidence: Confidence | None
    note: str | None
    legal_basis: LegalBasis | None
    province_override: bool


class IndicatorOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    names: Names
    kind: IndicatorKind
    unit: str | None
    comparator: Comparator | None
    value_min: int | float | None
    value_max: int | float | None
    left_to_province: bool
    source: str | None
    confidence: Confidence | None
    note: str | None
    inherited: bool = Field(description="In a derived set: copied unchanged from the parent.")
    overridden: bool = Field(description="In a derived set: in the parent, but changed here.")
    thresholds: list[ThresholdOut]


class CriterionOut(BaseModel):
    id: uuid.UUID
    number: int
    group: str | None
    name: str
    names: Names
    rule: dict[str, Any]
    source: str | None
    confidence: Confidence | None
    note: str | None
    indicators: list[IndicatorOut]


class GroupOut(BaseModel):
    code: str
    name: str
    names: Names
    confidence: Confidence | None


class CriteriaSetOut(CriteriaSetSummary):
    applicability_rules: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    groups: list[GroupOut]
    criteria: list[CriterionOut]
    conditions: list[dict[str, Any]]
    prerequisites: list[dict[str, Any]]
    revocation: dict[str, Any] | None


class CriteriaSetPage(BaseModel):
    items: list[CriteriaSetSummary]
    next_cursor: str | None = None
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


class ImportCheck(BaseModel):
    """The outcome of ``dry_run=true``: the document passed every check."""

    valid: bool
    code: str
    criteria_count: int
    indicator_count: int
    complete: bool
    missing: list[MissingItem]


class UnitRef(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    level: UnitLevel


class ThresholdReason(BaseModel):
    basis: Literal[
        "province_override",
        "classification",
        "region_year",
        "region",
        "year",
        "commune_group",
        "default",
    ]
    matched: dict[str, Any]
    province_override: bool
    legal_basis: LegalBasis | None
    source: dict[str, Any] | None
    confidence: Confidence | None
    note: str | None
    detail: str


class ResolvedIndicator(BaseModel):
    criterion: int
    code: str
    name: str
    kind: IndicatorKind
    unit: str | None
    comparator: Comparator | None
    value: bool | int | float | None
    status: ResolutionStatus
    reason: ThresholdReason | None
    missing: str | None = Field(description='Why no value applies, e.g. "left to the province".')
    missing_code: (
        Literal["left_to_province", "region_unknown", "commune_group_unknown", "not_found"] | None
    )


class ResolvedCondition(BaseModel):
    code: str
    name: str
    kind: str
    unit: str | None
    comparator: str | None
    value: bool | int | float | None
    status: ResolutionStatus
    left_to_province: bool
    source: dict[str, Any] | None


class ResolvedThresholds(BaseModel):
    criteria_set: SetRef
    year: int
    as_of: IsoDate
    unit: UnitRef
    province: UnitRef | None
    region: str | None
    region_reason: dict[str, Any]
    classifications: list[str]
    commune_group: int | None
    indicators: list[ResolvedIndicator]
    conditions: list[ResolvedCondition]
