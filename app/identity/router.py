"""HTTP layer of the identity feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["identity"])
