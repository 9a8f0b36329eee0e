"""Request and response bodies of the units feature. Dates are ISO; open ends are ``null``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.pagination import TOTAL_DESCRIPTION
from app.core.types import IsoDate, StrictBool
from app.models.enums import (
    ClassificationKind,
    LinkConfidence,
    UnitEventKind,
    UnitLevel,
    UnitType,
)

Name = Annotated[str, Field(min_length=1, max_length=300)]
Code = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z._-]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LegalBasis(BaseModel):
    """The document a dated fact rests on, e.g. Resolution 202/2025/QH15."""

    number: str | None = Field(None, max_length=100, examples=["202/2025/QH15"])
    date: IsoDate | None = Field(None, examples=["2025-06-12"])
    issuer: str | None = Field(None, max_length=300, examples=["Quốc hội"])
    title: str | None = Field(None, max_length=2000)


class RequiredLegalBasis(Strict):
    """For events: number, date and issuer are required."""

    number: str = Field(min_length=1, max_length=100, examples=["1656/NQ-UBTVQH15"])
    date: IsoDate
    issuer: str = Field(min_length=1, max_length=300, examples=["Ủy ban Thường vụ Quốc hội"])
    title: str | None = Field(None, max_length=2000)


# --- reads -------------------------------------------------------------------------------------


class UnitRef(BaseModel):
    id: uuid.UUID
    level: UnitLevel
    code: str
    name: str
    type: UnitType


class UnitItem(BaseModel):
    """A unit as it was on the requested date (its version valid that day)."""

    id: uuid.UUID
    level: UnitLevel
    code: str
    name: str
    type: UnitType
    parent_id: uuid.UUID | None
    valid_from: IsoDate | None = Field(
        description="First day of this version; null: since before the records."
    )
    valid_to: IsoDate | None = Field(
        description="First day it no longer applies (exclusive); null: open."
    )
    may_be_older: bool = Field(
        description="The version starts on the first day the records know of (2004-08-31, the "
        "first dated statistics office list): it may have started earlier."
    )
    updated_at: datetime


class Classification(BaseModel):
    id: uuid.UUID
    kind: ClassificationKind
    value: str
    valid_from: IsoDate | None
    valid_to: IsoDate | None
    legal_basis: LegalBasis | None
    note: str | None


class UnitDetail(UnitItem):
    as_of: IsoDate = Field(description="The date the version shown is valid on.")
    version_id: uuid.UUID
    source_key: str | None = Field(description="Key in the bundled national dataset, if from it.")
    created_at: datetime
    parent: UnitRef | None
    classifications: list[Classification] = Field(description="Those valid on `as_of`.")


class UnitList(BaseModel):
    items: list[UnitItem]
    next_cursor: str | None = None
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


class AncestorList(BaseModel):
    items: list[UnitItem] = Field(description="From the province down to the direct parent.")


class Version(BaseModel):
    id: uuid.UUID
    valid_from: IsoDate | None
    valid_to: IsoDate | None
    level: UnitLevel
    code: str
    name: str
    type: UnitType
    parent_id: uuid.UUID | None
    parent: UnitRef | None = Field(description="The parent as it was on the version's first day.")
    event_id: uuid.UUID | None
    event_kind: UnitEventKind | None
    note: str | None
    created_at: datetime


class History(BaseModel):
    unit_id: uuid.UUID
    items: list[Version]


class ClassificationHistory(BaseModel):
    unit_id: uuid.UUID
    items: list[Classification]


class TreeNode(BaseModel):
    id: uuid.UUID
    level: UnitLevel
    code: str
    name: str
    type: UnitType
    valid_from: IsoDate | None
    valid_to: IsoDate | None
    children: list[TreeNode] = Field(default_factory=list)


class Tree(BaseModel):
    as_of: IsoDate
    depth: int
    count: int = Field(description="Nodes in the response.")
    items: list[TreeNode]


class EventRef(BaseModel):
    id: uuid.UUID
    kind: UnitEventKind
    effective_date: IsoDate
    legal_basis: LegalBasis | None


class LineageUnit(UnitRef):
    valid_from: IsoDate | None
    valid_to: IsoDate | None


class LineageEntry(BaseModel):
    unit: LineageUnit = Field(
        description="As it was just before (predecessor) or on (successor) the date."
    )
    via_id: uuid.UUID = Field(
        description="The unit it is linked to, one step closer to the subject."
    )
    depth: int = Field(description="1 for a direct predecessor or successor.")
    effective_date: IsoDate
    partly: bool = Field(description="Only part of the predecessor went to the successor.")
    confidence: LinkConfidence = Field(
        description="`stated`: a source names the link (a resolution, the 2025 conversion "
        "table, a user); `inferred`: a documented rule derived it from two dated lists."
    )
    rule: str | None = Field(
        description="How the link is known: the inference rule (`children_followed`, "
        "`children_from`, `name_carries_over`, `same_parent_one_new`, `code_survives_absorbs`) "
        "or the source (`conversion_table_2025`, a resolution number); null when recorded "
        "through the API."
    )
    event: EventRef | None


class Lineage(BaseModel):
    unit: UnitRef
    predecessors: list[LineageEntry]
    successors: list[LineageEntry]


# --- writes ------------------------------------------------------------------------------------


class UnitCreate(Strict):
    id: uuid.UUID | None = Field(None, description="Client-chosen id (offline creation).")
    level: UnitLevel | None = Field(None, description="Implied by `type`; checked if given.")
    type: UnitType
    code: Code
    name: Name
    parent_id: uuid.UUID | None = None
    valid_from: IsoDate | None = Field(
        None,
        description="Default: the first day of the parent's version valid today (a new village "
        "exists as long as its commune in its current form); today for a unit without parent.",
    )
    valid_to: IsoDate | None = None
    note: str | None = Field(None, max_length=2000)


class UnitPatch(Strict):
    """Changes of name, type, parent or code make a new version from ``effective_date``."""

    effective_date: IsoDate | None = Field(None, description="Required when anything changes.")
    name: Name | None = None
    type: UnitType | None = None
    parent_id: uuid.UUID | None = None
    code: Code | None = None
    note: str | None = Field(None, max_length=2000)


class NewUnit(Strict):
    """A unit an event creates; it is valid from the event's effective date."""

    id: uuid.UUID | None = None
    type: UnitType
    code: Code
    name: Name
    parent_id: uuid.UUID | None = None


class EventSource(Strict):
    unit_id: uuid.UUID
    partly: StrictBool = Field(
        False, description="Only part of it joins; it continues (with its children)."
    )


class Target(Strict):
    """Exactly one of an existing unit or a new one."""

    into_id: uuid.UUID | None = None
    new_unit: NewUnit | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.into_id is None) == (self.new_unit is None):
            raise ValueError("give exactly one of into_id and new_unit")
        return self


class EventBase(Strict):
    id: uuid.UUID | None = Field(None, description="Client-chosen id; replaying it is harmless.")
    effective_date: IsoDate = Field(description="First day the new map applies.")
    legal_basis: RequiredLegalBasis
    note: str | None = Field(None, max_length=2000)


class EstablishEvent(EventBase):
    kind: Literal[UnitEventKind.ESTABLISH]
    unit: NewUnit


class DissolveEvent(EventBase):
    kind: Literal[UnitEventKind.DISSOLVE]
    unit_id: uuid.UUID
    move_children_to: uuid.UUID | None = Field(
        None, description="Required when the unit still has children on the date."
    )


class MergeEvent(EventBase):
    """Several units into one new or existing unit; the children of absorbed units follow."""

    kind: Literal[UnitEventKind.MERGE]
    sources: list[EventSource] = Field(min_length=1, max_length=100)
    target: Target


class SplitEvent(EventBase):
    """One unit into several; with ``source_continues`` only a part leaves ("partly merged")."""

    kind: Literal[UnitEventKind.SPLIT]
    source_id: uuid.UUID
    source_continues: StrictBool = False
    parts: list[Target] = Field(min_length=1, max_length=100)
    move_children_to: uuid.UUID | None = Field(
        None, description="Where the children of an ending source go (e.g. one of the parts)."
    )


class RenameEvent(EventBase):
    kind: Literal[UnitEventKind.RENAME]
    unit_id: uuid.UUID
    name: Name


class ReclassifyEvent(EventBase):
    """A change of type within the level (xã → phường, tỉnh → thành phố trực thuộc TW)."""

    kind: Literal[UnitEventKind.RECLASSIFY]
    unit_id: uuid.UUID
    type: UnitType
    name: Name | None = Field(None, description="The name usually changes with the type.")


class TransferEvent(EventBase):
    kind: Literal[UnitEventKind.TRANSFER]
    unit_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    parent_id: uuid.UUID


EventBody = (
    EstablishEvent
    | DissolveEvent
    | MergeEvent
    | SplitEvent
    | RenameEvent
    | ReclassifyEvent
    | TransferEvent
)
UnitEventIn = Annotated[EventBody, Field(discriminator="kind")]


class LinkOut(BaseModel):
    predecessor_id: uuid.UUID
    successor_id: uuid.UUID
    partly: bool


class UnitEventOut(BaseModel):
    id: uuid.UUID
    kind: UnitEventKind
    effective_date: IsoDate
    legal_basis: LegalBasis | None
    note: str | None
    created_unit_ids: list[uuid.UUID]
    ended_unit_ids: list[uuid.UUID]
    changed_unit_ids: list[uuid.UUID] = Field(description="Units given a new version.")
    links: list[LinkOut]
    created_at: datetime


class ClassificationAssign(Strict):
    kind: ClassificationKind
    value: str = Field(min_length=1, max_length=64)
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(None, description="Default: open, or the end of the unit.")
    legal_basis: LegalBasis | None = None
    note: str | None = Field(None, max_length=2000)


class BulkClassificationItem(ClassificationAssign):
    unit_id: uuid.UUID


class BulkClassifications(Strict):
    items: list[BulkClassificationItem] = Field(min_length=1, max_length=5000)


class ClassificationResult(BaseModel):
    created: int
    updated: int = Field(description="Assignments starting on the same day, corrected.")
    unchanged: int
    closed: int = Field(description="Earlier assignments ended by a new one.")


class ImportRowError(BaseModel):
    row: int = Field(description="Line number in the file (the header is line 1).")
    field: str | None
    code: str
    msg: str


class ImportResult(BaseModel):
    rows: int
    created: int
    unchanged: int
    dry_run: bool
    unit_ids: list[uuid.UUID | None] = Field(
        description="One per row, in file order; in a dry run null for a village that would be "
        "created (unless the row gives its `id`)."
    )
