"""``GET /criteria-sets/{id}/thresholds``: every indicator's threshold for one unit in one year.

The unit is taken as of ``as_of`` (default: the last day of the year): its province by walking
the parents of its versions, the NTM region of the nearest unit that has one (provinces carry it),
its own especially-difficult and safe-zone classifications and its commune group.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, Unprocessable, field_error
from app.core.http import Language
from app.core.security import Principal
from app.criteria import repository
from app.criteria.service.reading import build_tree, get_tree, readable_head
from app.criteria.thresholds import (
    Subject,
    basis_of,
    best_threshold,
    is_override,
    missing_reason,
    threshold_value,
    when_of,
)
from app.criteria.tree import Row, Tree, label, legal_basis, names
from app.db.intervals import Period
from app.models.enums import ClassificationKind, UnitLevel
from app.units import query as units_query

KINDS = [kind.value for kind in ClassificationKind]
TRUE = {"true", "1", "yes"}


async def unit_chain(session: AsyncSession, unit_id: uuid.UUID, when: date) -> list[Row]:
    """The unit and its ancestors as of ``when``, nearest first."""
    return await repository.unit_chain(session, unit_id, when)


def _unit(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": str(row["unit_id"]),
        "code": row["code"],
        "name": row["name"],
        "level": row["level"],
    }


def _source(tree: Tree, source_id: str | None) -> dict[str, Any] | None:
    if source_id is None:
        return None
    for source in tree.head["sources"]:
        if source.get("id") == source_id:
            return dict(source)
    return {"id": source_id}


def _region(
    tree: Tree, chain: list[Row], found: dict[uuid.UUID, dict[str, Row]], own: set[str]
) -> tuple[str | None, dict[str, Any]]:
    for rule in tree.head["applicability_rules"]:
        if rule["if_classification"] in own:
            return rule["use_region"], {
                "basis": "applicability_rule",
                "classification": rule["if_classification"],
                "note": rule.get("note"),
                "source": _source(tree, rule.get("source")),
            }
    for row in chain:
        entry = found.get(row["unit_id"], {}).get(ClassificationKind.NTM_REGION)
        if entry is not None:
            return entry["value"], {
                "basis": "unit" if row is chain[0] else row["level"],
                "unit": _unit(row),
                "legal_basis_number": entry["legal_basis_number"],
            }
    return None, {"basis": None, "note": "no NTM region is recorded for the unit or its parents"}


def _reason(tree: Tree, row: Mapping[str, Any]) -> dict[str, Any]:
    basis = basis_of(row, tree.derived)
    override = is_override(row, tree.derived)
    if override:
        decision = legal_basis(row) or legal_basis(tree.head)
    elif tree.derived and tree.parent is not None:
        decision = legal_basis(row) or legal_basis(tree.parent)
    else:
        decision = legal_basis(row) or legal_basis(tree.head)
    matched = when_of(row)
    where = ", ".join(f"{key} {value}" for key, value in matched.items()) or "any unit"
    if override:
        number = decision["number"] if decision else "its decision"
        detail = f"Set by the province ({number}) for {where}."
    elif basis == "default":
        detail = "The set's value for every unit."
    else:
        detail = f"The set's value for {where}."
    return {
        "basis": basis,
        "matched": matched,
        "province_override": override,
        "legal_basis": decision,
        "source": _source(tree, row["source"]),
        "confidence": row["confidence"],
        "note": row["note"],
        "detail": detail,
    }


def _check_period(tree: Tree, year: int) -> None:
    start, end = tree.head["period_start_year"], tree.head["period_end_year"]
    if not start <= year <= end:
        raise Unprocessable(
            f"Year {year} is outside the set's period {start}-{end}.",
            code="year_outside_period",
            errors=[
                field_error(["query", "year"], "outside the set's period", "year_outside_period")
            ],
        )


async def resolve(
    session: AsyncSession,
    set_id: uuid.UUID,
    unit_id: uuid.UUID,
    year: int,
    as_of: date | None,
    language: Language,
) -> dict[str, Any]:
    """Resolution for another feature (assessments), which reads only published sets."""
    return await _resolve(session, await get_tree(session, set_id), unit_id, year, as_of, language)


async def resolve_for(
    session: AsyncSession,
    principal: Principal | None,
    set_id: uuid.UUID,
    unit_id: uuid.UUID,
    year: int,
    as_of: date | None,
    language: Language,
) -> dict[str, Any]:
    """``GET …/thresholds``: 404 for a draft the caller may not read (see ``reading``)."""
    tree = await build_tree(session, await readable_head(session, principal, set_id))
    return await _resolve(session, tree, unit_id, year, as_of, language)


async def _unit_missing(
    session: AsyncSession, unit_id: uuid.UUID, year: int, when: date, as_of: date | None
) -> NotFound:
    """404 that says how to ask instead: a unit that existed during the year but not on the
    day read (a commune merged away on 1 July 2025 is gone on 31 December) resolves with
    ``as_of`` set to a day it existed."""
    message = f"No unit {unit_id} existed on {when.isoformat()}."
    params: dict[str, str] = {"id": str(unit_id)}
    versions = await units_query.versions_during(session, [unit_id], Period.year(year))
    if versions:
        last = max(versions, key=lambda version: version.valid_from)
        day = min(last.valid_to - timedelta(days=1), date(year, 12, 31))
        given = "" if as_of is not None else " (`as_of` defaults to 31 December of `year`)"
        message += (
            f" It existed during {year} until {day.isoformat()}{given}: "
            f"send `as_of={day.isoformat()}` to read it on a day it existed."
        )
        params.update(
            variant="existed_during_year",
            when=when.isoformat(),
            year=str(year),
            day=day.isoformat(),
        )
    return NotFound(message, code="unit_not_found", params=params)


async def _resolve(
    session: AsyncSession,
    tree: Tree,
    unit_id: uuid.UUID,
    year: int,
    as_of: date | None,
    language: Language,
) -> dict[str, Any]:
    _check_period(tree, year)
    when = as_of or date(year, 12, 31)
    chain = await unit_chain(session, unit_id, when)
    if not chain:
        raise await _unit_missing(session, unit_id, year, when, as_of)
    unit = chain[0]
    if unit["level"] != tree.head["level"]:
        raise Unprocessable(
            f"The set applies to a {tree.head['level']}; the unit is a {unit['level']}.",
            code="unit_level_mismatch",
            errors=[field_error(["query", "unit_id"], "wrong level", "unit_level_mismatch")],
        )
    province = next((row for row in chain if row["level"] == UnitLevel.PROVINCE), None)
    scope_id = tree.head["scope_unit_id"]
    if scope_id is not None and not any(row["unit_id"] == scope_id for row in chain):
        raise Unprocessable(
            f"The unit is not inside the set's scope ({tree.head['scope_unit_code']}) on "
            f"{when.isoformat()}.",
            code="unit_outside_scope",
            errors=[field_error(["query", "unit_id"], "outside the scope", "unit_outside_scope")],
        )

    found: dict[uuid.UUID, dict[str, Row]] = {}
    for entry in await repository.classifications_at(
        session, [row["unit_id"] for row in chain], KINDS, when
    ):
        found.setdefault(entry["unit_id"], {})[entry["kind"]] = entry
    mine = found.get(unit["unit_id"], {})
    flags = {
        kind
        for kind in (ClassificationKind.ESPECIALLY_DIFFICULT, ClassificationKind.SAFE_ZONE)
        if kind in mine and mine[kind]["value"].strip().lower() in TRUE
    }
    region, region_reason = _region(tree, chain, found, {str(kind) for kind in flags})
    group_entry = mine.get(ClassificationKind.COMMUNE_GROUP)
    commune_group = (
        int(group_entry["value"]) if group_entry and group_entry["value"].isdigit() else None
    )
    subject = Subject(
        region=region,
        year=year,
        commune_group=commune_group,
        classifications=frozenset(str(kind) for kind in flags),
    )

    indicators = []
    for criterion in tree.criteria:
        for indicator in criterion["indicators"]:
            indicators.append(_resolve_indicator(tree, criterion, indicator, subject, language))
    conditions = [
        {
            "code": c["code"],
            "name": label(c["name"], language),
            "kind": c["kind"],
            "unit": c.get("unit"),
            "comparator": c.get("comparator"),
            "value": c.get("threshold"),
            "status": _condition_status(c),
            "left_to_province": c.get("left_to_province", False),
            "source": _source(tree, c.get("source")),
        }
        for c in tree.head["conditions"]
    ]
    return {
        "criteria_set": {"id": str(tree.head["id"]), "code": tree.head["code"]},
        "year": year,
        "as_of": when.isoformat(),
        "unit": _unit(unit),
        "province": _unit(province),
        "region": region,
        "region_reason": region_reason,
        "classifications": sorted(str(kind) for kind in flags),
        "commune_group": commune_group,
        "indicators": indicators,
        "conditions": conditions,
    }


def _condition_status(condition: dict[str, Any]) -> str:
    if condition["kind"] == "judgement":
        return "judgement"
    return "missing" if condition.get("threshold") is None else "resolved"


def _resolve_indicator(
    tree: Tree, criterion: Row, indicator: Row, subject: Subject, language: Language
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "criterion": criterion["number"],
        "code": indicator["code"],
        "name": label(names(indicator), language),
        "kind": indicator["kind"],
        "unit": indicator["unit"],
        "comparator": indicator["comparator"],
        "value": None,
        "status": "resolved",
        "reason": None,
        "missing": None,
        "missing_code": None,
    }
    if indicator["kind"] == "judgement":
        out["status"] = "judgement"
        return out
    row = best_threshold(indicator["thresholds"], subject, tree.derived)
    if row is None:
        code, text = missing_reason(indicator, indicator["thresholds"], subject)
        out.update(status="missing", missing=text, missing_code=code)
        return out
    out["value"] = threshold_value(row)
    out["reason"] = _reason(tree, row)
    return out
