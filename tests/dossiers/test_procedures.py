"""A commune dossier from draft to recognised on each commune procedure, with returns along the
way; the history, the snapshot, the lock on the assessment's values and the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import today
from app.models.dossiers import Dossier, DossierTransition
from app.models.enums import Title
from app.models.recognitions import Recognition
from app.models.system import AuditRecord, OutboxEvent
from app.recognitions.query import titles_held
from tests.dossiers.conftest import People
from tests.dossiers.helpers import (
    API,
    DRAFT_DOCUMENTS,
    act,
    assessment,
    get,
    ok,
    upload,
    upload_all,
)
from tests.identity.conftest import Tree

VOTES = {"in_favour": 20, "against": 0, "abstain": 0}


async def _open(
    client: AsyncClient, people: People, tree: Tree, set_id: str, assessment_id: str, procedure: str
) -> dict[str, Any]:
    body = {
        "unit_id": str(tree.c1),
        "title": "ntm_commune",
        "year": 2024,
        "criteria_set_id": set_id,
        "assessment_ids": [assessment_id],
        "procedure": procedure,
    }
    created = await client.post(f"{API}/dossiers", json=body, headers=people.commune.headers)
    dossier = await ok(created, 201)
    assert created.headers["etag"] == f'"{dossier["id"]}.1"'
    assert dossier["status"] == "draft"
    assert dossier["procedure"] == procedure
    assert dossier["allowed_actions"] == ["submit", "withdraw"]
    assert dossier["step"]["documents"] == list(DRAFT_DOCUMENTS)
    return dossier


async def _status(session: AsyncSession, dossier_id: str) -> str:
    row = await session.scalar(select(Dossier.status).where(Dossier.id == uuid.UUID(dossier_id)))
    return str(row)


async def test_commune_procedure_with_district_review(
    client: AsyncClient,
    admin_client: AsyncClient,
    session: AsyncSession,
    tree: Tree,
    people: People,
    criteria_set: dict[str, Any],
) -> None:
    made = await assessment(admin_client, criteria_set["id"], tree.c1, 2024)
    dossier = await _open(client, people, tree, criteria_set["id"], made["id"], "commune-2022")
    did = dossier["id"]

    # Nothing attached yet: the four draft documents are listed as failing preconditions.
    refused = await act(client, people.commune, did, "submit")
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "dossier_preconditions_failed"
    assert sorted(f["data"]["document_type"] for f in problem["failed"]) == sorted(DRAFT_DOCUMENTS)
    assert await _status(session, did) == "draft"

    await upload_all(client, people.commune, did, DRAFT_DOCUMENTS)
    submitted = await ok(await act(client, people.commune, did, "submit"))
    assert submitted["status"] == "district_review"
    assert submitted["snapshot_taken_at"] is not None
    assert submitted["snapshot_differences"] == []
    # The commune does not act at the review step; it may still withdraw its dossier.
    assert submitted["allowed_actions"] == ["withdraw"]

    # Under review, the assessment's values are locked.
    locked = await admin_client.put(
        f"{API}/assessments/{made['id']}/values",
        json={"values": [{"indicator_code": "1.1", "value": 95}]},
    )
    assert locked.status_code == 409, locked.text
    assert locked.json()["code"] == "assessment_under_review"
    assert locked.json()["dossier_id"] == did

    # The district returns it for completion, with reasons; the commune may change its figures.
    seen = await ok(await get(client, people.district, did))
    assert seen["allowed_actions"] == ["forward", "return"]
    returned = await ok(
        await act(client, people.district, did, "return", reasons="Thiếu biên bản họp dân")
    )
    assert returned["status"] == "draft"
    changed = await admin_client.put(
        f"{API}/assessments/{made['id']}/values",
        json={"values": [{"indicator_code": "1.1", "value": 95}]},
    )
    assert changed.status_code == 200, changed.text
    later = await ok(await get(client, people.commune, did))
    assert later["snapshot_differences"] == [
        {
            "assessment_id": made["id"],
            "kind": "indicator",
            "code": "1.1",
            "snapshot": 90.0,
            "current": 95.0,
        }
    ]
    await ok(await act(client, people.commune, did, "submit"))

    # The district review needs its own submission (tờ trình) added at that step.
    missing = await act(client, people.district, did, "forward")
    assert missing.status_code == 422
    assert [f["data"] for f in missing.json()["failed"]] == [
        {"document_type": "submission", "step": "district_review"}
    ]
    await ok(await upload(client, people.district, did, "submission"), 201)
    forwarded = await ok(await act(client, people.district, did, "forward"))
    assert forwarded["status"] == "provincial_appraisal"

    # The appraisal council: its minutes, its vote.
    await ok(await upload(client, people.appraiser_2022, did, "meeting_minutes"), 201)
    no_votes = await act(client, people.appraiser_2022, did, "appraise")
    assert no_votes.status_code == 422
    assert no_votes.json()["code"] == "dossier_votes_required"
    appraised = await ok(await act(client, people.appraiser_2022, did, "appraise", votes=VOTES))
    assert appraised["status"] == "provincial_decision"

    # The chairman's office sends it back once, then it is appraised again and recognised.
    back = await ok(
        await act(client, people.decider, did, "return", reasons="Bổ sung ý kiến Sở Tài chính")
    )
    assert back["status"] == "provincial_appraisal"
    await ok(await act(client, people.appraiser_2022, did, "appraise", votes=VOTES))
    # The decision is dated today: after the submission, not in the future.
    decided_on = today().isoformat()
    decision = {"number": "1234/QĐ-UBND", "date": decided_on, "signer": "Chủ tịch UBND tỉnh"}
    recognised = await ok(await act(client, people.decider, did, "recognise", decision=decision))
    assert recognised["status"] == "recognised"
    assert recognised["decision"] == {
        "number": "1234/QĐ-UBND",
        "date": decided_on,
        "signer": "Chủ tịch UBND tỉnh",
    }
    assert recognised["allowed_actions"] == []
    # The title is in the register of titles, with the decision and the dossier.
    entry = (
        await session.execute(select(Recognition).where(Recognition.dossier_id == uuid.UUID(did)))
    ).scalar_one()
    assert str(entry.id) == recognised["recognition_id"]
    assert (entry.unit_id, entry.title, entry.year_for) == (tree.c1, "ntm_commune", 2024)
    assert (entry.decision_number, entry.decision_date.isoformat(), entry.signer) == (
        "1234/QĐ-UBND",
        decided_on,
        "Chủ tịch UBND tỉnh",
    )
    assert entry.issuing_unit_id == tree.p1
    held = await titles_held(session, [tree.c1], today())
    assert held == {tree.c1: frozenset({Title.NTM_COMMUNE})}
    assert recognised["step"] is None

    history = await ok(
        await client.get(f"{API}/dossiers/{did}/history", headers=people.decider.headers)
    )
    steps = [(h["action"], h["from_status"], h["to_status"]) for h in history["items"]]
    assert steps == [
        ("submit", "draft", "district_review"),
        ("return", "district_review", "draft"),
        ("submit", "draft", "district_review"),
        ("forward", "district_review", "provincial_appraisal"),
        ("appraise", "provincial_appraisal", "provincial_decision"),
        ("return", "provincial_decision", "provincial_appraisal"),
        ("appraise", "provincial_appraisal", "provincial_decision"),
        ("recognise", "provincial_decision", "recognised"),
    ]
    assert [h["seq"] for h in history["items"]] == list(range(1, 9))
    assert history["items"][1]["reasons"] == "Thiếu biên bản họp dân"
    assert history["items"][1]["actor_id"] == str(people.district.id)
    assert history["items"][4]["votes"] == VOTES
    assert history["items"][7]["details"]["decision"]["number"] == "1234/QĐ-UBND"

    # Every transition audited (and so in the change feed), besides the creation.
    audited = await session.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.entity == "dossier", AuditRecord.entity_id == did)
    )
    assert audited == 1 + 8
    events = await session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.entity == "dossier", OutboxEvent.entity_id == did)
    )
    assert events == 1 + 8
    rows = await session.scalar(
        select(func.count())
        .select_from(DossierTransition)
        .where(DossierTransition.dossier_id == uuid.UUID(did))
    )
    assert rows == 8
    # Ended: the values are free again.
    freed = await admin_client.put(
        f"{API}/assessments/{made['id']}/values",
        json={"values": [{"indicator_code": "1.1", "value": 96}]},
    )
    assert freed.status_code == 200, freed.text


async def test_commune_procedure_after_july_2025_with_override(
    client: AsyncClient,
    admin_client: AsyncClient,
    session: AsyncSession,
    tree: Tree,
    people: People,
    criteria_set: dict[str, Any],
) -> None:
    # Roads at 70 % < 80 %: criterion 1 not met; the appraisers override it with reasons.
    made = await assessment(admin_client, criteria_set["id"], tree.c1, 2024, roads=70)
    dossier = await _open(client, people, tree, criteria_set["id"], made["id"], "commune-2025")
    did = dossier["id"]
    await upload_all(client, people.commune, did, DRAFT_DOCUMENTS)
    submitted = await ok(await act(client, people.commune, did, "submit"))
    assert submitted["status"] == "provincial_appraisal"  # no district step any more

    # The appraiser of the other procedure's step does not act here (item 10).
    wrong = await act(client, people.appraiser_2022, did, "return", reasons="x")
    assert wrong.status_code == 403, wrong.text
    assert (await ok(await get(client, people.appraiser_2022, did)))["allowed_actions"] == []
    seen = await ok(await get(client, people.appraiser_2025, did))
    assert seen["allowed_actions"] == ["appraise", "return", "reject"]

    back = await ok(
        await act(client, people.appraiser_2025, did, "return", reasons="Bổ sung minh chứng")
    )
    assert back["status"] == "draft"
    await ok(await upload(client, people.commune, did, "evidence"), 201)
    await ok(await act(client, people.commune, did, "submit"))

    await ok(await upload(client, people.appraiser_2025, did, "meeting_minutes"), 201)
    failing = await act(client, people.appraiser_2025, did, "appraise", votes=VOTES)
    assert failing.status_code == 422
    failed = failing.json()["failed"]
    assert [(f["kind"], f["code"]) for f in failed] == [
        ("assessment_meets_set", "criteria_not_met")
    ]
    assert failed[0]["data"]["criteria_not_met"] == [1]

    appraised = await ok(
        await act(
            client,
            people.appraiser_2025,
            did,
            "appraise",
            votes={"in_favour": 18, "against": 1, "abstain": 1},
            override_reasons="Tuyến đường liên thôn đã hoàn thành, chờ nghiệm thu",
        )
    )
    assert appraised["status"] == "provincial_decision"
    assert appraised["override"]["reasons"].startswith("Tuyến đường")
    assert appraised["override"]["step"] == "commune-2025/provincial_appraisal"

    decision = {"number": "88/QĐ-UBND", "date": today().isoformat(), "signer": "Chủ tịch UBND tỉnh"}
    recognised = await ok(await act(client, people.decider, did, "recognise", decision=decision))
    assert recognised["status"] == "recognised"
    assert await _status(session, did) == "recognised"
    history = (
        await ok(await client.get(f"{API}/dossiers/{did}/history", headers=people.commune.headers))
    )["items"]
    assert [h["action"] for h in history] == ["submit", "return", "submit", "appraise", "recognise"]
    assert history[3]["details"]["override"]["reasons"].startswith("Tuyến đường")


async def test_withdraw_and_reject(
    client: AsyncClient,
    admin_client: AsyncClient,
    tree: Tree,
    people: People,
    criteria_set: dict[str, Any],
) -> None:
    made = await assessment(admin_client, criteria_set["id"], tree.c1, 2024)
    first = await _open(client, people, tree, criteria_set["id"], made["id"], "commune-2025")
    withdrawn = await ok(await act(client, people.commune, first["id"], "withdraw"))
    assert withdrawn["status"] == "withdrawn"
    again = await act(client, people.commune, first["id"], "submit")
    assert again.status_code == 409
    assert again.json()["code"] == "dossier_transition_not_allowed"
    assert again.json()["allowed"] == []

    second = await _open(client, people, tree, criteria_set["id"], made["id"], "commune-2025")
    await upload_all(client, people.commune, second["id"], DRAFT_DOCUMENTS)
    await ok(await act(client, people.commune, second["id"], "submit"))
    rejected = await ok(
        await act(client, people.appraiser_2025, second["id"], "reject", reasons="Không đạt 19.2")
    )
    assert rejected["status"] == "rejected"
    listed = await ok(
        await client.get(
            f"{API}/dossiers",
            params={"unit_id": str(tree.p1), "status": "rejected"},
            headers=people.decider.headers,
        )
    )
    assert [item["id"] for item in listed["items"]] == [second["id"]]
    hidden = await ok(await client.get(f"{API}/dossiers", headers=people.other_commune.headers))
    assert hidden["items"] == []
