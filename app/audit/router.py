"""GET /api/v1/audit (read-only; filters and scoping arrive with the identity feature)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/audit", tags=["audit"])
