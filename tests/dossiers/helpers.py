"""A small criteria set and the steps tests take to build and move dossiers.

The thresholds and the satisfaction rate of the test set are fixtures (code TEST-…), not legal
values: they exist so that "meets the set" and the conditions can be computed by hand.
"""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient, Response

from app.core.permissions import Role
from tests.conftest import PrincipalFactory, TestPrincipal

API = "/api/v1"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DRAFT_DOCUMENTS = ("submission", "results_report", "opinions_report", "satisfaction_survey")


def dossier_set(code: str, title: str = "ntm_commune", level: str = "commune") -> dict[str, Any]:
    return {
        "code": code,
        "name": {"vi": "Bộ tiêu chí thử nghiệm hồ sơ (chỉ dùng cho kiểm thử)", "en": "Test set"},
        "title": title,
        "level": level,
        "period": {"start_year": 2021, "end_year": 2025},
        "legal_basis": {"number": "TEST/2024"},
        "criteria": [
            {
                "number": 1,
                "name": {"vi": "Giao thông"},
                "rule": {"kind": "all"},
                "indicators": [
                    {
                        "code": "1.1",
                        "name": {"vi": "Tỷ lệ đường được cứng hóa"},
                        "kind": "number",
                        "unit": "%",
                        "comparator": "ge",
                        "value_min": 0,
                        "value_max": 100,
                        "thresholds": [{"value": 80}],
                    }
                ],
            },
            {
                "number": 2,
                "name": {"vi": "Văn hóa"},
                "rule": {"kind": "all"},
                "indicators": [
                    {
                        "code": "2.1",
                        "name": {"vi": "Có nhà văn hóa"},
                        "kind": "boolean",
                        "comparator": "eq",
                        "thresholds": [{"value": True}],
                    }
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
            {
                "code": "not_complex_security_area",
                "name": {"vi": "Không phải địa bàn phức tạp về an ninh"},
                "kind": "boolean",
                "comparator": "eq",
                "threshold": True,
            },
        ],
    }


async def ok(response: Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text
    body: dict[str, Any] = response.json()
    return body


async def published_set(
    admin: AsyncClient, title: str = "ntm_commune", level: str = "commune"
) -> dict[str, Any]:
    code = f"TEST-DOSSIER-{uuid.uuid4().hex[:8]}"
    created = await ok(
        await admin.post(f"{API}/criteria-sets", json=dossier_set(code, title, level))
    )
    return await ok(await admin.post(f"{API}/criteria-sets/{created['id']}/publish"))


async def assessment(
    admin: AsyncClient,
    set_id: str,
    unit_id: uuid.UUID,
    year: int,
    *,
    roads: float = 90,
    satisfaction: float = 85,
) -> dict[str, Any]:
    created = await ok(
        await admin.post(
            f"{API}/assessments",
            json={
                "unit_id": str(unit_id),
                "criteria_set_id": set_id,
                "year": year,
                "kind": "self_assessment",
            },
        )
    )
    await ok(
        await admin.put(
            f"{API}/assessments/{created['id']}/values",
            json={
                "values": [
                    {"indicator_code": "1.1", "value": roads},
                    {"indicator_code": "2.1", "value": True},
                ]
            },
        )
    )
    await ok(
        await admin.put(
            f"{API}/assessments/{created['id']}/conditions",
            json={
                "conditions": [
                    {"code": "resident_satisfaction", "value": satisfaction},
                    {"code": "no_outstanding_construction_debt", "value": True},
                    {"code": "not_complex_security_area", "value": True},
                ]
            },
        )
    )
    return created


async def appraiser(
    admin: AsyncClient, make_principal: PrincipalFactory, unit_id: uuid.UUID | None, step: str
) -> TestPrincipal:
    """A person whose appraiser assignment names the procedure step (issue 13, item 10)."""
    person = await make_principal(Role.VIEWER, unit_id=unit_id)
    body: dict[str, Any] = {"role": "appraiser", "step": step}
    if unit_id is not None:
        body["unit_id"] = str(unit_id)
    await ok(await admin.post(f"{API}/users/{person.id}/roles", json=body), 201)
    return person


async def get(client: AsyncClient, who: TestPrincipal, dossier_id: str) -> Response:
    return await client.get(f"{API}/dossiers/{dossier_id}", headers=who.headers)


async def act(
    client: AsyncClient,
    who: TestPrincipal,
    dossier_id: str,
    action: str,
    *,
    etag: str | None = None,
    **body: Any,
) -> Response:
    """A transition with the dossier's current ETag (read first unless given)."""
    if etag is None:
        read = await get(client, who, dossier_id)
        assert read.status_code == 200, read.text
        etag = read.headers["etag"]
    return await client.post(
        f"{API}/dossiers/{dossier_id}/transitions",
        json={"action": action, **body},
        headers={**who.headers, "If-Match": etag},
    )


async def upload(
    client: AsyncClient,
    who: TestPrincipal,
    dossier_id: str,
    document_type: str,
    content: bytes = PDF,
    filename: str = "van-ban.pdf",
) -> Response:
    return await client.post(
        f"{API}/dossiers/{dossier_id}/documents",
        files={"file": (filename, content, "application/pdf")},
        data={"document_type": document_type},
        headers=who.headers,
    )


async def upload_all(
    client: AsyncClient, who: TestPrincipal, dossier_id: str, types: tuple[str, ...]
) -> None:
    for document_type in types:
        await ok(await upload(client, who, dossier_id, document_type), 201)
