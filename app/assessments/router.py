"""HTTP layer of the assessments feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["assessments"])
