"""``/api/v1/webhooks``: subscriptions, their delivery log, redelivery and a test ping."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.audit.service import AuditContextDep
from app.core.errors import problem_responses
from app.core.http import FastJSONResponse, IfMatch
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    Page,
    model_page_response,
)
from app.core.permissions import Action
from app.core.security import Principal, SettingsDep, require
from app.db.session import SessionDep
from app.integration.schemas import (
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryOut,
    WebhookOut,
    WebhookPatch,
)
from app.integration.service import webhooks as service
from app.worker import wake_worker

router = APIRouter(prefix="/webhooks", tags=["integration"])

Manager = Annotated[Principal, require(Action.WEBHOOKS_MANAGE)]


def _json(body: WebhookOut | WebhookDeliveryOut, status: int, etag: str | None = None) -> Response:
    headers = {"ETag": etag} if etag else None
    return FastJSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=201,
    summary="Subscribe a URL to change events (the signing secret is shown once, here)",
    description="The URL must be HTTPS and resolve only to public addresses (SSRF), unless the "
    "deployment allows otherwise (`NTM_WEBHOOK_ALLOW_HTTP`, `NTM_WEBHOOK_ALLOWED_NETWORKS`). "
    "Deliveries start with the events after this subscription.",
    responses={
        200: {"model": WebhookOut, "description": "Already created (the same id and body)."},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def create_webhook(
    body: WebhookCreate,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Manager,
    settings: SettingsDep,
) -> Response:
    item, etag, created = await service.create(session, audit, body, principal, settings)
    await session.commit()
    return _json(item, 201 if created else 200, etag)


@router.get(
    "",
    response_model=Page[WebhookOut],
    summary="Webhook subscriptions within the caller's scope",
    responses=problem_responses(401, 403, 422),
)
async def list_webhooks(
    request: Request,
    session: SessionDep,
    principal: Manager,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Response:
    page = await service.list_subscriptions(session, principal, limit, cursor)
    return model_page_response(request, page)


@router.get(
    "/{webhook_id}",
    response_model=WebhookOut,
    summary="One webhook subscription (without its secret)",
    responses=problem_responses(401, 403, 404),
)
async def get_webhook(webhook_id: uuid.UUID, session: SessionDep, principal: Manager) -> Response:
    item, etag = await service.get(session, principal, webhook_id)
    return _json(item, 200, etag)


@router.patch(
    "/{webhook_id}",
    response_model=WebhookOut,
    summary="Change a subscription: URL, event types, description; `active: true` re-enables",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def patch_webhook(
    webhook_id: uuid.UUID,
    body: WebhookPatch,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Manager,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> Response:
    item, etag = await service.patch(
        session, audit, webhook_id, body, principal, if_match, settings
    )
    await session.commit()
    return _json(item, 200, etag)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[WebhookDeliveryOut],
    summary="The delivery log of a subscription, newest first, with each outcome",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_deliveries(
    request: Request,
    webhook_id: uuid.UUID,
    session: SessionDep,
    principal: Manager,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Response:
    page = await service.list_deliveries(session, principal, webhook_id, limit, cursor)
    return model_page_response(request, page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=WebhookDeliveryOut,
    status_code=202,
    summary="Send a delivery's message again (same `webhook-id`), queued for the worker",
    responses=problem_responses(401, 403, 404),
)
async def redeliver(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Manager,
) -> Response:
    item = await service.redeliver(session, audit, webhook_id, delivery_id, principal)
    await session.commit()
    wake_worker(request.app)
    return _json(item, 202)


@router.post(
    "/{webhook_id}/ping",
    response_model=WebhookDeliveryOut,
    status_code=202,
    summary="Queue a test message (`webhook.ping`) to the subscription's URL",
    responses=problem_responses(401, 403, 404),
)
async def ping(
    webhook_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    audit: AuditContextDep,
    principal: Manager,
) -> Response:
    item = await service.ping(session, audit, webhook_id, principal)
    await session.commit()
    wake_worker(request.app)
    return _json(item, 202)
