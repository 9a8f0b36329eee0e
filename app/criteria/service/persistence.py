"""Writing a document into a set's rows: a diff by natural key, so ids of what stays stay.

Groups are matched by code, criteria by number and indicators by code; their ids survive an edit
(assessments refer to indicators). Thresholds have no natural key and are rewritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.criteria import repository
from app.criteria.document import CriteriaSetDocument, IndicatorDocument, Threshold
from app.criteria.tree import Tree, export_document, indicator_document
from app.models.criteria import CriteriaGroup, Criterion, Indicator

Row = dict[str, Any]
# For each indicator code, one flag per threshold: True = the set's own value (in a derived set,
# the province's override), False = inherited from the parent.
OwnFlags = dict[str, list[bool]]


def threshold_key(threshold: Threshold) -> dict[str, Any]:
    """A document threshold in the exact shape the export gives, for comparison with a parent."""
    out: dict[str, Any] = {
        "value": threshold.value,
        "when": threshold.when.model_dump(exclude_none=True),
        "source": threshold.source,
        "confidence": threshold.confidence,
    }
    if threshold.note is not None:
        out["note"] = threshold.note
    if threshold.legal_basis is not None:
        out["legal_basis"] = threshold.legal_basis.model_dump(mode="json")
    return out


def _definition(indicator: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in indicator.items() if key != "thresholds"}


def parent_index(parent: Tree | None) -> dict[str, dict[str, Any]]:
    if parent is None:
        return {}
    return {row["code"]: indicator_document(row) for row in parent.indicators()}


def classify(doc: CriteriaSetDocument, parent: dict[str, dict[str, Any]]) -> OwnFlags:
    """Which thresholds of a derived document are the parent's (same value, dimensions, source)."""
    flags: OwnFlags = {}
    for criterion in doc.criteria:
        for indicator in criterion.indicators:
            available = list(parent.get(indicator.code, {}).get("thresholds", []))
            own = []
            for threshold in indicator.thresholds:
                key = threshold_key(threshold)
                if key in available:
                    available.remove(key)
                    own.append(False)
                else:
                    own.append(True)
            flags[indicator.code] = own
    return flags


def current_flags(tree: Tree) -> OwnFlags:
    return {
        row["code"]: [not t["inherited"] for t in row["thresholds"]] for row in tree.indicators()
    }


def _indicator_origin(
    indicator: IndicatorDocument, own: Sequence[bool], parent: dict[str, dict[str, Any]]
) -> tuple[bool, bool]:
    """(inherited, overridden) of an indicator in a derived set."""
    original = parent.get(indicator.code)
    if original is None:
        return False, False
    mine = _definition(indicator.model_dump(mode="json"))
    unchanged = (
        mine == _definition(original)
        and not any(own)
        and len(indicator.thresholds) == len(original["thresholds"])
    )
    return unchanged, not unchanged


def _legal_basis_columns(threshold: Threshold) -> dict[str, Any]:
    basis = threshold.legal_basis
    return {
        "legal_basis_number": basis.number if basis else None,
        "legal_basis_date": basis.date if basis else None,
        "legal_basis_issuer": basis.issuer if basis else None,
        "legal_basis_signer": basis.signer if basis else None,
        "legal_basis_title": basis.title if basis else None,
        "legal_basis_url": basis.url if basis else None,
    }


def _split(
    rows: list[Row], existing: Mapping[Any, uuid.UUID], key: str
) -> tuple[list[Row], list[Row], dict[Any, uuid.UUID]]:
    inserts: list[Row] = []
    updates: list[Row] = []
    ids: dict[Any, uuid.UUID] = {}
    for row in rows:
        known = existing.get(row[key])
        row["id"] = known or uuid.uuid4()
        ids[row[key]] = row["id"]
        (updates if known else inserts).append(row)
    return inserts, updates, ids


async def write_tree(
    session: AsyncSession,
    set_id: uuid.UUID,
    doc: CriteriaSetDocument,
    own: OwnFlags,
    parent: dict[str, dict[str, Any]] | None,
) -> None:
    """Make the set's groups, criteria, indicators and thresholds those of ``doc``."""
    old_groups, old_criteria, old_indicators = await repository.child_keys(session, set_id)

    group_rows = [
        {
            "criteria_set_id": set_id,
            "code": g.code,
            "name_vi": g.name.vi,
            "name_en": g.name.en,
            "confidence": g.confidence,
            "position": position,
        }
        for position, g in enumerate(doc.groups)
    ]
    inserts, updates, group_ids = _split(group_rows, old_groups, "code")
    await repository.write_rows(session, CriteriaGroup, inserts, updates)

    criterion_rows = [
        {
            "criteria_set_id": set_id,
            "group_id": group_ids.get(c.group) if c.group else None,
            "number": c.number,
            "name_vi": c.name.vi,
            "name_en": c.name.en,
            "rule_kind": c.rule.kind,
            "rule_k": getattr(c.rule, "k", None),
            "source": c.source,
            "confidence": c.confidence,
            "note": c.note,
            "position": position,
        }
        for position, c in enumerate(doc.criteria)
    ]
    inserts, updates, criterion_ids = _split(criterion_rows, old_criteria, "number")
    await repository.write_rows(session, Criterion, inserts, updates)

    indicator_rows = []
    threshold_rows: list[Row] = []
    position = 0
    for criterion in doc.criteria:
        for indicator in criterion.indicators:
            flags = own.get(indicator.code) or [True] * len(indicator.thresholds)
            inherited, overridden = (
                _indicator_origin(indicator, flags, parent)
                if parent is not None
                else (False, False)
            )
            indicator_rows.append(
                {
                    "criteria_set_id": set_id,
                    "criterion_id": criterion_ids[criterion.number],
                    "code": indicator.code,
                    "name_vi": indicator.name.vi,
                    "name_en": indicator.name.en,
                    "kind": indicator.kind,
                    "unit": indicator.unit,
                    "comparator": indicator.comparator,
                    "value_min": indicator.value_min,
                    "value_max": indicator.value_max,
                    "left_to_province": indicator.left_to_province,
                    "source": indicator.source,
                    "confidence": indicator.confidence,
                    "note": indicator.note,
                    "inherited": inherited,
                    "overridden": overridden,
                    "position": position,
                }
            )
            position += 1
    new_indicators, kept_indicators, indicator_ids = _split(indicator_rows, old_indicators, "code")
    await repository.write_rows(session, Indicator, new_indicators, kept_indicators)

    await repository.delete_rows(
        session,
        Indicator,
        (id_ for code, id_ in old_indicators.items() if code not in indicator_ids),
    )
    await repository.delete_rows(
        session,
        Criterion,
        (id_ for number, id_ in old_criteria.items() if number not in criterion_ids),
    )
    await repository.delete_rows(
        session, CriteriaGroup, (id_ for code, id_ in old_groups.items() if code not in group_ids)
    )

    await repository.delete_thresholds(session, [row["id"] for row in kept_indicators])
    for criterion in doc.criteria:
        for indicator in criterion.indicators:
            flags = own.get(indicator.code) or [True] * len(indicator.thresholds)
            for index, (threshold, mine) in enumerate(
                zip(indicator.thresholds, flags, strict=True)
            ):
                value = threshold.value
                threshold_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "indicator_id": indicator_ids[indicator.code],
                        "value_number": None if isinstance(value, bool) else float(value),
                        "value_bool": value if isinstance(value, bool) else None,
                        "region": threshold.when.region,
                        "year": threshold.when.year,
                        "commune_group": threshold.when.commune_group,
                        "classification": threshold.when.classification,
                        "source": threshold.source,
                        "confidence": threshold.confidence,
                        "note": threshold.note,
                        "inherited": parent is not None and not mine,
                        **_legal_basis_columns(threshold),
                        "position": index,
                    }
                )
    await repository.insert_thresholds(session, threshold_rows)


def document_of(tree: Tree) -> CriteriaSetDocument:
    return CriteriaSetDocument.model_validate(export_document(tree))
