"""HTTP layer of the units feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["units"])
