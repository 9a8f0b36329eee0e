"""A small published criteria set made for these tests, and a few communes of the national map.

The thresholds below are fixtures of a test set (code TEST-…), not legal values: they exist to
check that region- and year-dependent thresholds are applied, with numbers that are easy to
compute by hand.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from tests.assessments.helpers import unit_of

SET_CODE = "TEST-ASSESSMENTS-XA"

TEST_SET: dict[str, Any] = {
    "code": SET_CODE,
    "name": {"vi": "Bộ tiêu chí thử nghiệm (chỉ dùng cho kiểm thử)", "en": "Test set"},
    "title": "ntm_commune",
    "level": "commune",
    "period": {"start_year": 2021, "end_year": 2025},
    "legal_basis": {"number": "TEST/2024"},
    "applicability_rules": [{"if_classification": "especially_difficult", "use_region": "TDMNPB"}],
    "criteria": [
        {
            "number": 1,
            "name": {"vi": "Thu nhập"},
            "rule": {"kind": "all"},
            "indicators": [
                {
                    "code": "1.1",
                    "name": {"vi": "Thu nhập bình quân đầu người"},
                    "kind": "number",
                    "unit": "triệu đồng/người/năm",
                    "comparator": "ge",
                    "value_min": 0,
                    "thresholds": [
                        {"value": 40, "when": {"region": "TDMNPB", "year": 2023}},
                        {"value": 45, "when": {"region": "TDMNPB", "year": 2024}},
                        {"value": 55, "when": {"region": "DBSH", "year": 2023}},
                        {"value": 60, "when": {"region": "DBSH", "year": 2024}},
                    ],
                }
            ],
        },
        {
            "number": 2,
            "name": {"vi": "Hạ tầng"},
            "rule": {"kind": "all"},
            "indicators": [
                {
                    "code": "2.1",
                    "name": {"vi": "Tỷ lệ đường được cứng hóa"},
                    "kind": "number",
                    "unit": "%",
                    "comparator": "ge",
                    "value_min": 0,
                    "value_max": 100,
                    "thresholds": [{"value": 80}],
                },
                {
                    "code": "2.2",
                    "name": {"vi": "Có nhà văn hóa"},
                    "kind": "boolean",
                    "comparator": "eq",
                    "thresholds": [{"value": True}],
                },
            ],
        },
        {
            "number": 3,
            "name": {"vi": "Nghèo"},
            "rule": {"kind": "at_least", "k": 1},
            "indicators": [
                {
                    "code": "3.1",
                    "name": {"vi": "Tỷ lệ hộ nghèo"},
                    "kind": "number",
                    "unit": "%",
                    "comparator": "le",
                    "value_min": 0,
                    "value_max": 100,
                    "thresholds": [
                        {"value": 15, "when": {"region": "TDMNPB"}},
                        {"value": 5, "when": {"region": "DBSH"}},
                    ],
                },
                {
                    "code": "3.2",
                    "name": {"vi": "Số mô hình giảm nghèo"},
                    "kind": "number",
                    "comparator": "ge",
                    "value_min": 0,
                    "thresholds": [{"value": 2}],
                },
            ],
        },
        {
            "number": 4,
            "name": {"vi": "Y tế"},
            "rule": {"kind": "all"},
            "indicators": [
                {"code": "4.1", "name": {"vi": "Đánh giá của đoàn"}, "kind": "judgement"}
            ],
        },
    ],
    "conditions": [
        {
            "code": "resident_satisfaction",
            "name": {"vi": "Tỷ lệ hài lòng"},
            "kind": "number",
            "unit": "%",
            "comparator": "ge",
            "threshold": 70,
        },
        {
            "code": "no_outstanding_construction_debt",
            "name": {"vi": "Không nợ đọng"},
            "kind": "boolean",
            "comparator": "eq",
            "threshold": True,
        },
    ],
    "revocation": {
        "bands": [
            {"min_failing_share": 0.5},
            {
                "min_failing_share": 0.25,
                "max_failing_share": 0.5,
                "requires_failing_criterion": [1],
            },
        ]
    },
}

# Communes of the pre-2025 map: two in Bắc Giang (region TDMNPB), one in Hà Nội (DBSH).
COMMUNES = {"A": "07450", "B": "07453", "C": "00379", "D": "00382"}
LUC_NAM_DISTRICT = "218"


@pytest.fixture
async def criteria_set(admin_client: AsyncClient) -> dict[str, Any]:
    created = await admin_client.post("/api/v1/criteria-sets", json=TEST_SET)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    published = await admin_client.post(f"/api/v1/criteria-sets/{set_id}/publish")
    assert published.status_code == 200, published.text
    return dict(published.json())


@pytest.fixture
async def communes(client: AsyncClient) -> dict[str, uuid.UUID]:
    return {name: await unit_of(client, code) for name, code in COMMUNES.items()}
