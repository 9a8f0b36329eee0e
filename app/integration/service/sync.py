"""``GET /sync/bundle?unit_id=``: what a field app needs offline for one commune, read in one
transaction: the commune and its villages today, the published commune-level criteria sets that
apply to it in the year (per title, a province's own set before the national one) with each
indicator's threshold as it applies to that commune (the criteria resolution service), its open
assessments (draft or submitted) with their values, and the feed position to continue from.

The position is read first: anything committed while the bundle is assembled comes after it, so
an app that polls ``/events?after=<position>`` next misses nothing (it may see a change twice,
which an ETag or version comparison absorbs)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service import assessments as assessments_service
from app.core import authz
from app.core.clock import today
from app.core.errors import NotFound, Unprocessable, field_error
from app.core.http import Language, etag_for
from app.core.permissions import Action
from app.core.security import Principal
from app.criteria.service import reading as criteria_reading
from app.criteria.service import resolution
from app.models.enums import AssessmentStatus, CriteriaSetStatus, UnitLevel
from app.outbox import service as outbox
from app.units import query as units_query
from app.units import service as units_service

OPEN = (AssessmentStatus.DRAFT.value, AssessmentStatus.SUBMITTED.value)
PAGE = 500


def unit_not_found(unit_id: uuid.UUID) -> NotFound:
    return authz.not_found("unit", unit_id)


def _applicable(sets: list[dict[str, Any]], chain: set[str]) -> list[dict[str, Any]]:
    """Per title, the set of the nearest scope: a province's (derived) set over the national
    one; among equals the latest period start."""
    chosen: dict[str, dict[str, Any]] = {}
    for item in sets:
        scope = item["scope"]
        if scope["kind"] != "national" and scope.get("unit_id") not in chain:
            continue
        rank = (scope["kind"] != "national", item["period"]["start_year"])
        current = chosen.get(item["title"])
        if current is None or rank > current["_rank"]:
            chosen[item["title"]] = {**item, "_rank": rank}
    return [{k: v for k, v in item.items() if k != "_rank"} for _, item in sorted(chosen.items())]


async def _sets(
    session: AsyncSession, principal: Principal, language: Language, year: int
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        items, cursor, _ = await criteria_reading.list_sets(
            session,
            principal,
            language,
            level=UnitLevel.COMMUNE.value,
            year=year,
            status=CriteriaSetStatus.PUBLISHED.value,
            cursor=cursor,
            limit=PAGE,
        )
        found += items
        if cursor is None:
            return found


async def bundle(
    session: AsyncSession,
    principal: Principal,
    unit_id: uuid.UUID,
    year: int | None,
    language: Language,
) -> tuple[dict[str, Any], str]:
    """(body, ETag). The ETag covers everything but the position, so that a bundle unchanged
    since the app's copy answers 304 however much else the platform wrote meanwhile."""
    position = await outbox.head(session)
    position = max(position, await outbox.pruned_through(session))
    await authz.require(
        session,
        principal,
        Action.ASSESSMENTS_READ,
        unit_id=unit_id,
        missing=unit_not_found(unit_id),
    )
    day = today()
    year = year or day.year
    unit, _ = await units_service.get_unit(session, unit_id, None)
    if unit["level"] != UnitLevel.COMMUNE.value:
        msg = f"A sync bundle is made for a commune; unit {unit_id} is a {unit['level']}."
        raise Unprocessable(
            msg,
            code="sync_unit_not_commune",
            errors=[field_error(["query", "unit_id"], msg, "sync_unit_not_commune")],
            params={"id": str(unit_id), "level": unit["level"]},
        )
    villages = await units_query.units_in_subtree(
        session, [unit_id], day, level=UnitLevel.VILLAGE.value
    )
    chain = {str(u.unit_id) for u in await units_query.chain_on(session, unit_id, day)}
    criteria_sets: list[dict[str, Any]] = []
    for item in _applicable(await _sets(session, principal, language, year), chain):
        thresholds = await resolution.resolve_for(
            session, principal, uuid.UUID(item["id"]), unit_id, year, None, language
        )
        criteria_sets.append({"criteria_set": item, "thresholds": thresholds})
    assessments: list[dict[str, Any]] = []
    for status in OPEN:
        cursor = None
        while True:
            page = await assessments_service.list_assessments(
                session,
                unit_id=unit_id,
                criteria_set_id=None,
                year=None,
                kind=None,
                status=status,
                updated_since=None,
                cursor=cursor,
                limit=PAGE,
                with_evaluation=False,
                language=language,
                principal=principal,
            )
            for row in page.items:
                detail, etag = await assessments_service.detail(
                    session, row["id"], language, principal
                )
                assessments.append({"assessment": detail, "etag": etag})
            cursor = page.next_cursor
            if cursor is None:
                break
    content = {
        "unit": unit,
        "villages": [
            {
                "id": v.unit_id,
                "code": v.code,
                "name": v.name,
                "type": v.type,
                "valid_from": v.valid_from,
                "valid_to": v.valid_to,
            }
            for v in villages
        ],
        "year": year,
        "criteria_sets": criteria_sets,
        "assessments": sorted(assessments, key=lambda a: str(a["assessment"]["id"])),
    }
    etag = etag_for(content)
    return {**content, "position": position}, etag
