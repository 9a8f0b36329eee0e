"""A set's rows assembled into one tree, and the two ways out of it: the API and the document.

The tree is language-neutral and never mutated once built, so a published set's tree can be
cached per process and rendered per request language.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.core.http import Language, timestamp
from app.criteria.document import FORMAT
from app.criteria.thresholds import number, threshold_value, when_of
from app.models.enums import CriterionRule

Row = dict[str, Any]
LEGAL_BASIS_KEYS = ("number", "date", "issuer", "signer", "title", "url")


@dataclass(frozen=True)
class Tree:
    head: Row
    groups: list[Row]
    criteria: list[Row]  # each with "indicators", each of those with "thresholds"
    parent: Row | None
    amends: Row | None

    @property
    def derived(self) -> bool:
        return self.head["derived_from_id"] is not None

    def indicators(self) -> list[Row]:
        return [indicator for c in self.criteria for indicator in c["indicators"]]


def assemble(
    head: Row,
    groups: list[Row],
    criteria: list[Row],
    indicators: list[Row],
    thresholds: list[Row],
    refs: dict[uuid.UUID, Row],
) -> Tree:
    by_indicator: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for row in thresholds:
        by_indicator[row["indicator_id"]].append(row)
    by_criterion: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for row in indicators:
        by_criterion[row["criterion_id"]].append({**row, "thresholds": by_indicator[row["id"]]})
    group_codes = {g["id"]: g["code"] for g in groups}
    nested = [
        {
            **c,
            "group_code": group_codes.get(c["group_id"]),
            "indicators": by_criterion[c["id"]],
        }
        for c in criteria
    ]
    return Tree(
        head=head,
        groups=groups,
        criteria=nested,
        parent=refs.get(head["derived_from_id"]) if head["derived_from_id"] else None,
        amends=refs.get(head["amends_id"]) if head["amends_id"] else None,
    )


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def legal_basis(row: Mapping[str, Any], prefix: str = "legal_basis_") -> dict[str, Any] | None:
    if row.get(prefix + "number") is None:
        return None
    out = {key: row[prefix + key] for key in LEGAL_BASIS_KEYS}
    out["date"] = _date(out["date"])
    return out


def names(row: Row) -> dict[str, Any]:
    return {"vi": row["name_vi"], "en": row["name_en"]}


def label(name: dict[str, Any], language: Language) -> str:
    value = name.get(language) if language == "en" else None
    return str(value or name["vi"])


def scope(head: Row) -> dict[str, Any]:
    if head["scope_unit_id"] is None:
        return {"kind": "national"}
    return {
        "kind": "province",
        "unit_id": str(head["scope_unit_id"]),
        "unit_code": head["scope_unit_code"],
        "as_of": _date(head["scope_as_of"]),
    }


def threshold_document(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": threshold_value(row),
        "when": when_of(row),
        "source": row["source"],
        "confidence": row["confidence"],
    }
    if row["note"] is not None:
        out["note"] = row["note"]
    basis = legal_basis(row)
    if basis is not None:
        out["legal_basis"] = basis
    return out


def _rule(row: Row) -> dict[str, Any]:
    if row["rule_kind"] == CriterionRule.AT_LEAST:
        return {"kind": CriterionRule.AT_LEAST.value, "k": row["rule_k"]}
    return {"kind": row["rule_kind"]}


def indicator_document(row: Row) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": names(row),
        "kind": row["kind"],
        "unit": row["unit"],
        "comparator": row["comparator"],
        "value_min": number(row["value_min"]),
        "value_max": number(row["value_max"]),
        "thresholds": [threshold_document(t) for t in row["thresholds"]],
        "left_to_province": row["left_to_province"],
        "source": row["source"],
        "confidence": row["confidence"],
        "note": row["note"],
    }


def export_document(tree: Tree) -> dict[str, Any]:
    """The set as an ``ntm.criteria-set/1`` document; importing it gives the same set back."""
    head = tree.head
    return {
        "format": FORMAT,
        "code": head["code"],
        "name": names(head),
        "title": head["title"],
        "level": head["level"],
        "period": {"start_year": head["period_start_year"], "end_year": head["period_end_year"]},
        "legal_basis": legal_basis(head),
        "scope": scope(head),
        "derived_from": tree.parent["code"] if tree.parent else None,
        "amends": tree.amends["code"] if tree.amends else None,
        "complete": head["declared_complete"],
        "applicability_rules": head["applicability_rules"],
        "sources": head["sources"],
        "groups": [
            {"code": g["code"], "name": names(g), "confidence": g["confidence"]}
            for g in tree.groups
        ],
        "criteria": [
            {
                "number": c["number"],
                "group": c["group_code"],
                "name": names(c),
                "rule": _rule(c),
                "source": c["source"],
                "confidence": c["confidence"],
                "note": c["note"],
                "indicators": [indicator_document(i) for i in c["indicators"]],
            }
            for c in tree.criteria
        ],
        "conditions": head["conditions"],
        "prerequisites": head["prerequisites"],
        "revocation": head["revocation"],
    }


def _ref(row: Row | None, *, with_version: bool = False) -> dict[str, Any] | None:
    if row is None:
        return None
    out: dict[str, Any] = {"id": str(row["id"]), "code": row["code"]}
    if with_version:
        out["version"] = row["version"]
    return out


def summary(head: Row, language: Language, extra: Row | None = None) -> dict[str, Any]:
    """The set without its tree (list items, and the top of the full representation)."""
    name = names(head)
    extra = extra or {}
    derived_from = None
    if head["derived_from_id"] is not None:
        derived_from = {
            "id": str(head["derived_from_id"]),
            "code": extra.get("derived_from_code"),
            "version": head["derived_from_version"],
        }
    amends = None
    if head["amends_id"] is not None:
        amends = {"id": str(head["amends_id"]), "code": extra.get("amends_code")}
    return {
        "id": str(head["id"]),
        "code": head["code"],
        "name": label(name, language),
        "names": name,
        "title": head["title"],
        "level": head["level"],
        "period": {"start_year": head["period_start_year"], "end_year": head["period_end_year"]},
        "legal_basis": legal_basis(head),
        "scope": scope(head),
        "status": head["status"],
        "version": head["version"],
        "derived_from": derived_from,
        "amends": amends,
        "declared_complete": head["declared_complete"],
        "complete": head["complete"],
        "missing": head["missing"],
        "criteria_count": extra.get("criteria_count"),
        "indicator_count": extra.get("indicator_count"),
        "bundled": head["bundled_checksum"] is not None,
        "created_at": timestamp(head["created_at"]),
        "updated_at": timestamp(head["updated_at"]),
        "published_at": timestamp(head["published_at"]),
        "retired_at": timestamp(head["retired_at"]),
    }


def _localised(items: list[dict[str, Any]], language: Language) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if isinstance(item.get("name"), dict):
            item = {**item, "name": label(item["name"], language), "names": item["name"]}
        out.append(item)
    return out


def render_indicator(row: Row, language: Language, derived: bool) -> dict[str, Any]:
    name = names(row)
    return {
        "id": str(row["id"]),
        "code": row["code"],
        "name": label(name, language),
        "names": name,
        "kind": row["kind"],
        "unit": row["unit"],
        "comparator": row["comparator"],
        "value_min": number(row["value_min"]),
        "value_max": number(row["value_max"]),
        "left_to_province": row["left_to_province"],
        "source": row["source"],
        "confidence": row["confidence"],
        "note": row["note"],
        "inherited": row["inherited"],
        "overridden": row["overridden"],
        "thresholds": [
            {
                **threshold_document(t),
                "note": t["note"],
                "legal_basis": legal_basis(t),
                "province_override": derived and not t["inherited"],
            }
            for t in row["thresholds"]
        ],
    }


def render(tree: Tree, language: Language) -> dict[str, Any]:
    """The whole set for the API: groups, criteria with indicators and thresholds nested."""
    head = tree.head
    out = summary(
        head,
        language,
        {
            "derived_from_code": tree.parent["code"] if tree.parent else None,
            "amends_code": tree.amends["code"] if tree.amends else None,
            "criteria_count": len(tree.criteria),
            "indicator_count": sum(len(c["indicators"]) for c in tree.criteria),
        },
    )
    out.update(
        {
            "applicability_rules": head["applicability_rules"],
            "sources": head["sources"],
            "groups": [
                {
                    "code": g["code"],
                    "name": label(names(g), language),
                    "names": names(g),
                    "confidence": g["confidence"],
                }
                for g in tree.groups
            ],
            "criteria": [
                {
                    "id": str(c["id"]),
                    "number": c["number"],
                    "group": c["group_code"],
                    "name": label(names(c), language),
                    "names": names(c),
                    "rule": _rule(c),
                    "source": c["source"],
                    "confidence": c["confidence"],
                    "note": c["note"],
                    "indicators": [
                        render_indicator(i, language, tree.derived) for i in c["indicators"]
                    ],
                }
                for c in tree.criteria
            ],
            "conditions": _localised(head["conditions"], language),
            "prerequisites": head["prerequisites"],
            "revocation": head["revocation"],
        }
    )
    return out
