"""``GET /criteria-sets/{id}/thresholds``: every indicator's threshold for one unit in one year.

The unit is taken as of ``as_of`` (default: the last day of the year): its province by walking
the parents of its versions, the NTM region of the nearest unit that has one (provinces carry it),
its own especially-difficult and safe-zone classifications and its commune group.

Resolved once, then kept (published and retired sets only, whose content never changes under a
given ``version``): a resolution is kept per process under (set id, version, ``updated_at``,
unit, year, day, language, **map token**), where the map token is the one
``app.units.query.ancestry_on`` read in the same statement as the chain and classifications it
was computed from. A later read uses it only if the set's head row and the current map token,
read together in one statement, give the same key: every committed change of units, versions,
classifications or links draws a new token (database triggers, migration 0014), so a change is
seen by the very next resolution in every process, and nothing depends on time. The indicator
list depends only on the set and the unit's :class:`Subject` (region, year, group,
classifications), so it is built once per subject and shared by the units that have it. What
``resolve`` returns is shared with the cache: read it, never change it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, Unprocessable, field_error
from app.core.http import Language
from app.core.lru import Lru
from app.core.security import Principal
from app.criteria import repository
from app.criteria.service.reading import build_tree, may_read, not_found
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
from app.models.enums import ClassificationKind, CriteriaSetStatus, UnitLevel
from app.units import query as units_query

KINDS = [kind.value for kind in ClassificationKind]
TRUE = {"true", "1", "yes"}

# (set id, version, updated_at): names a published or retired set's content.
TreeKey = tuple[uuid.UUID, int, datetime]
# One unit's resolution: the set, unit, year, day, language and the map token it was read with.
ResolutionKey = tuple[TreeKey, uuid.UUID, int, date, Language, str]


# Every commune of the country fits (about 10,000 before 2025), each entry a few small dicts
# (the indicator list is shared per subject).
_resolutions: Lru[ResolutionKey, dict[str, Any]] = Lru(16_384)
_indicator_lists: Lru[tuple[TreeKey, Subject, Language], list[dict[str, Any]]] = Lru(1_024)
_condition_lists: Lru[tuple[TreeKey, Language], list[dict[str, Any]]] = Lru(256)


def _tree_key(tree: Tree) -> TreeKey | None:
    """The key of a set whose content cannot change under it; None for a draft."""
    head = tree.head
    if head["status"] == CriteriaSetStatus.DRAFT:
        return None
    return (head["id"], head["version"], head["updated_at"])


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
    return (await resolve_many(session, set_id, [(unit_id, year, as_of)], language))[0]


async def resolve_many(
    session: AsyncSession,
    set_id: uuid.UUID,
    wanted: Sequence[tuple[uuid.UUID, int, date | None]],
    language: Language,
) -> list[dict[str, Any]]:
    """Resolutions of several (unit, year, ``as_of``) under one set, in order: the set's head
    row and the map token in one statement, then every unit not already resolved under that
    token with one statement per day (chains and classifications together). The first
    (unit, year) that cannot be resolved raises, as ``resolve`` would for it alone."""
    found = await repository.head_with_map_token(session, set_id)
    if found is None:
        raise not_found(set_id)
    head, token = found
    tree = await build_tree(session, head)
    return await _resolve_all(session, tree, token, wanted, language)


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
    found = await repository.head_with_map_token(session, set_id)
    if found is None:
        raise not_found(set_id)
    head, token = found
    if not await may_read(session, principal, head):
        raise not_found(set_id)
    tree = await build_tree(session, head)
    return (await _resolve_all(session, tree, token, [(unit_id, year, as_of)], language))[0]


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


async def _resolve_all(
    session: AsyncSession,
    tree: Tree,
    token: str,
    wanted: Sequence[tuple[uuid.UUID, int, date | None]],
    language: Language,
) -> list[dict[str, Any]]:
    tree_key = _tree_key(tree)
    out: list[dict[str, Any] | None] = []
    missing: dict[date, set[uuid.UUID]] = {}
    for unit_id, year, as_of in wanted:
        when = as_of or date(year, 12, 31)
        kept = None
        if tree_key is not None:
            kept = _resolutions.get_fresh((tree_key, unit_id, year, when, language, token))
        out.append(kept)
        if kept is None:
            missing.setdefault(when, set()).add(unit_id)
    if not missing:
        return [item for item in out if item is not None]
    read = {
        when: await units_query.ancestry_on(session, unit_ids, when, kinds=KINDS)
        for when, unit_ids in missing.items()
    }
    done: list[dict[str, Any]] = []
    for (unit_id, year, as_of), kept in zip(wanted, out, strict=True):
        if kept is not None:
            done.append(kept)
            continue
        _check_period(tree, year)
        when = as_of or date(year, 12, 31)
        ancestry = read[when]
        chain = ancestry.chains.get(unit_id)
        if not chain:
            raise await _unit_missing(session, unit_id, year, when, as_of)
        resolved = _resolve(tree, tree_key, chain, ancestry, year, when, language)
        if tree_key is not None and ancestry.token is not None:
            _resolutions.keep((tree_key, unit_id, year, when, language, ancestry.token), resolved)
        done.append(resolved)
    return done


def _chain_row(version: units_query.DatedUnit) -> Row:
    return {
        "unit_id": version.unit_id,
        "level": version.level,
        "code": version.code,
        "name": version.name,
        "parent_id": version.parent_id,
    }


def _resolve(
    tree: Tree,
    tree_key: TreeKey | None,
    versions: Sequence[units_query.DatedUnit],
    ancestry: units_query.Ancestry,
    year: int,
    when: date,
    language: Language,
) -> dict[str, Any]:
    chain = [_chain_row(version) for version in versions]
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
    for row in chain:
        for entry in ancestry.classifications.get(row["unit_id"], ()):
            found.setdefault(entry.unit_id, {})[entry.kind] = {
                "unit_id": entry.unit_id,
                "kind": entry.kind,
                "value": entry.value,
                "legal_basis_number": entry.legal_basis_number,
                "legal_basis_date": entry.legal_basis_date,
            }
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
        "indicators": _indicators(tree, tree_key, subject, language),
        "conditions": _conditions(tree, tree_key, language),
    }


def _indicators(
    tree: Tree, tree_key: TreeKey | None, subject: Subject, language: Language
) -> list[dict[str, Any]]:
    """Every indicator's threshold for a subject: built once per (set, subject, language)."""
    key = (tree_key, subject, language) if tree_key is not None else None
    if key is not None:
        kept = _indicator_lists.get_fresh(key)
        if kept is not None:
            return kept
    indicators = [
        _resolve_indicator(tree, criterion, indicator, subject, language)
        for criterion in tree.criteria
        for indicator in criterion["indicators"]
    ]
    return _indicator_lists.keep(key, indicators) if key is not None else indicators


def _conditions(tree: Tree, tree_key: TreeKey | None, language: Language) -> list[dict[str, Any]]:
    key = (tree_key, language) if tree_key is not None else None
    if key is not None:
        kept = _condition_lists.get_fresh(key)
        if kept is not None:
            return kept
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
    return _condition_lists.keep(key, conditions) if key is not None else conditions


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
