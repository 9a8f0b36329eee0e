"""HTTP layer of the criteria feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["criteria"])
