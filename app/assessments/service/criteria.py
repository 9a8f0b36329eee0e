"""What the assessments feature needs from the criteria feature, through its service only.

The criteria tree (cached by the criteria feature for published sets) becomes a :class:`SetSpec`
for the engine, and the criteria feature's threshold resolution for a unit and a year becomes a
map of :class:`Threshold` by indicator id, each with the reason the criteria feature gives.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.engine import (
    ConditionSpec,
    CriterionSpec,
    IndicatorSpec,
    Message,
    Msg,
    PrerequisiteSpec,
    RevocationBand,
    SetSpec,
    Threshold,
)
from app.assessments.service.common import UnitInYear
from app.core.errors import ProblemError, Unprocessable, field_error
from app.core.http import Language
from app.core.lru import Lru
from app.criteria.service.reading import get_tree
from app.criteria.service.resolution import resolve_many
from app.models.enums import (
    CriteriaSetStatus,
    IndicatorKind,
    PrerequisiteKind,
    ResolutionStatus,
)

_CACHE_SIZE = 64
_specs: Lru[tuple[uuid.UUID, int, datetime, str], SetSpec] = Lru(_CACHE_SIZE)


def _label(row: Mapping[Any, Any], language: Language) -> str:
    if language == "en" and row.get("name_en"):
        return str(row["name_en"])
    return str(row.get("name_vi") or row.get("name_en") or "")


def _doc_label(name: Any, language: Language) -> str:
    if isinstance(name, Mapping):
        return str(name.get(language) or name.get("vi") or name.get("en") or "")
    return str(name or "")


def _number(value: Any) -> float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    return float(value)


def _prerequisite(item: Mapping[str, Any]) -> PrerequisiteSpec:
    kind = str(item.get("kind", "other"))
    text: Message
    if kind == PrerequisiteKind.TITLE:
        text = Message(Msg.NEEDS_TITLE, {"title": _param(item.get("title"))})
    elif kind == PrerequisiteKind.INCOME_RATIO:
        text = Message(
            Msg.NEEDS_INCOME_RATIO,
            {
                "indicator": _param(item.get("indicator")),
                "ratio": _param(item.get("ratio")),
                "of_title": _param(item.get("of_title")),
            },
        )
    elif kind == PrerequisiteKind.SMART_VILLAGE:
        text = Message(Msg.NEEDS_SMART_VILLAGES, {"min_count": _param(item.get("min_count", 1))})
    else:
        text = Message(Msg.NEEDS_OTHER, {"kind": kind.replace("_", " ")})
    if item.get("note"):
        text = Message(Msg.WITH_NOTE, {"text": text, "note": str(item["note"])})
    data = {k: v for k, v in item.items() if k not in ("note",)}
    return PrerequisiteSpec(kind=kind, description=text, data=data)


def _param(value: Any) -> str | int | float | bool | None:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def _spec_from_tree(tree: Any, language: Language) -> SetSpec:
    head = tree.head
    criteria: list[CriterionSpec] = []
    indicators: list[IndicatorSpec] = []
    for criterion in tree.criteria:
        ids = []
        for row in criterion["indicators"]:
            ids.append(row["id"])
            indicators.append(
                IndicatorSpec(
                    id=row["id"],
                    code=row["code"],
                    criterion_id=criterion["id"],
                    name=_label(row, language),
                    kind=row["kind"],
                    comparator=row["comparator"],
                    unit=row["unit"],
                    value_min=row["value_min"],
                    value_max=row["value_max"],
                    left_to_province=bool(row["left_to_province"]),
                )
            )
        criteria.append(
            CriterionSpec(
                id=criterion["id"],
                number=criterion["number"],
                name=_label(criterion, language),
                rule=criterion["rule_kind"],
                k=criterion["rule_k"],
                group=criterion.get("group_code"),
                indicator_ids=tuple(ids),
            )
        )
    conditions = tuple(
        ConditionSpec(
            code=str(c["code"]),
            name=_doc_label(c.get("name"), language),
            kind=str(c.get("kind", IndicatorKind.BOOLEAN)),
            comparator=c.get("comparator"),
            threshold=_number(c.get("threshold")),
            unit=c.get("unit"),
            left_to_province=bool(c.get("left_to_province", False)),
            note=c.get("note"),
        )
        for c in head["conditions"] or []
    )
    revocation = head["revocation"] or {}
    bands = tuple(
        RevocationBand(
            min_failing_share=float(band.get("min_failing_share", 0)),
            max_failing_share=(
                float(band["max_failing_share"])
                if band.get("max_failing_share") is not None
                else None
            ),
            requires_failing_criterion=tuple(band.get("requires_failing_criterion") or ()),
        )
        for band in revocation.get("bands") or []
    )
    return SetSpec(
        id=head["id"],
        code=head["code"],
        name=_label(head, language),
        title=head["title"],
        level=head["level"],
        start_year=head["period_start_year"],
        end_year=head["period_end_year"],
        status=head["status"],
        criteria=tuple(criteria),
        indicators=tuple(indicators),
        conditions=conditions,
        prerequisites=tuple(_prerequisite(p) for p in head["prerequisites"] or []),
        revocation_bands=bands,
        revocation_note=revocation.get("note"),
    )


# What names a published or retired set's content: its ``version`` and ``updated_at`` (every
# write of a set bumps both; a published set's content never changes under them).
SetKey = tuple[int, datetime]


async def load_set(session: AsyncSession, set_id: uuid.UUID, language: Language = "vi") -> SetSpec:
    """The set as the engine sees it (404 ``criteria_set_not_found`` from the criteria feature)."""
    return (await load_keyed(session, set_id, language))[0]


async def load_keyed(
    session: AsyncSession, set_id: uuid.UUID, language: Language = "vi"
) -> tuple[SetSpec, SetKey | None]:
    """The set as the engine sees it and the key of its content; None for a draft, whose
    content may change under any key (nothing computed from it may be kept)."""
    tree = await get_tree(session, set_id)
    head = tree.head
    content: SetKey | None = None
    if head["status"] != CriteriaSetStatus.DRAFT:
        content = (head["version"], head["updated_at"])
    key = (head["id"], head["version"], head["updated_at"], language)
    kept = _specs.get_fresh(key) if content is not None else None
    if kept is not None:
        return kept, content
    spec = _spec_from_tree(tree, language)
    if content is not None:
        _specs.keep(key, spec)
    return spec, content


_MISSING = {
    "left_to_province": Msg.MISSING_LEFT_TO_PROVINCE,
    "region_unknown": Msg.MISSING_REGION_UNKNOWN,
    "commune_group_unknown": Msg.MISSING_COMMUNE_GROUP_UNKNOWN,
}


def _threshold_reason(reason: Mapping[str, Any]) -> Message:
    """Why this value applies, from the criteria feature's structured reason."""
    where = Message(Msg.WHERE, dict(reason.get("matched") or {}))
    if reason.get("province_override"):
        decision = reason.get("legal_basis") or {}
        number: str | Message = (
            str(decision["number"]) if decision.get("number") else Message(Msg.ITS_DECISION)
        )
        return Message(Msg.THRESHOLD_PROVINCE, {"number": number, "where": where})
    if reason.get("basis") == "default":
        return Message(Msg.THRESHOLD_DEFAULT)
    return Message(Msg.THRESHOLD_MATCHED, {"where": where})


def _threshold(item: Mapping[str, Any]) -> Threshold | None:
    if item["status"] == ResolutionStatus.JUDGEMENT:
        return None
    if item["status"] == ResolutionStatus.MISSING or item["value"] is None:
        why = _MISSING.get(str(item.get("missing_code")), Msg.MISSING_NOT_FOUND)
        return Threshold(
            value=None,
            reason=Message(Msg.THRESHOLD_MISSING, {"why": Message(why)}),
            source={"missing_code": item.get("missing_code")},
        )
    reason = item.get("reason") or {}
    return Threshold(value=_number(item["value"]), reason=_threshold_reason(reason), source=reason)


@dataclass(frozen=True, slots=True)
class ThresholdContext:
    """What picked the thresholds of a unit in a year, as the criteria feature reports it."""

    as_of: str
    region: str | None
    region_reason: Mapping[str, Any] | None
    classifications: tuple[str, ...]
    commune_group: int | None
    province: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Each indicator's threshold for one unit and year, by indicator id, and their context."""

    by_indicator: Mapping[uuid.UUID, Threshold]
    context: ThresholdContext


async def _resolve_many(
    session: AsyncSession,
    spec: SetSpec,
    wanted: list[tuple[uuid.UUID, int, date]],
    loc: tuple[str, ...],
) -> list[dict[str, Any]]:
    try:
        return await resolve_many(session, spec.id, wanted, "vi")
    except ProblemError as exc:
        # The criteria feature names its query parameters; name the caller's fields instead.
        if isinstance(exc, Unprocessable) and loc != ("query",):
            field = {"year_outside_period": "year"}.get(exc.code, "unit_id")
            raise Unprocessable(
                exc.detail,
                code=exc.code,
                errors=[field_error([*loc, field], exc.detail, exc.code)],
            ) from exc
        raise


# The engine's thresholds for one indicator list of the criteria feature (shared by every unit
# with the same subject, and kept by it per set version and subject), converted once. Keyed by
# the identity of the spec and the list; both are held by the entry, so an id cannot be reused
# while its entry lives.
_CONVERTED_SIZE = 1_024
_converted: Lru[tuple[int, int], tuple[SetSpec, list[Any], dict[uuid.UUID, Threshold]]] = Lru(
    _CONVERTED_SIZE
)


def _by_indicator(spec: SetSpec, indicators: list[Any]) -> Mapping[uuid.UUID, Threshold]:
    key = (id(spec), id(indicators))
    found = _converted.get_fresh(key)
    if found is not None and found[0] is spec and found[1] is indicators:
        return found[2]
    by_code = {indicator.code: indicator.id for indicator in spec.indicators}
    out: dict[uuid.UUID, Threshold] = {}
    for item in indicators:
        indicator_id = by_code.get(item["code"])
        threshold = _threshold(item)
        if indicator_id is not None and threshold is not None:
            out[indicator_id] = threshold
    _converted.keep(key, (spec, indicators, out))
    return out


def _thresholds(spec: SetSpec, resolved: Mapping[str, Any]) -> Thresholds:
    context = ThresholdContext(
        as_of=resolved["as_of"],
        region=resolved["region"],
        region_reason=resolved["region_reason"],
        classifications=tuple(resolved["classifications"]),
        commune_group=resolved["commune_group"],
        province=resolved["province"],
    )
    return Thresholds(_by_indicator(spec, resolved["indicators"]), context)


async def thresholds_for(
    session: AsyncSession,
    spec: SetSpec,
    unit_id: uuid.UUID,
    year: int,
    as_of: date,
    loc: tuple[str, ...] = ("query",),
) -> Thresholds:
    """Each indicator's threshold for the unit that year, and what picked them (region, …)."""
    (resolved,) = await _resolve_many(session, spec, [(unit_id, year, as_of)], loc)
    return _thresholds(spec, resolved)


async def thresholds_for_many(
    session: AsyncSession, items: list[tuple[Any, SetSpec, UnitInYear, int]]
) -> dict[Any, Thresholds]:
    """Thresholds for many (key, set, unit, year) at once, e.g. every commune of a province:
    one batch call of the criteria feature per set (which reads what it has not already
    resolved under the current map in one statement per day)."""
    by_set: dict[uuid.UUID, list[tuple[Any, SetSpec, UnitInYear, int]]] = {}
    for item in items:
        by_set.setdefault(item[1].id, []).append(item)
    out: dict[Any, Thresholds] = {}
    for group in by_set.values():
        spec = group[0][1]
        resolved = await _resolve_many(
            session, spec, [(unit.id, year, unit.as_of) for _, _, unit, year in group], ("query",)
        )
        for (key, _, _, _), one in zip(group, resolved, strict=True):
            out[key] = _thresholds(spec, one)
    return out
