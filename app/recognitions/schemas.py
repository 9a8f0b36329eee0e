"""Request and response bodies of the register of titles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.assessments.schemas import RejectionGroup
from app.core.pagination import TOTAL_DESCRIPTION
from app.core.problem import FieldError
from app.core.types import IsoDate, SingleLine
from app.models.enums import CarryOverOutcome, RecognitionSource, RevocationCheck, Title

YearFor = Annotated[
    int, Field(ge=2000, le=2100, description='The year the title is "for" (not the decision\'s).')
]
DecisionNumber = Annotated[SingleLine, Field(min_length=1, max_length=100)]
Signer = Annotated[SingleLine, Field(min_length=1, max_length=200)]
Body = Annotated[SingleLine, Field(min_length=1, max_length=300)]
FieldName = Annotated[SingleLine, Field(min_length=1, max_length=200)]
Note = Annotated[str, Field(max_length=5000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------


class RecognitionCreate(Strict):
    """A decision recognising a unit, typically one made before the platform existed."""

    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id (offline creation); replays are not errors."
    )
    unit_id: uuid.UUID
    title: Title
    year_for: YearFor
    decision_number: DecisionNumber = Field(description="e.g. 37/QĐ-TTg")
    decision_date: IsoDate = Field(description="The title is held from this day.")
    signer: Signer = Field(description="Who signed the decision (name and/or office).")
    issuing_unit_id: uuid.UUID | None = Field(
        default=None, description="The unit whose body decided (e.g. the province)."
    )
    issuing_body: Body | None = Field(
        default=None, description='The deciding body as written, e.g. "Thủ tướng Chính phủ".'
    )
    field: FieldName | None = Field(
        default=None,
        description="Model NTM communes only: the field of excellence the title names "
        "(a province's list, 319/QĐ-TTg).",
    )
    note: Note | None = None


class RevocationCreate(Strict):
    """The decision that revokes a recognition (thu hồi)."""

    assessment_id: uuid.UUID | None = Field(
        default=None,
        description="The assessment the revocation rests on (e.g. the one the revocation check "
        "found under a band): its failing criteria and band are kept with the decision.",
    )
    decision_number: DecisionNumber
    decision_date: IsoDate = Field(description="The title is no longer held from this day.")
    signer: Signer
    issuing_body: Body | None = None
    reason: Annotated[str, Field(min_length=1, max_length=5000)]


class CarryOverConfirm(Strict):
    """A provincial decision confirming a carry-over proposal (267/BNN-VPĐP)."""

    unit_event_id: uuid.UUID = Field(description="The merge the proposal comes from.")
    unit_id: uuid.UUID = Field(description="The unit the merge created or extended.")
    title: Title = Field(description="The proposed title (the lowest common one).")
    year_for: YearFor
    decision_number: DecisionNumber
    decision_date: IsoDate
    signer: Signer
    issuing_unit_id: uuid.UUID | None = None
    issuing_body: Body | None = None
    note: Note | None = None


# --- responses --------------------------------------------------------------------------------


class RecognisedUnit(BaseModel):
    """The recognised unit by its id, code, name and level."""

    id: uuid.UUID
    code: str
    name: str
    level: str


class RevocationOut(BaseModel):
    """The revocation of a title (thu hồi quyết định công nhận): the decision that revoked it,
    why, and the check it rested on."""

    decision_number: str
    decision_date: date
    signer: str
    issuing_body: str | None = None
    reason: str | None = None
    basis: dict[str, Any] | None = Field(
        default=None, description="The revocation check's finding, when the action rested on one."
    )
    revoked_at: datetime | None = None


class RecognitionOut(BaseModel):
    """A recognition (công nhận): a unit holds a title for a year by a signed decision, from the
    decision date until any revocation. `source` says whether it came from a dossier, a merge's
    carry-over or an import."""

    id: uuid.UUID
    unit_id: uuid.UUID
    unit: RecognisedUnit | None = Field(
        default=None, description="The unit as it stood on the decision date (or last stood)."
    )
    title: Title
    year_for: int
    decision_number: str
    decision_date: date
    signer: str
    issuing_unit_id: uuid.UUID | None = None
    issuing_body: str | None = None
    field: str | None = None
    note: str | None = None
    source: RecognitionSource
    dossier_id: uuid.UUID | None = None
    unit_event_id: uuid.UUID | None = None
    carried_from: list[uuid.UUID] | None = None
    held_from: date = Field(description="The decision date: first day the title is held.")
    held_until: date | None = Field(
        default=None, description="First day it is no longer held (the revocation); null: held."
    )
    revocation: RevocationOut | None = None
    revision: int
    created_at: datetime
    updated_at: datetime


class RecognitionPage(BaseModel):
    """One page of recognitions. Ask for the next page with `cursor=<next_cursor>`; null on the
    last page."""

    items: list[RecognitionOut]
    next_cursor: str | None = None
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


class UnitTitles(BaseModel):
    """What a unit held on a day."""

    unit_id: uuid.UUID
    as_of: date
    titles: list[Title] = Field(description="Titles held that day, by their own decisions.")
    recognitions: list[RecognitionOut] = Field(description="The recognitions in force that day.")


class HeldRecognition(BaseModel):
    """A recognition a predecessor held the day before a merger: its title, year and decision."""

    id: uuid.UUID
    title: Title
    year_for: int
    decision_number: str
    decision_date: date


class CarryOverPredecessor(BaseModel):
    """A unit merged into the new or extended one, with its highest title and the recognitions
    it held the day before the merger."""

    unit_id: uuid.UUID
    code: str | None = None
    name: str | None = None
    partly: bool = Field(description="Only a part of it went into the new unit.")
    is_successor: bool = Field(description="The unit the merge extended, with its own titles.")
    highest_title: Title | None = Field(
        description="Its highest title on the level's ladder the day before the merger."
    )
    recognitions: list[HeldRecognition] = Field(
        description="Its recognitions of the ladder's titles in force that day."
    )


class CarryOverProposal(BaseModel):
    """What a merge proposes for the unit it created or extended (267/BNN-VPĐP)."""

    unit_event_id: uuid.UUID
    effective_date: date
    legal_basis_number: str | None = None
    unit_id: uuid.UUID
    code: str
    name: str
    level: str
    extended: bool = Field(description="The merge extended an existing unit (else created it).")
    outcome: CarryOverOutcome
    title: Title | None = Field(
        description="The lowest common title, recognised without a new dossier once confirmed."
    )
    procedure_title: Title | None = Field(
        description="The title the unit must now build through the procedure, if any."
    )
    predecessors: list[CarryOverPredecessor]
    confirmed_recognition_id: uuid.UUID | None = Field(
        default=None, description="The recognition that confirmed the proposal, once recorded."
    )


class CarryOverProposalPage(BaseModel):
    """One page of carry-over proposals. Ask for the next page with `cursor=<next_cursor>`; null
    on the last page."""

    items: list[CarryOverProposal]
    next_cursor: str | None = None


class FailingCriterion(BaseModel):
    """A criterion the unit's latest assessment does not meet, by its number and name."""

    number: int
    name: str


class BandOut(BaseModel):
    """A revocation band of the criteria set: the share of failing criteria it covers, and the
    criteria whose failure puts a unit in it."""

    min_failing_share: float
    max_failing_share: float | None = None
    requires_failing_criterion: list[int]
    key_criteria_failing: list[int]


class RevocationCandidate(BaseModel):
    """A titled unit against its set's revocation bands, by its latest assessment."""

    recognition: RecognitionOut
    status: RevocationCheck
    assessment_id: uuid.UUID | None = None
    criteria_set_id: uuid.UUID | None = None
    criteria_set_code: str | None = None
    year: int | None = None
    kind: str | None = None
    failing_criteria: list[FailingCriterion] = Field(default_factory=list)
    failing_share: float | None = None
    band: BandOut | None = Field(default=None, description="The band it falls under, if any.")


class RevocationCheckPage(BaseModel):
    """One page of the revocation check on `as_of`: titled units against their set's revocation
    bands. Ask for the next page with `cursor=<next_cursor>`; null on the last page."""

    as_of: date
    items: list[RevocationCandidate]
    next_cursor: str | None = None


class RecognitionImportSummary(BaseModel):
    """What an import of recognition decisions did (or would do, on a dry run): rows read,
    created, updated, unchanged and rejected, with the rejections grouped by reason."""

    import_id: uuid.UUID
    format: str | None
    dry_run: bool
    partial: bool
    written: bool
    rows: int = Field(description="Decisions read from the file.")
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[RejectionGroup] = Field(
        description="The refused rows, grouped by the reason's code (most frequent first)."
    )


class RecognitionImportRejected(RecognitionImportSummary):
    """422 ``import_rejected``: a problem (RFC 9457) carrying the import's summary."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldError]
