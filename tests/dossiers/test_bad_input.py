"""Bad input to dossiers answers problem+json with a stable code, and nothing changes."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.dossiers import Dossier, DossierDocument, DossierTransition
from tests.dossiers.conftest import People
from tests.dossiers.helpers import (
    API,
    DRAFT_DOCUMENTS,
    PNG,
    act,
    assessment,
    get,
    ok,
    upload,
    upload_all,
)
from tests.identity.conftest import Tree

PROBLEM = "application/problem+json"


async def _state(session: AsyncSession, dossier_id: str) -> tuple[Any, ...]:
    did = uuid.UUID(dossier_id)
    row = (
        await session.execute(
            select(Dossier.status, Dossier.revision, Dossier.decision_number).where(
                Dossier.id == did
            )
        )
    ).one()
    transitions = await session.scalar(
        select(func.count())
        .select_from(DossierTransition)
        .where(DossierTransition.dossier_id == did)
    )
    documents = await session.scalar(
        select(func.count()).select_from(DossierDocument).where(DossierDocument.dossier_id == did)
    )
    return (*row, transitions, documents)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


@pytest.fixture
async def dossier(
    client: AsyncClient,
    admin_client: AsyncClient,
    tree: Tree,
    people: People,
    criteria_set: dict[str, Any],
) -> dict[str, Any]:
    made = await assessment(admin_client, criteria_set["id"], tree.c1, 2024)
    body = {
        "unit_id": str(tree.c1),
        "title": "ntm_commune",
        "year": 2024,
        "criteria_set_id": criteria_set["id"],
        "assessment_ids": [made["id"]],
        "procedure": "commune-2025",
    }
    return await ok(
        await client.post(f"{API}/dossiers", json=body, headers=people.commune.headers), 201
    )


async def test_transitions_refused(
    client: AsyncClient, session: AsyncSession, people: People, dossier: dict[str, Any]
) -> None:
    did = dossier["id"]
    before = await _state(session, did)
    etag = (await get(client, people.commune, did)).headers["etag"]
    path = f"{API}/dossiers/{did}/transitions"

    unknown = await client.post(
        path, json={"action": "approve"}, headers={**people.commune.headers, "If-Match": etag}
    )
    _problem(unknown, 422, "validation_error")
    no_if_match = await client.post(
        path, json={"action": "withdraw"}, headers=people.commune.headers
    )
    _problem(no_if_match, 428, "precondition_required")
    stale = await act(client, people.commune, did, "withdraw", etag=f'"{did}.99"')
    _problem(stale, 412, "precondition_failed")
    weak = await act(client, people.commune, did, "withdraw", etag=f"W/{etag}")
    _problem(weak, 412, "precondition_failed")
    not_in_state = _problem(
        await act(client, people.commune, did, "recognise"), 409, "dossier_transition_not_allowed"
    )
    assert not_in_state["allowed"] == ["submit", "withdraw"]
    _problem(await act(client, people.district, did, "withdraw"), 403, "forbidden")
    _problem(
        await act(client, people.other_commune, did, "withdraw", etag=etag),
        404,
        "dossier_not_found",
    )
    _problem(
        await client.post(
            f"{API}/dossiers/{uuid.uuid4()}/transitions",
            json={"action": "withdraw"},
            headers={**people.commune.headers, "If-Match": etag},
        ),
        404,
        "dossier_not_found",
    )
    votes = await act(client, people.commune, did, "withdraw", votes={"in_favour": 3})
    _problem(votes, 422, "dossier_votes_not_expected")
    assert await _state(session, did) == before

    await upload_all(client, people.commune, did, DRAFT_DOCUMENTS)
    await ok(await act(client, people.commune, did, "submit"))
    before = await _state(session, did)
    for action in ("return", "reject"):
        missing = await act(client, people.appraiser_2025, did, action)
        _problem(missing, 422, "dossier_reasons_required")
        blank = await act(client, people.appraiser_2025, did, action, reasons="   ")
        _problem(blank, 422, "validation_error")
    override = await act(
        client, people.appraiser_2025, did, "return", reasons="x", override_reasons="y"
    )
    _problem(override, 422, "dossier_override_not_allowed")
    assert await _state(session, did) == before

    await ok(await upload(client, people.appraiser_2025, did, "meeting_minutes"), 201)
    await ok(await act(client, people.appraiser_2025, did, "appraise", votes={"in_favour": 9}))
    before = await _state(session, did)
    no_decision = await act(client, people.decider, did, "recognise")
    _problem(no_decision, 422, "dossier_decision_required")
    early = await act(
        client,
        people.decider,
        did,
        "recognise",
        decision={"number": "1/QĐ-UBND", "date": "2001-01-01", "signer": "Chủ tịch"},
    )
    body = _problem(early, 422, "dossier_decision_before_submission")
    assert body["errors"][0]["loc"] == ["body", "decision", "date"]
    bad_date = await act(
        client,
        people.decider,
        did,
        "recognise",
        decision={"number": "1/QĐ-UBND", "date": "01/02/2024", "signer": "Chủ tịch"},
    )
    _problem(bad_date, 422, "validation_error")
    assert await _state(session, did) == before


async def test_documents_refused(
    app: FastAPI,
    client: AsyncClient,
    session: AsyncSession,
    people: People,
    dossier: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    did = dossier["id"]
    before = await _state(session, did)
    # A text file named .pdf and declared as a PDF: the content decides.
    fake = await upload(client, people.commune, did, "evidence", b"hello, not a pdf", "a.pdf")
    body = _problem(fake, 415, "dossier_document_content_not_allowed")
    assert "application/pdf" in body["allowed"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("script.sh", "echo hi")
    zipped = await upload(client, people.commune, did, "evidence", archive.getvalue(), "a.docx")
    _problem(zipped, 415, "dossier_document_content_not_allowed")
    _problem(
        await upload(client, people.commune, did, "photo"), 422, "dossier_document_type_unknown"
    )
    _problem(
        await upload(client, people.commune, did, "evidence", b""), 422, "dossier_document_empty"
    )
    _problem(await upload(client, people.district, did, "evidence"), 403, "forbidden")
    _problem(await upload(client, people.other_commune, did, "evidence"), 404, "dossier_not_found")
    monkeypatch.setattr(app.state.settings, "dossier_document_max_bytes", 2048)
    big = await upload(client, people.commune, did, "evidence", b"%PDF-1.7\n" + b"0" * 4096)
    _problem(big, 413, "payload_too_large")
    monkeypatch.undo()
    assert await _state(session, did) == before

    # An allowed one: stored with its digest, streamed back to a reader with the right.
    added = await upload(client, people.commune, did, "evidence", PNG, "anh.png")
    document = await ok(added, 201)
    assert document["media_type"] == "image/png"
    assert document["step"] == "draft"
    import hashlib

    assert document["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert added.headers["etag"] == f'"{did}.2"'
    content = await client.get(
        f"{API}/dossiers/{did}/documents/{document['id']}/content", headers=people.decider.headers
    )
    assert content.status_code == 200
    assert content.content == PNG
    assert content.headers["content-type"] == "image/png"
    hidden = await client.get(
        f"{API}/dossiers/{did}/documents/{document['id']}/content",
        headers=people.other_commune.headers,
    )
    _problem(hidden, 404, "dossier_not_found")
    anonymous = await client.get(f"{API}/dossiers/{did}/documents/{document['id']}/content")
    _problem(anonymous, 401, "not_authenticated")
    missing = await client.get(
        f"{API}/dossiers/{did}/documents/{uuid.uuid4()}/content", headers=people.commune.headers
    )
    _problem(missing, 404, "dossier_document_not_found")
    listed = await ok(
        await client.get(f"{API}/dossiers/{did}/documents", headers=people.commune.headers)
    )
    assert [d["id"] for d in listed["items"]] == [document["id"]]


async def test_create_refused(
    client: AsyncClient,
    admin_client: AsyncClient,
    session: AsyncSession,
    tree: Tree,
    people: People,
    criteria_set: dict[str, Any],
) -> None:
    made = await assessment(admin_client, criteria_set["id"], tree.c1, 2024)
    other = await assessment(admin_client, criteria_set["id"], tree.c1, 2023)
    good = {
        "unit_id": str(tree.c1),
        "title": "ntm_commune",
        "year": 2024,
        "criteria_set_id": criteria_set["id"],
        "assessment_ids": [made["id"]],
    }
    count = await session.scalar(select(func.count()).select_from(Dossier))
    cases = [
        ({"procedure": "commune-1999"}, 422, "dossier_procedure_unknown"),
        ({"procedure": "district-2022"}, 422, "dossier_procedure_not_applicable"),
        ({"assessment_ids": [other["id"]]}, 422, "dossier_assessment_mismatch"),
        ({"assessment_ids": []}, 422, "validation_error"),
        ({"title": "advanced_ntm_commune"}, 422, "dossier_title_mismatch"),
        ({"year": 1900}, 422, "validation_error"),
        ({"unit_id": str(uuid.uuid4())}, 422, "dossier_unit_not_in_year"),
        ({"unit_id": str(tree.c2)}, 404, "unit_not_found"),
    ]
    for change, status, code in cases:
        response = await client.post(
            f"{API}/dossiers", json={**good, **change}, headers=people.commune.headers
        )
        _problem(response, status, code)
    assert await session.scalar(select(func.count()).select_from(Dossier)) == count

    # The procedure in force today is chosen when none is named; a client id replays.
    chosen_id = str(uuid.uuid4())
    created = await ok(
        await client.post(
            f"{API}/dossiers", json={**good, "id": chosen_id}, headers=people.commune.headers
        ),
        201,
    )
    assert created["procedure"] == "commune-2025"
    replay = await client.post(
        f"{API}/dossiers", json={**good, "id": chosen_id}, headers=people.commune.headers
    )
    assert replay.status_code == 200, replay.text
    conflict = await client.post(
        f"{API}/dossiers",
        json={**good, "id": chosen_id, "note": "khác"},
        headers=people.commune.headers,
    )
    _problem(conflict, 409, "dossier_id_conflict")


async def test_procedures_are_public_data(client: AsyncClient) -> None:
    listed = await ok(await client.get(f"{API}/dossier-procedures"))
    codes = {p["code"]: p for p in listed["items"]}
    assert set(codes) == {"commune-2022", "commune-2025", "district-2022"}
    assert [s["code"] for s in codes["commune-2022"]["steps"]] == [
        "draft",
        "district_review",
        "provincial_appraisal",
        "provincial_decision",
    ]
    assert [s["code"] for s in codes["commune-2025"]["steps"]] == [
        "draft",
        "provincial_appraisal",
        "provincial_decision",
    ]
    assert codes["district-2022"]["steps"][-1]["actors"] == [
        {"role": "decision_maker", "level": "national"}
    ]
    # No duration was found in any source: every one is configuration, null until entered.
    assert all(s["duration_days"] is None for p in listed["items"] for s in p["steps"])
