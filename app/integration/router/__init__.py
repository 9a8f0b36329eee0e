"""The integration routes: ``/events``, ``/webhooks``, ``/sync``."""

from fastapi import APIRouter

from app.integration.router.feed import router as feed_router
from app.integration.router.sync import router as sync_router
from app.integration.router.webhooks import router as webhooks_router

router = APIRouter()
router.include_router(feed_router)
router.include_router(webhooks_router)
router.include_router(sync_router)
