"""Request and response bodies of the units feature. Dates are ISO; open ends are ``null``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.pagination import TOTAL_DESCRIPTION
from app.core.types import IsoDate, StrictBool
from app.models.enums import (
    BasisSource,
    ClassificationKind,
    DateBasis,
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

    number: str | None = Field(
        None, max_length=100, examples=["202/2025/QH15"], description="The number as written."
    )
    date: IsoDate | None = Field(None, examples=["2025-06-12"], description="Date of signature.")
    issuer: str | None = Field(
        None, max_length=300, examples=["Quốc hội"], description="Who issued it."
    )
    title: str | None = Field(None, max_length=2000, description="Its title (trích yếu).")


class RequiredLegalBasis(Strict):
    """For events: number, date and issuer are required."""

    number: str = Field(
        min_length=1,
        max_length=100,
        examples=["1656/NQ-UBTVQH15"],
        description="The number as written (NQ-UBTVQH15: a resolution of the National "
        "Assembly Standing Committee).",
    )
    date: IsoDate = Field(description="Date of signature.")
    issuer: str = Field(
        min_length=1,
        max_length=300,
        examples=["Ủy ban Thường vụ Quốc hội"],
        description="Who issued it.",
    )
    title: str | None = Field(None, max_length=2000, description="Its title (trích yếu).")


# --- reads -------------------------------------------------------------------------------------


class UnitRef(BaseModel):
    """A unit named by its id, level, official code and name, as of the date read."""

    id: uuid.UUID
    level: UnitLevel
    code: str = Field(
        description="Official code of the statistics office (province 2 digits, district 3, "
        "commune 5; villages: the province's own). Codes are reused: a code means nothing "
        "without a date."
    )
    name: str = Field(description="The official name in Vietnamese, e.g. `Xã Lục Nam`.")
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
    """A dated classification of a unit that picks which thresholds apply to it:
    `ntm_region` (vùng, one of 7 regions of 318/QĐ-TTg, provinces), `especially_difficult`
    (xã/thôn đặc biệt khó khăn, "true"/"false"), `safe_zone` (xã an toàn khu, "true"/"false"),
    `commune_group` (nhóm xã 1, 2 or 3 of 51/2025/QĐ-TTg) or `urbanity` ("rural"/"urban").
    Valid on `[valid_from, valid_to)`."""

    id: uuid.UUID
    kind: ClassificationKind
    value: str = Field(
        description="Per kind: a region code (`TDMNPB`, `DBSH`, `BTB`, `DHNTB`, `TN`, `DNB`, "
        "`DBSCL`), `true`/`false`, `1`/`2`/`3`, or `rural`/`urban`."
    )
    valid_from: IsoDate | None = Field(description="First day; null: since before the records.")
    valid_to: IsoDate | None = Field(description="First day it no longer applies; null: open.")
    legal_basis: LegalBasis | None = Field(description="The decision that classified the unit.")
    note: str | None


class UnitDetail(UnitItem):
    """One unit as it was on `as_of`: the version valid that day, its parent then, and its
    classifications valid that day."""

    as_of: IsoDate = Field(description="The date the version shown is valid on.")
    version_id: uuid.UUID = Field(description="The id of the version shown (see the history).")
    source_key: str | None = Field(description="Key in the bundled national dataset, if from it.")
    created_at: datetime
    parent: UnitRef | None = Field(description="The parent on `as_of`; null for a province.")
    classifications: list[Classification] = Field(description="Those valid on `as_of`.")


class UnitList(BaseModel):
    """One page of units as they were on the requested date. Ask for the next page with
    `cursor=<next_cursor>`; null on the last page."""

    items: list[UnitItem]
    next_cursor: str | None = None
    total: int | None = Field(default=None, description=TOTAL_DESCRIPTION)


class AncestorList(BaseModel):
    """The chain of units above one unit on the requested date."""

    items: list[UnitItem] = Field(description="From the province down to the direct parent.")


class Version(BaseModel):
    """One version of a unit: its name, code, type and parent over `[valid_from, valid_to)`. A
    change of any of them (by an event or a dated edit) starts a new version."""

    id: uuid.UUID = Field(description="The version's id.")
    valid_from: IsoDate | None = Field(description="First day; null: since before the records.")
    valid_to: IsoDate | None = Field(description="First day it no longer applies; null: open.")
    level: UnitLevel
    code: str
    name: str
    type: UnitType
    parent_id: uuid.UUID | None
    parent: UnitRef | None = Field(description="The parent as it was on the version's first day.")
    event_id: uuid.UUID | None = Field(
        description="The event that started this version; null: a dated edit or the dataset."
    )
    event_kind: UnitEventKind | None
    note: str | None
    created_at: datetime


class History(BaseModel):
    """Every version of a unit, oldest first."""

    unit_id: uuid.UUID
    items: list[Version]


class ClassificationHistory(BaseModel):
    """A unit's classifications: all of them, or those valid on `as_of`."""

    unit_id: uuid.UUID
    items: list[Classification]


class TreeNode(BaseModel):
    """A unit in the tree, with its children on the same date."""

    id: uuid.UUID
    level: UnitLevel
    code: str
    name: str
    type: UnitType
    valid_from: IsoDate | None = Field(
        description="First day of this version; null: before the records."
    )
    valid_to: IsoDate | None = Field(description="First day it no longer applies; null: open.")
    children: list[TreeNode] = Field(default_factory=list, description="Empty at the last level.")


class Tree(BaseModel):
    """The units of the map on `as_of`, nested from the provinces down to `depth` levels."""

    as_of: IsoDate = Field(description="The date the map is read at.")
    depth: int = Field(
        description="Levels below the root (or the provinces) included; 0: the roots only."
    )
    count: int = Field(description="Nodes in the response.")
    items: list[TreeNode]


class EventRef(BaseModel):
    """The change of the map a lineage link comes from."""

    id: uuid.UUID
    kind: UnitEventKind
    effective_date: IsoDate
    legal_basis: LegalBasis | None
    date_basis: DateBasis | None = Field(
        description="How `effective_date` is known (see `UnitEventOut.date_basis`); `null` "
        "for an event recorded through the API."
    )
    basis_source: BasisSource | None = Field(
        description="Where the date and basis come from (see `UnitEventOut.basis_source`); "
        "`null` for an event recorded through the API."
    )


class LineageUnit(UnitRef):
    """A unit in a lineage, as it was on either side of the link, with the period of that
    version."""

    valid_from: IsoDate | None = Field(
        description="First day of this version; null: before the records."
    )
    valid_to: IsoDate | None = Field(description="First day it no longer applies; null: open.")


class LineageEntry(BaseModel):
    """A unit that came before (predecessor) or after (successor) another through a merge or
    split, with the date and the event."""

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
    """Where a unit comes from and where it went: its predecessors and successors through
    merges and splits, transitively."""

    unit: UnitRef
    predecessors: list[LineageEntry]
    successors: list[LineageEntry]


# --- writes ------------------------------------------------------------------------------------


class UnitCreate(Strict):
    """A new unit without an event: typically a village (thôn, bản, ấp, tổ dân phố, which the
    national code list does not hold). A province, district or commune is normally created by
    an `establish`, `merge` or `split` event with its legal basis. Sending the same `id` and
    body again answers the existing unit (200)."""

    id: uuid.UUID | None = Field(None, description="Client-chosen id (offline creation).")
    level: UnitLevel | None = Field(None, description="Implied by `type`; checked if given.")
    type: UnitType = Field(description="Its official type (the level follows from it).")
    code: Code = Field(description="Its code: the official one, or the province's for villages.")
    name: Name
    parent_id: uuid.UUID | None = Field(None, description="null only for a province.")
    valid_from: IsoDate | None = Field(
        None,
        description="Default: the first day of the parent's version valid today (a new village "
        "exists as long as its commune in its current form); today for a unit without parent.",
    )
    valid_to: IsoDate | None = Field(None, description="First day it no longer exists; null: open.")
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
    """A unit that a merge absorbs, wholly or in part."""

    unit_id: uuid.UUID
    partly: StrictBool = Field(
        False, description="Only part of it joins; it continues (with its children)."
    )


class Target(Strict):
    """Exactly one of an existing unit or a new one."""

    into_id: uuid.UUID | None = Field(None, description="An existing unit that receives it.")
    new_unit: NewUnit | None = Field(None, description="A unit the event creates.")

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
    """A new unit from `effective_date` (thành lập), with the legal basis that established it."""

    kind: Literal[UnitEventKind.ESTABLISH]
    unit: NewUnit


class DissolveEvent(EventBase):
    """A unit ends on `effective_date` (giải thể); its children, if any, move to
    `move_children_to`."""

    kind: Literal[UnitEventKind.DISSOLVE]
    unit_id: uuid.UUID
    move_children_to: uuid.UUID | None = Field(
        None, description="Required when the unit still has children on the date."
    )


class MergeEvent(EventBase):
    """Several units into one new or existing unit; the children of absorbed units follow."""

    kind: Literal[UnitEventKind.MERGE]
    sources: list[EventSource] = Field(
        min_length=1, max_length=100, description="The units merged."
    )
    target: Target = Field(description="The unit they become (new) or join (existing).")


class SplitEvent(EventBase):
    """One unit into several; with ``source_continues`` only a part leaves ("partly merged")."""

    kind: Literal[UnitEventKind.SPLIT]
    source_id: uuid.UUID = Field(description="The unit split.")
    source_continues: StrictBool = Field(
        False, description="true: it continues with what is left; false: it ends."
    )
    parts: list[Target] = Field(min_length=1, max_length=100, description="Where its parts go.")
    move_children_to: uuid.UUID | None = Field(
        None, description="Where the children of an ending source go (e.g. one of the parts)."
    )


class RenameEvent(EventBase):
    """A unit takes a new name from `effective_date` (đổi tên); its id and code stay."""

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
    """Units move to another parent from `effective_date` (điều chỉnh địa giới: e.g. villages
    to another commune)."""

    kind: Literal[UnitEventKind.TRANSFER]
    unit_ids: list[uuid.UUID] = Field(min_length=1, max_length=500, description="Units moved.")
    parent_id: uuid.UUID = Field(description="Their new parent.")


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
    """A lineage link an event made: `predecessor_id` (before) → `successor_id` (after)."""

    predecessor_id: uuid.UUID = Field(description="The unit before the event.")
    successor_id: uuid.UUID = Field(description="The unit after it.")
    partly: bool = Field(description="Only part of the predecessor went to the successor.")


class UnitEventOut(BaseModel):
    """An applied change of the map (a merge, split, rename, …) with what it did. Immutable
    once applied."""

    id: uuid.UUID
    kind: UnitEventKind
    effective_date: IsoDate = Field(description="First day the new map applies.")
    legal_basis: LegalBasis | None
    note: str | None
    created_unit_ids: list[uuid.UUID] = Field(description="Units the event created.")
    ended_unit_ids: list[uuid.UUID] = Field(
        description="Units whose last day is the day before `effective_date`."
    )
    changed_unit_ids: list[uuid.UUID] = Field(description="Units given a new version.")
    links: list[LinkOut]
    date_basis: DateBasis | None = Field(
        description="How `effective_date` is known, for events of the bundled dataset: "
        "`effective` (the resolution's effective date), `list` (FLAGGED: only the date of the "
        "first statistics-office list showing the change; it may have taken effect earlier) or "
        "`unconfirmed` (FLAGGED: no text available gives the date, e.g. 388/NQ-UBTVQH16). "
        "`null` for an event recorded through the API, whose date is the one its author stated."
    )
    basis_source: BasisSource | None = Field(
        description="Where the bundled event's date and legal basis come from: "
        "`commit_message`, `stated`, `reference`, `unmatched`, `list_date` or `unknown` "
        "(docs/units-dataset.md). `null` for an event recorded through the API."
    )
    created_at: datetime


class ClassificationAssign(Strict):
    """A classification of a unit from `valid_from`. It ends the assignment of the same kind
    that covers that day (kept as history); on the very day an assignment starts, it corrects
    it. A later assignment of the same kind is never overwritten: end this one before it
    (`valid_to`)."""

    kind: ClassificationKind
    value: str = Field(
        min_length=1,
        max_length=64,
        description="Per kind: a region code for `ntm_region`, `true`/`false` for "
        "`especially_difficult` and `safe_zone`, `1`/`2`/`3` for `commune_group`, "
        "`rural`/`urban` for `urbanity`.",
    )
    valid_from: IsoDate = Field(description="First day it applies.")
    valid_to: IsoDate | None = Field(None, description="Default: open, or the end of the unit.")
    legal_basis: LegalBasis | None = Field(
        None, description="The decision that classifies the unit, e.g. 861/QĐ-TTg for region III."
    )
    note: str | None = Field(None, max_length=2000)


class BulkClassificationItem(ClassificationAssign):
    """One classification of `unit_id` in a bulk assignment (see ClassificationAssign)."""

    unit_id: uuid.UUID


class BulkClassifications(Strict):
    """Classifications of many units, applied all or none (422 lists each problem with its
    index)."""

    items: list[BulkClassificationItem] = Field(min_length=1, max_length=5000)


class ClassificationResult(BaseModel):
    """What an assignment of classifications did, by count."""

    created: int = Field(description="New assignments.")
    updated: int = Field(description="Assignments starting on the same day, corrected.")
    unchanged: int = Field(description="Already assigned as sent: nothing written.")
    closed: int = Field(description="Earlier assignments ended by a new one.")


class ImportRowError(BaseModel):
    row: int = Field(description="Line number in the file (the header is line 1).")
    field: str | None
    code: str
    msg: str


class ImportResult(BaseModel):
    """What a villages import did (or, in a dry run, would do)."""

    rows: int = Field(description="Data rows in the file.")
    created: int = Field(description="Villages created (or that would be, in a dry run).")
    unchanged: int = Field(description="Rows naming a village that exists as sent.")
    dry_run: bool = Field(description="true: nothing was written.")
    unit_ids: list[uuid.UUID | None] = Field(
        description="One per row, in file order; in a dry run null for a village that would be "
        "created (unless the row gives its `id`)."
    )
