"""Title prerequisites come from the register of titles on the day: advanced needs NTM, a district
title needs every commune under the district to hold NTM. Failing ones are listed; once the
register holds the titles, the same transition passes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from httpx import AsyncClient

from app.audit.service import AuditContext
from app.db.engine import Database
from app.models.enums import RecognitionSource, Title
from app.recognitions.service import record_grant
from tests.dossiers.conftest import People
from tests.dossiers.helpers import (
    API,
    DRAFT_DOCUMENTS,
    act,
    assessment,
    ok,
    published_set,
    upload_all,
)
from tests.identity.conftest import Tree

CONTEXT = AuditContext.system("prerequisite-test")


async def _grant(
    database: Database,
    unit_id: uuid.UUID,
    title: Title,
    number: str,
    on: date = date(2023, 1, 10),
) -> None:
    """A historical decision (fixture data: number and signer are made up for the test)."""
    async with database.session() as session:
        await record_grant(
            session,
            context=CONTEXT,
            principal=None,
            unit_id=unit_id,
            title=title,
            year_for=on.year - 1,
            decision_number=number,
            decision_date=on,
            signer="Người ký (kiểm thử)",
            source=RecognitionSource.HISTORICAL,
        )
        await session.commit()


async def _open(
    client: AsyncClient, who: Any, unit: uuid.UUID, title: str, set_id: str, made: str, code: str
) -> dict[str, Any]:
    body = {
        "unit_id": str(unit),
        "title": title,
        "year": 2024,
        "criteria_set_id": set_id,
        "assessment_ids": [made],
        "procedure": code,
    }
    return await ok(await client.post(f"{API}/dossiers", json=body, headers=who.headers), 201)


async def test_advanced_needs_ntm_held(
    client: AsyncClient,
    admin_client: AsyncClient,
    database: Database,
    tree: Tree,
    people: People,
) -> None:
    advanced = await published_set(admin_client, "advanced_ntm_commune")
    made = await assessment(admin_client, advanced["id"], tree.c1, 2024)
    dossier = await _open(
        client,
        people.commune,
        tree.c1,
        "advanced_ntm_commune",
        advanced["id"],
        made["id"],
        "commune-2025",
    )
    await upload_all(client, people.commune, dossier["id"], DRAFT_DOCUMENTS)
    refused = await act(client, people.commune, dossier["id"], "submit")
    assert refused.status_code == 422, refused.text
    failed = refused.json()["failed"]
    assert [(f["kind"], f["code"]) for f in failed] == [("title_prerequisites", "title_not_held")]
    assert failed[0]["data"]["requires"] == "ntm_commune"
    assert failed[0]["data"]["units"] == [str(tree.c1)]

    await _grant(database, tree.c1, Title.NTM_COMMUNE, "TEST-1/QĐ-UBND")
    submitted = await ok(await act(client, people.commune, dossier["id"], "submit"))
    assert submitted["status"] == "provincial_appraisal"


async def test_district_title_needs_its_communes(
    client: AsyncClient,
    admin_client: AsyncClient,
    database: Database,
    tree: Tree,
    people: People,
) -> None:
    district_set = await published_set(admin_client, "ntm_district", "district")
    made = await assessment(admin_client, district_set["id"], tree.d1, 2024)
    dossier = await _open(
        client,
        people.district,
        tree.d1,
        "ntm_district",
        district_set["id"],
        made["id"],
        "district-2022",
    )
    assert dossier["allowed_actions"] == ["submit", "withdraw"]
    await upload_all(client, people.district, dossier["id"], DRAFT_DOCUMENTS)
    refused = await act(client, people.district, dossier["id"], "submit")
    assert refused.status_code == 422, refused.text
    failed = refused.json()["failed"]
    assert [(f["code"], f["data"]["of"]) for f in failed] == [("title_not_held", "communes")]
    # Today's communes of the district: c1 and the commune formed on 01/07/2025.
    assert sorted(failed[0]["data"]["units"]) == sorted([str(tree.c1), str(tree.new)])

    await _grant(database, tree.c1, Title.NTM_COMMUNE, "TEST-2/QĐ-UBND")
    # A commune recognised advanced has met NTM.
    await _grant(database, tree.new, Title.ADVANCED_NTM_COMMUNE, "TEST-3/QĐ-UBND", date(2026, 1, 5))
    submitted = await ok(await act(client, people.district, dossier["id"], "submit"))
    assert submitted["status"] == "provincial_review"
