"""HTTP layer of the assessments feature: assessments, and bulk indicator values."""

from __future__ import annotations

from fastapi import APIRouter

from app.assessments.imports.router import router as imports_router
from app.assessments.router.assessments import router as assessments_router
from app.assessments.router.exports import router as exports_router

router = APIRouter()
router.include_router(assessments_router)
router.include_router(imports_router)
router.include_router(exports_router)
