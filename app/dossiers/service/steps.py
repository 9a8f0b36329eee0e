"""Procedure steps as other features name them: an appraiser's role assignment names the step
it acts at, ``<procedure>/<step>`` (e.g. ``commune-2025/provincial_appraisal``)."""

from __future__ import annotations

from app.dossiers import procedures
from app.dossiers.service.common import catalogue


def step_refs() -> list[str]:
    return procedures.step_refs(catalogue().procedures)


def is_step(ref: str) -> bool:
    return ref in step_refs()
