"""Request and response bodies of the register of titles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.pagination import TOTAL_DESCRIPTION
from app.core.types import IsoDate, SingleLine
from app.models.enums import RecognitionSource, Title

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


class UnitRef(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    level: str


class RevocationOut(BaseModel):
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
    id: uuid.UUID
    unit_id: uuid.UUID
    unit: UnitRef | None = Field(
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
    items: list[RecognitionOut]
    next_cursor: str | None = None
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


class UnitTitles(BaseModel):
    """What a unit held on a day."""

    unit_id: uuid.UUID
    as_of: date
    titles: list[Title] = Field(description="Titles held that day, by their own decisions.")
    recognitions: list[RecognitionOut] = Field(description="The recognitions in force that day.")
