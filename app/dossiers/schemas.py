"""Request and response bodies of recognition dossiers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from app.core.types import IsoDate, SingleLine
from app.models.enums import (
    DossierAction,
    DossierDocumentType,
    DossierStatus,
    PreconditionKind,
    Title,
)

Year = Annotated[int, Field(ge=2000, le=2100, description='The year the title is "for".')]
Reasons = Annotated[str, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True)]
Note = Annotated[str, Field(max_length=5000)]
Count = Annotated[StrictInt, Field(ge=0, le=100_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------


class DossierCreate(Strict):
    """Opens a recognition dossier (hồ sơ đề nghị công nhận) of a unit for a title and a year,
    resting on that unit's assessments against one criteria set."""

    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id (offline creation); replays are not errors."
    )
    unit_id: uuid.UUID
    title: Title
    year: Year
    criteria_set_id: uuid.UUID
    assessment_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=10,
        description="The assessments the dossier rests on: of the unit, the set and the year.",
    )
    procedure: Annotated[SingleLine, Field(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="A procedure version's code; default: the one in force today for the unit's "
        "level and the title.",
    )
    note: Note | None = None


class Votes(Strict):
    """An appraisal council's vote (e.g. 20/20 in favour)."""

    in_favour: Count
    against: Count = 0
    abstain: Count = 0


class Decision(Strict):
    """The decision that grants the title: its number, date and signer (never invented: entered
    from the signed decision)."""

    number: Annotated[SingleLine, Field(min_length=1, max_length=64)]
    date: IsoDate
    signer: Annotated[SingleLine, Field(min_length=1, max_length=200)]
    field: Annotated[SingleLine, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Model communes: the outstanding field the title names."
    )


class TransitionRequest(Strict):
    """Moves a dossier one step along its procedure: the action, with the reasons, votes,
    decision or override that the step requires."""

    action: DossierAction
    reasons: Reasons | None = Field(
        default=None, description="Required to return or reject: what must be completed, or why."
    )
    votes: Votes | None = Field(
        default=None, description="Required at a step that records a council's vote."
    )
    decision: Decision | None = Field(default=None, description="Required to recognise.")
    override_reasons: Reasons | None = Field(
        default=None,
        description="An appraiser's override of 'the assessment meets the set', with reasons "
        "(only at a step that allows it, with its action).",
    )
    comment: Note | None = None


# --- responses --------------------------------------------------------------------------------


class ActorOut(BaseModel):
    """Who acts at a step: a role at an administrative level (e.g. an appraiser at the
    province)."""

    role: str
    level: str


class StepOut(BaseModel):
    """One step of a recognition procedure: the status it names, the action that leaves it, who
    acts, the documents and checks it requires, and whether it records a vote, allows an
    override or a rejection."""

    code: DossierStatus
    name: dict[str, str]
    action: DossierAction
    actors: list[ActorOut]
    documents: list[DossierDocumentType]
    checks: list[PreconditionKind]
    votes: bool
    override: bool
    reject: bool
    duration_days: int | None = Field(
        description="Configuration (null: not set; no legal duration was found)."
    )
    step_ref: str = Field(description="What an appraiser's role assignment names: procedure/step.")


class ProcedureOut(BaseModel):
    """A version of a recognition procedure (quy trình xét, công nhận) for one level and its
    titles: its validity, legal basis and steps in order."""

    code: str
    name: dict[str, str]
    level: str
    titles: list[Title]
    valid_from: date | None
    valid_to: date | None
    legal_basis: list[str]
    steps: list[StepOut]


class UnitRef(BaseModel):
    """The dossier's unit by its id, code, name and level."""

    id: uuid.UUID
    code: str | None = None
    name: str | None = None
    level: str | None = None


class DecisionOut(BaseModel):
    """The decision that granted the title (quyết định công nhận): its number, date and signer."""

    number: str
    date: date
    signer: str


class OverrideOut(BaseModel):
    """An appraiser's override of 'the assessment meets the set': who, when, at which step, and
    why."""

    by: uuid.UUID | None
    by_name: str | None
    at: datetime
    step: str
    reasons: str


class SnapshotDifference(BaseModel):
    """A value that changed since the dossier was submitted."""

    assessment_id: uuid.UUID
    kind: str = Field(description="indicator or condition")
    code: str
    snapshot: Any
    current: Any


class Dossier(BaseModel):
    """A recognition dossier (hồ sơ đề nghị công nhận): the unit, title, year and assessments it
    rests on, where it stands in its procedure and what the caller may do next. `revision` goes
    up with every write; the ETag names it."""

    id: uuid.UUID
    unit: UnitRef
    title: Title
    year: int
    criteria_set_id: uuid.UUID
    assessment_ids: list[uuid.UUID]
    procedure: str
    status: DossierStatus
    step: StepOut | None = Field(description="The step the dossier is at (null once ended).")
    allowed_actions: list[DossierAction] = Field(
        description="What the caller may do now (the table allows it and the caller acts at "
        "the step)."
    )
    revision: int
    note: str | None
    submitted_at: datetime | None
    snapshot_taken_at: datetime | None
    snapshot_differences: list[SnapshotDifference]
    override: OverrideOut | None
    decision: DecisionOut | None
    recognition_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    created_by_name: str | None
    updated_by_name: str | None


class DossierSummary(BaseModel):
    """A dossier in a list: its unit, title, year, procedure, status and decision, without its
    step or snapshot."""

    id: uuid.UUID
    unit_id: uuid.UUID
    title: Title
    year: int
    criteria_set_id: uuid.UUID
    procedure: str
    status: DossierStatus
    revision: int
    submitted_at: datetime | None
    decision: DecisionOut | None
    created_at: datetime
    updated_at: datetime


class DossierPage(BaseModel):
    """One page of dossiers. Ask for the next page with `cursor=<next_cursor>`; null on the last
    page."""

    items: list[DossierSummary]
    next_cursor: str | None = None


class DocumentOut(BaseModel):
    """A document filed in a dossier (e.g. a report or minutes): its type, the step it was added
    at, and its content's type, size and SHA-256."""

    id: uuid.UUID
    dossier_id: uuid.UUID
    document_type: DossierDocumentType
    step: DossierStatus = Field(description="The dossier's status when it was added.")
    filename: str | None
    media_type: str = Field(description="The type found in the content.")
    size: int
    sha256: str
    note: str | None
    uploaded_by_name: str | None
    uploaded_at: datetime


class DocumentList(BaseModel):
    """The documents filed in a dossier."""

    items: list[DocumentOut]


class HistoryEntry(BaseModel):
    """One transition of a dossier: the action, the statuses it moved between, who acted and
    when, with the reasons and votes recorded."""

    seq: int
    action: DossierAction
    from_status: DossierStatus
    to_status: DossierStatus
    actor_id: uuid.UUID | None
    actor_name: str | None
    at: datetime
    reasons: str | None
    votes: dict[str, int] | None
    details: dict[str, Any] | None


class History(BaseModel):
    """A dossier's transitions, oldest first."""

    items: list[HistoryEntry]


class FailedPrecondition(BaseModel):
    kind: PreconditionKind
    code: str
    detail: str
    data: dict[str, Any] = Field(default_factory=dict)


class ProcedureList(BaseModel):
    """The recognition procedures, with their steps."""

    items: list[ProcedureOut]
