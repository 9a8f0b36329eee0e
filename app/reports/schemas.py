"""Response bodies of the reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from app.models.enums import CriterionStatus, Title, UnitLevel


class ReportUnit(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    type: str
    level: UnitLevel


class TitleCount(BaseModel):
    title: Title
    count: int
    share: float | None = Field(description="count ÷ denominator (null when it is 0)")


class CommuneFigures(BaseModel):
    denominator: int = Field(description="Rural communes (xã) in scope on `as_of`.")
    denominator_rule: str
    excluded: dict[str, int] = Field(
        description="Communes in scope not counted, by unit type (phuong, thi_tran, dac_khu)."
    )
    titles: list[TitleCount] = Field(
        description="From the register, held on `as_of` (a higher title of a ladder counts "
        "under the titles below it)."
    )


class LevelFigures(BaseModel):
    count: int
    titles: list[TitleCount]


class Band(BaseModel):
    min_met: int
    max_met: int
    count: int


class CriterionCounts(BaseModel):
    number: int
    name: str
    met: int
    basically_met: int
    not_met: int
    undetermined: int


class ComputedAttainment(BaseModel):
    """Computed from assessments by the evaluation engine: never a title."""

    assessed: int = Field(description="Rural communes with an assessment of the year.")
    not_assessed: int
    average_criteria_met: float | None
    criteria_total: int | None = Field(description="Size of the set the bands are named by.")
    bands: list[Band]
    criteria: list[CriterionCounts]


class SetUsed(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    legal_basis_number: str | None
    legal_basis_date: date | None


class Freshness(BaseModel):
    newest_change: datetime | None = Field(description="The newest change the report reflects.")
    assessments: datetime | None
    recognitions: datetime | None


class Summary(BaseModel):
    unit: ReportUnit | None = Field(description="null: the whole country.")
    year: int
    as_of: date
    communes: CommuneFigures
    districts: LevelFigures
    villages: LevelFigures
    computed_attainment: ComputedAttainment
    criteria_sets: list[SetUsed] = Field(description="Sets used, with their legal basis.")
    freshness: Freshness


class CriterionRow(BaseModel):
    unit_id: uuid.UUID
    unit_code: str
    unit_name: str
    unit_type: str
    province_code: str | None
    district_code: str | None
    assessment_id: uuid.UUID
    assessment_kind: str
    criteria_set_code: str
    criterion_number: int
    criterion_name: str
    status: CriterionStatus


class CriteriaAttainment(BaseModel):
    year: int
    as_of: date
    items: list[CriterionRow]


class SeriesGroup(BaseModel):
    unit: ReportUnit | None = Field(description="The group's unit; null for the whole scope.")
    communes: CommuneFigures
    assessed: int
    average_criteria_met: float | None


class SeriesYear(BaseModel):
    year: int
    as_of: date
    root_on_map: bool = Field(description="Whether the unit asked about existed that day.")
    total: SeriesGroup
    groups: list[SeriesGroup]


class Series(BaseModel):
    items: list[SeriesYear]
