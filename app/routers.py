"""Every router of the service, in one place."""

from __future__ import annotations

from fastapi import APIRouter

from app.assessments.router import router as assessments_router
from app.audit.router import router as audit_router
from app.criteria.router import router as criteria_router
from app.dossiers.router import router as dossiers_router
from app.identity.router import router as identity_router
from app.integration.router import router as integration_router
from app.plans.router import router as plans_router
from app.recognitions.router import router as recognitions_router
from app.reports.router import router as reports_router
from app.system.router import router as system_router
from app.units.router import router as units_router

root_router = APIRouter()
root_router.include_router(system_router)

api_router = APIRouter()
api_router.include_router(identity_router)
api_router.include_router(units_router)
api_router.include_router(criteria_router)
api_router.include_router(assessments_router)
api_router.include_router(recognitions_router)
api_router.include_router(dossiers_router)
api_router.include_router(plans_router)
api_router.include_router(audit_router)
api_router.include_router(integration_router)
api_router.include_router(reports_router)
