"""Response bodies of the reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from app.models.enums import CriterionStatus, Title, UnitLevel


class ReportUnit(BaseModel):
    """The unit a report is about by its id, code, name, type and level."""

    id: uuid.UUID
    code: str
    name: str
    type: str
    level: UnitLevel


class TitleCount(BaseModel):
    """How many units hold a title, and their share of the denominator."""

    title: Title
    count: int
    share: float | None = Field(description="count ÷ denominator (null when it is 0)")


class CommuneFigures(BaseModel):
    """The communes of the scope on `as_of`: the rural communes (xã) counted, those excluded by
    type, and how many hold each title by the register."""

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
    """The units of one level in scope (districts or villages) and how many hold each title."""

    count: int
    titles: list[TitleCount]


class Band(BaseModel):
    """Communes whose assessment meets between `min_met` and `max_met` criteria."""

    min_met: int
    max_met: int
    count: int


class CriterionCounts(BaseModel):
    """One criterion of the set: how many assessed communes meet it, basically meet it, do not
    meet it, or are undetermined."""

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
    """A criteria set a report used, with its legal basis."""

    id: uuid.UUID
    code: str
    name: str
    legal_basis_number: str | None
    legal_basis_date: date | None


class Freshness(BaseModel):
    """How recent the data a report reflects is: the newest change, and the newest of the
    assessments and of the recognitions."""

    newest_change: datetime | None = Field(description="The newest change the report reflects.")
    assessments: datetime | None
    recognitions: datetime | None


class Summary(BaseModel):
    """The headline figures of a unit's subtree (or the whole country) for a year on `as_of`:
    titles held by the register, and attainment computed from assessments."""

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
    """One criterion of one unit's assessment and its status: a row of the criteria attainment
    report."""

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
    """Each assessed unit's status on each criterion for a year on `as_of`."""

    year: int
    as_of: date
    items: list[CriterionRow]


class SeriesGroup(BaseModel):
    """A group's figures for one year: the whole scope, or one of its units."""

    unit: ReportUnit | None = Field(description="The group's unit; null for the whole scope.")
    communes: CommuneFigures
    assessed: int
    average_criteria_met: float | None


class SeriesYear(BaseModel):
    """One year of a series on that year's `as_of`: the scope's total and its groups."""

    year: int
    as_of: date
    root_on_map: bool = Field(description="Whether the unit asked about existed that day.")
    total: SeriesGroup
    groups: list[SeriesGroup]


class Series(BaseModel):
    """A report's figures year by year, on the map of each year."""

    items: list[SeriesYear]
