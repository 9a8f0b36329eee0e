"""HTTP layer of the identity feature: tokens, the caller, people and integration clients."""

from __future__ import annotations

from fastapi import APIRouter

from app.identity.router import auth, clients, me, users

router = APIRouter()
router.include_router(auth.router)
router.include_router(me.router)
router.include_router(users.router)
router.include_router(clients.router)
