"""Request and response bodies of the change feed, webhooks and the sync bundle."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.assessments.schemas import AssessmentDetail
from app.criteria.schemas import CriteriaSetSummary, ResolvedThresholds
from app.models.enums import WebhookDeliveryStatus
from app.units.schemas import UnitDetail


class FeedEvent(BaseModel):
    """One committed change, at its position in the feed."""

    position: int = Field(description="Where the event stands in the feed; never reused.")
    type: str = Field(description="`<entity>.<verb>`, e.g. `unit.dissolved`, `assessment.updated`.")
    occurred_at: datetime
    entity: str = Field(description="What was written, as the audit trail names it.")
    entity_id: str
    resource: str = Field(description="The kind of resource the link points to.")
    action: str
    version: int | None = Field(description="The entity's revision or version after the change.")
    etag: str | None = Field(description="The resource's strong ETag right after the change.")
    unit_id: uuid.UUID | None = Field(description="The unit the change is about, if any.")
    effective_date: date | None = Field(description="The date a map change takes effect.")
    tombstone: bool = Field(description="The entity is gone (deleted, dissolved).")
    link: str | None = Field(description="The resource's address, where it has one.")
    detail: dict[str, Any] | None = Field(description="Small facts, e.g. an import's counts.")


class FeedPage(BaseModel):
    """A page of the event feed, in position order. Ask for the next page with
    `after=<next_after>` (or follow `Link: rel=next`)."""

    items: list[FeedEvent]
    next_after: int = Field(description="Ask `after=` this next (also in `Link: rel=next`).")
    head: int = Field(description="The newest position when the page was read.")
    oldest_after: int = Field(
        description="The oldest `after` still served: events up to it were removed by retention."
    )


# --- webhooks -------------------------------------------------------------------------------


class WebhookCreate(BaseModel):
    """Subscribes a URL to events (Standard Webhooks): which event types, optionally only about
    one unit's subtree."""

    id: uuid.UUID | None = None
    url: str = Field(min_length=1, max_length=2000)
    event_types: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="`unit` or `unit.dissolved`…; empty: every event type.",
    )
    unit_id: uuid.UUID | None = Field(
        default=None, description="Only events about this unit's subtree; none: national."
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookPatch(BaseModel):
    """Changes a webhook subscription's URL, event types or description, or enables it again;
    fields not sent keep theirs."""

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = Field(
        default=None, description="`true` enables a disabled subscription again."
    )


class WebhookOut(BaseModel):
    """A webhook subscription: where events are sent, which ones, whether it is active, and the
    last feed position delivered."""

    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    unit_id: uuid.UUID | None
    active: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    position: int = Field(description="The last feed position turned into deliveries.")
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    """A webhook subscription as created, with its signing secret: the only time the secret is
    shown."""

    secret: str = Field(
        description="The signing secret (`whsec_…`, Standard Webhooks). Shown only here."
    )


class WebhookDeliveryOut(BaseModel):
    """One delivery of an event to a webhook: its status, attempts and the last response or
    error."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    message_id: str = Field(description="The `webhook-id` header: the same for every retry.")
    event_type: str
    position: int | None
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


# --- the sync bundle ----------------------------------------------------------------------------


class SyncVillage(BaseModel):
    """A village (thôn) of the commune in the sync bundle, with its validity."""

    id: uuid.UUID
    code: str | None
    name: str
    type: str
    valid_from: date
    valid_to: date | None


class SyncCriteriaSet(BaseModel):
    """A criteria set that applies to the commune, with its thresholds as they apply to it in
    the bundle's year."""

    criteria_set: CriteriaSetSummary
    thresholds: ResolvedThresholds = Field(
        description="Each indicator's threshold as it applies to this commune in `year`."
    )


class SyncAssessment(BaseModel):
    """An open assessment in the sync bundle, with the ETag to send as `If-Match` when writing
    it."""

    assessment: AssessmentDetail
    etag: str = Field(description="Send as `If-Match` when writing the assessment.")


class SyncBundle(BaseModel):
    """What a field device needs to work offline on one commune for a year: the unit, its
    villages, the criteria sets that apply, its open assessments, and the feed position to poll
    from."""

    unit: UnitDetail
    villages: list[SyncVillage]
    year: int
    criteria_sets: list[SyncCriteriaSet] = Field(
        description="Per title, the set that applies (a province's own before the national one)."
    )
    assessments: list[SyncAssessment] = Field(description="Open assessments: draft or submitted.")
    position: int = Field(description="Poll `/events?after=` this next.")
