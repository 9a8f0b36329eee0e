"""Request and response bodies of plans, targets, roadmap items, tasks, documents and progress."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import IsoDate
from app.models.enums import (
    PlanDocumentKind,
    PlanKind,
    PlanStatus,
    RoadmapStatus,
    TargetMetric,
    TargetStatus,
    TaskStatus,
    Title,
)

Year = Annotated[int, Field(ge=2000, le=2100)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]
Name = Annotated[str, Field(min_length=1, max_length=300)]
Count = Annotated[int, Field(ge=0, le=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- plans ------------------------------------------------------------------------------------


class PlanCreate(Strict):
    """Creates a plan (kế hoạch) as signed by the issuing unit: a period plan (kế hoạch giai
    đoạn) or a yearly plan under one. It starts as a draft."""

    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id; replays are not errors."
    )
    number: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="The plan's number as signed, e.g. `2831/KH-UBND`."
    )
    title: Text
    kind: PlanKind = PlanKind.PERIOD
    issuing_unit_id: uuid.UUID
    issue_date: IsoDate
    start_year: Year
    end_year: Year
    parent_id: uuid.UUID | None = Field(
        default=None, description="The period plan a yearly plan implements."
    )
    legal_reference: Text | None = None
    scope_as_of: IsoDate | None = Field(
        default=None,
        description="The day the plan's scope (the issuing unit's subtree) is read; default the "
        "issue date.",
    )
    at_risk_criteria_unmet: Count | None = None
    at_risk_months_left: Annotated[int, Field(ge=0, le=120)] | None = None
    note: Text | None = None


class PlanPatch(Strict):
    """Content fields change only while the plan is a draft; ``status`` moves it along its
    lifecycle (draft → in_force → closed). A plan in force changes by adjustment."""

    status: PlanStatus | None = None
    number: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    title: Text | None = None
    issue_date: IsoDate | None = None
    start_year: Year | None = None
    end_year: Year | None = None
    legal_reference: Text | None = None
    at_risk_criteria_unmet: Count | None = None
    at_risk_months_left: Annotated[int, Field(ge=0, le=120)] | None = None
    note: Text | None = None


class PlanAdjust(Strict):
    """A new version of a plan in force, superseding it from ``effective_from``."""

    number: Annotated[str, Field(min_length=1, max_length=100)]
    issue_date: IsoDate
    effective_from: IsoDate
    title: Text | None = None
    legal_reference: Text | None = None
    start_year: Year | None = None
    end_year: Year | None = None
    note: Text | None = None


class Plan(BaseModel):
    """A plan (kế hoạch) of an issuing unit for a span of years, with its lifecycle status and
    version. An adjustment supersedes it by a new version; `revision` goes up with every write
    and the ETag names it."""

    id: uuid.UUID
    number: str
    title: str
    kind: PlanKind
    issuing_unit_id: uuid.UUID
    issue_date: date
    start_year: int
    end_year: int
    parent_id: uuid.UUID | None
    status: PlanStatus
    legal_reference: str | None
    scope_as_of: date
    version: int
    supersedes_id: uuid.UUID | None
    superseded_by_id: uuid.UUID | None
    effective_from: date
    effective_to: date | None
    at_risk_criteria_unmet: int | None
    at_risk_months_left: int | None
    note: str | None
    revision: int
    created_at: str
    updated_at: str
    created_by_name: str | None
    updated_by_name: str | None


class PlanPage(BaseModel):
    """One page of plans. Ask for the next page with `cursor=<next_cursor>`; null on the last
    page."""

    items: list[Plan]
    next_cursor: str | None


# --- targets ----------------------------------------------------------------------------------


class ReportedFigure(Strict):
    """A figure as reported on a day (e.g. budget disbursed), with the document that reported
    it."""

    on: IsoDate
    value: Annotated[float, Field(ge=0)]
    document: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class ReportedFigureOut(BaseModel):
    """A figure as reported on a day, with the document that reported it."""

    on: date
    value: float
    document: str | None


class TargetCreate(Strict):
    """Adds a target (chỉ tiêu) to a plan: what it measures, over which unit's subtree, for
    which year, the planned value and the document that set it."""

    id: uuid.UUID | None = None
    metric: TargetMetric
    title: Title | None = Field(
        default=None,
        description="The title counted (`units_with_title`, `share_with_title`), or the title "
        "whose criteria set is read (`average_criteria_met`, `communes_below_criteria`; default "
        "`ntm_commune`).",
    )
    scope_unit_id: uuid.UUID | None = Field(
        default=None, description="Whose subtree is measured; default the issuing unit."
    )
    scope_as_of: IsoDate | None = Field(
        default=None, description="The day the scope unit is read; default the plan's."
    )
    year: Year
    planned_value: Annotated[float, Field(ge=0)]
    criteria_threshold: Annotated[int, Field(ge=1, le=100)] | None = Field(
        default=None, description="`communes_below_criteria`: fewer than this many criteria met."
    )
    source_document: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="The document that set the target (sources disagree: keep which)."
    )
    reported: list[ReportedFigure] | None = Field(
        default=None, max_length=200, description="Budget figures as reported, dated."
    )
    note: Text | None = None


class TargetPatch(Strict):
    """Changes a target's planned value, year, threshold, source document, reported figures or
    note; fields not sent keep theirs."""

    planned_value: Annotated[float, Field(ge=0)] | None = None
    year: Year | None = None
    criteria_threshold: Annotated[int, Field(ge=1, le=100)] | None = None
    source_document: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    reported: list[ReportedFigure] | None = Field(default=None, max_length=200)
    note: Text | None = None


class PlanTarget(BaseModel):
    """A target (chỉ tiêu) of a plan: a metric over a unit's subtree for a year, with its
    planned value and the document that set it."""

    id: uuid.UUID
    plan_id: uuid.UUID
    metric: TargetMetric
    title: Title | None
    scope_unit_id: uuid.UUID
    scope_as_of: date
    year: int
    planned_value: float
    criteria_threshold: int | None
    source_document: str
    reported: list[ReportedFigureOut] | None
    note: str | None
    revision: int
    created_at: str
    updated_at: str


class PlanTargetPage(BaseModel):
    """One page of a plan's targets. Ask for the next page with `cursor=<next_cursor>`; null on
    the last page."""

    items: list[PlanTarget]
    next_cursor: str | None


# --- roadmap ----------------------------------------------------------------------------------


class RoadmapCreate(Strict):
    """Adds a roadmap item (lộ trình) to a plan: a unit is to reach a title by a target year."""

    id: uuid.UUID | None = None
    unit_id: uuid.UUID
    title: Title
    target_year: Year
    field: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Model communes: the field of excellence the title names."
    )
    owner: Name | None = None
    note: Text | None = None


class RoadmapPatch(Strict):
    """Changes a roadmap item's target year, field, owner or note; fields not sent keep theirs."""

    target_year: Year | None = None
    field: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    owner: Name | None = None
    note: Text | None = None


class RoadmapItem(BaseModel):
    """A roadmap item (lộ trình) of a plan: a unit to reach a title by a target year, with who
    owns it."""

    id: uuid.UUID
    plan_id: uuid.UUID
    unit_id: uuid.UUID
    title: Title
    target_year: int
    field: str | None
    owner: str | None
    note: str | None
    revision: int
    created_at: str
    updated_at: str


class RoadmapPage(BaseModel):
    """One page of a plan's roadmap items. Ask for the next page with `cursor=<next_cursor>`;
    null on the last page."""

    items: list[RoadmapItem]
    next_cursor: str | None


# --- tasks ------------------------------------------------------------------------------------


class ProgressNoteIn(Strict):
    """A dated progress note to append to a task."""

    on: IsoDate
    text: Text


class ProgressNote(BaseModel):
    """A dated progress note on a task, with who wrote it and when."""

    on: date
    text: str
    by: str | None
    at: str


class TaskCreate(Strict):
    """Adds a task (nhiệm vụ) to a plan: what is to be done, by which agency, by when."""

    id: uuid.UUID | None = None
    description: Text
    agency: Name
    deadline: IsoDate | None = None
    status: TaskStatus = TaskStatus.NOT_STARTED


class TaskPatch(Strict):
    """Changes a task's description, agency, deadline or status, or appends a progress note;
    fields not sent keep theirs."""

    description: Text | None = None
    agency: Name | None = None
    deadline: IsoDate | None = None
    status: TaskStatus | None = None
    add_note: ProgressNoteIn | None = Field(
        default=None, description="A dated progress note appended to the task's notes."
    )


class PlanTask(BaseModel):
    """A task (nhiệm vụ) of a plan: what is to be done, by which agency and deadline, its status
    and progress notes."""

    id: uuid.UUID
    plan_id: uuid.UUID
    description: str
    agency: str
    deadline: date | None
    status: TaskStatus
    notes: list[ProgressNote]
    revision: int
    created_at: str
    updated_at: str


class PlanTaskPage(BaseModel):
    """One page of a plan's tasks. Ask for the next page with `cursor=<next_cursor>`; null on
    the last page."""

    items: list[PlanTask]
    next_cursor: str | None


# --- documents --------------------------------------------------------------------------------


class PlanDocument(BaseModel):
    """A document filed with a plan (the signed plan, an adjustment, an annex): its kind and its
    content's type, size and SHA-256."""

    id: uuid.UUID
    plan_id: uuid.UUID
    kind: PlanDocumentKind
    filename: str | None
    media_type: str | None
    size_bytes: int
    sha256: str
    uploaded_at: str
    uploaded_by_name: str | None


class PlanDocumentList(BaseModel):
    """The documents filed with a plan."""

    items: list[PlanDocument]


# --- progress ---------------------------------------------------------------------------------


class UnitRef(BaseModel):
    """A unit in a plan's progress by its id, code, name and level."""

    id: uuid.UUID
    code: str | None
    name: str | None
    level: str | None


class DossierRef(BaseModel):
    """A recognition dossier under way for a roadmap item's unit and title: its id, status and the
    day it was submitted (null: not yet)."""

    id: str
    status: str
    at: str | None


class TargetProgress(BaseModel):
    """A target measured on `as_of`: planned against achieved (with the numerator and
    denominator when a share), and its status with the reason."""

    target_id: uuid.UUID
    metric: TargetMetric
    title: Title | None
    year: int
    scope: UnitRef
    planned: float
    achieved: float | None
    numerator: int | None
    denominator: int | None
    status: TargetStatus
    reason_code: str
    reason: str
    source_document: str


class RoadmapProgress(BaseModel):
    """A roadmap item measured on `as_of`: its status with the reason, the criteria its unit's
    latest assessment meets, and its dossier if any."""

    item_id: uuid.UUID
    unit: UnitRef
    district: UnitRef | None
    title: Title
    target_year: int
    owner: str | None
    status: RoadmapStatus
    reason_code: str
    reason: str
    criteria_met: int | None
    criteria_total: int | None
    criteria_not_met: list[int]
    dossier: DossierRef | None


class RollupRow(BaseModel):
    """Roadmap items of a unit's subtree counted by status."""

    unit: UnitRef
    level: str
    items: int
    by_status: dict[str, int]


class Progress(BaseModel):
    """A plan's progress on `as_of`: its targets, its roadmap items and their roll-up by unit,
    with the at-risk thresholds applied."""

    plan_id: uuid.UUID
    as_of: date
    thresholds: dict[str, int | None] = Field(
        description="The at-risk thresholds applied (the plan's, else the settings'): "
        "`criteria_unmet` (more than this many) and `months_left` (fewer than this many)."
    )
    targets: list[TargetProgress]
    roadmap: list[RoadmapProgress]
    rollup: list[RollupRow]
