"""Small documents and units for the criteria tests.

Every number in these documents is test data, not a legal threshold: the reference values live in
app/criteria/data and carry their sources.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.units import BEGINNING_OF_TIME, END_OF_TIME, Unit, UnitClassification, UnitVersion

BASE = "/api/v1/criteria-sets"
LEGAL_BASIS = {
    "number": "TEST-1/QĐ-TTg",
    "date": "2022-03-08",
    "issuer": "Test issuer",
    "signer": None,
    "title": "Test decision",
    "url": None,
}


def document(code: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A small national commune set with every kind of threshold dimension."""
    doc: dict[str, Any] = {
        "format": "ntm.criteria-set/1",
        "code": code or f"TEST-{uuid.uuid4().hex[:10]}",
        "name": {"vi": "Bộ tiêu chí thử", "en": "Test criteria set"},
        "title": "ntm_commune",
        "level": "commune",
        "period": {"start_year": 2021, "end_year": 2025},
        "legal_basis": dict(LEGAL_BASIS),
        "scope": {"kind": "national"},
        "derived_from": None,
        "amends": None,
        "complete": False,
        "applicability_rules": [
            {"if_classification": "especially_difficult", "use_region": "TDMNPB", "source": "s1"}
        ],
        "sources": [{"id": "s1", "title": "Test source", "url": None, "confidence": "high"}],
        "groups": [
            {"code": "G1", "name": {"vi": "Kinh tế", "en": "Economy"}, "confidence": "high"},
            {"code": "G2", "name": {"vi": "Xã hội", "en": None}, "confidence": None},
        ],
        "criteria": [
            {
                "number": 10,
                "group": "G1",
                "name": {"vi": "Thu nhập", "en": "Income"},
                "rule": {"kind": "all"},
                "source": "s1",
                "confidence": "high",
                "note": None,
                "indicators": [
                    {
                        "code": "10.1",
                        "name": {"vi": "Thu nhập bình quân", "en": "Average income"},
                        "kind": "number",
                        "unit": "triệu đồng/người/năm",
                        "comparator": "ge",
                        "value_min": 0,
                        "value_max": None,
                        "thresholds": [
                            {
                                "value": 40,
                                "when": {"region": "TDMNPB"},
                                "source": "s1",
                                "confidence": "high",
                            },
                            {
                                "value": 41,
                                "when": {"region": "TDMNPB", "year": 2024},
                                "source": "s1",
                                "confidence": "high",
                            },
                            {
                                "value": 50,
                                "when": {"region": "DBSH"},
                                "source": "s1",
                                "confidence": "high",
                            },
                            {
                                "value": 45,
                                "when": {"year": 2024},
                                "source": "s1",
                                "confidence": "high",
                            },
                            {"value": 30, "when": {}, "source": "s1", "confidence": "low"},
                        ],
                        "left_to_province": False,
                        "source": "s1",
                        "confidence": "high",
                        "note": None,
                    }
                ],
            },
            {
                "number": 15,
                "group": "G2",
                "name": {"vi": "Y tế", "en": "Health"},
                "rule": {"kind": "at_least", "k": 1},
                "source": None,
                "confidence": None,
                "note": None,
                "indicators": [
                    {
                        "code": "15.1",
                        "name": {"vi": "Tỷ lệ thấp còi", "en": "Stunting"},
                        "kind": "number",
                        "unit": "%",
                        "comparator": "le",
                        "value_min": 0,
                        "value_max": 100,
                        "thresholds": [
                            {
                                "value": 24,
                                "when": {"region": "TDMNPB"},
                                "source": "s1",
                                "confidence": "medium",
                            },
                            {
                                "value": 16.5,
                                "when": {"region": "DBSH"},
                                "source": "s1",
                                "confidence": "medium",
                            },
                            {
                                "value": 20,
                                "when": {"classification": "especially_difficult"},
                                "source": "s1",
                                "confidence": "medium",
                            },
                        ],
                        "left_to_province": False,
                        "source": "s1",
                        "confidence": "medium",
                        "note": "test",
                    },
                    {
                        "code": "15.2",
                        "name": {"vi": "Đánh giá", "en": "Judgement"},
                        "kind": "judgement",
                        "unit": None,
                        "comparator": None,
                        "value_min": None,
                        "value_max": None,
                        "thresholds": [],
                        "left_to_province": False,
                        "source": None,
                        "confidence": None,
                        "note": None,
                    },
                    {
                        "code": "15.3",
                        "name": {"vi": "Do tỉnh quy định", "en": "Set by the province"},
                        "kind": "number",
                        "unit": "%",
                        "comparator": "ge",
                        "value_min": 0,
                        "value_max": 100,
                        "thresholds": [],
                        "left_to_province": True,
                        "source": None,
                        "confidence": None,
                        "note": None,
                    },
                    {
                        "code": "15.4",
                        "name": {"vi": "Có/không", "en": "Yes/no"},
                        "kind": "boolean",
                        "unit": None,
                        "comparator": "eq",
                        "value_min": None,
                        "value_max": None,
                        "thresholds": [
                            {"value": True, "when": {}, "source": None, "confidence": None}
                        ],
                        "left_to_province": False,
                        "source": None,
                        "confidence": None,
                        "note": None,
                    },
                ],
            },
        ],
        "conditions": [
            {
                "code": "resident_satisfaction",
                "name": {"vi": "Sự hài lòng", "en": "Satisfaction"},
                "kind": "number",
                "unit": "%",
                "comparator": "ge",
                "threshold": None,
                "left_to_province": True,
                "source": "s1",
                "note": None,
            }
        ],
        "prerequisites": [{"kind": "title", "title": "ntm_commune"}],
        "revocation": {
            "bands": [
                {"min_failing_share": 0.5},
                {
                    "min_failing_share": 0.3,
                    "max_failing_share": 0.5,
                    "requires_failing_criterion": [10],
                },
            ],
            "source": "s1",
            "note": None,
        },
    }
    doc.update(overrides)
    return doc


def group_document(code: str | None = None) -> dict[str, Any]:
    """A 2026-2030 style set whose thresholds depend on the commune group."""
    doc = document(code, period={"start_year": 2026, "end_year": 2030}, applicability_rules=[])
    indicator = doc["criteria"][0]["indicators"][0]
    indicator["thresholds"] = [
        {"value": 60, "when": {"commune_group": 1}, "source": "s1", "confidence": "high"},
        {"value": 55, "when": {"commune_group": 2}, "source": "s1", "confidence": "high"},
        {"value": 50, "when": {"commune_group": 3}, "source": "s1", "confidence": "high"},
    ]
    doc["criteria"] = doc["criteria"][:1]
    doc["revocation"] = None
    return doc


def clone(doc: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(doc)


def indicator(tree: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for c in tree["criteria"] for i in c["indicators"] if i["code"] == code)


def resolved(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in body["indicators"] if i["code"] == code)


async def create(client: AsyncClient, doc: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(BASE, json=doc)
    assert response.status_code == 201, response.text
    return response.json()


async def publish(client: AsyncClient, set_id: str) -> Response:
    return await client.post(f"{BASE}/{set_id}/publish")


async def create_published(client: AsyncClient, doc: dict[str, Any]) -> dict[str, Any]:
    created = await create(client, doc)
    response = await publish(client, created["id"])
    assert response.status_code == 200, response.text
    return response.json()


class Units:
    """Synthetic units (codes no real unit has) with dated versions and classifications."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        level: str,
        code: str,
        name: str,
        parent_id: uuid.UUID | None = None,
        *,
        valid_from: date = BEGINNING_OF_TIME,
        valid_to: date = END_OF_TIME,
        type_: str = "xa",
    ) -> uuid.UUID:
        unit_id = uuid.uuid4()
        self.session.add(Unit(id=unit_id, level=level))
        await self.session.flush()
        self.session.add(
            UnitVersion(
                unit_id=unit_id,
                valid_from=valid_from,
                valid_to=valid_to,
                level=level,
                code=code,
                name=name,
                name_folded=name.lower(),
                type=type_,
                parent_id=parent_id,
            )
        )
        await self.session.flush()
        return unit_id

    async def classify(
        self,
        unit_id: uuid.UUID,
        kind: str,
        value: str,
        *,
        valid_from: date = date(2021, 1, 1),
        valid_to: date = END_OF_TIME,
    ) -> None:
        self.session.add(
            UnitClassification(
                unit_id=unit_id, kind=kind, value=value, valid_from=valid_from, valid_to=valid_to
            )
        )
        await self.session.flush()

    async def commit(self) -> None:
        await self.session.commit()
