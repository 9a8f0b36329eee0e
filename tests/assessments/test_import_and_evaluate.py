"""Done when: import a CSV for a few communes, evaluate them and check criteria counts and gaps
against hand-computed expectations (region- and year-dependent thresholds); a dry run writes
nothing; re-importing the same file reports everything unchanged."""

from __future__ import annotations

import json
import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.imports.service import checks as import_check
from app.assessments.imports.service import pipeline as imports
from app.config import Settings
from app.db.engine import Database
from app.worker.runner import Worker
from tests.assessments.helpers import (
    CSV_ROWS,
    IMPORT,
    assessment_of,
    counts,
    csv_text,
    post_csv,
)


def _criteria(evaluation: dict[str, Any]) -> dict[int, str]:
    return {c["number"]: c["status"] for c in evaluation["criteria"]}


async def test_import_then_evaluate_against_hand_computed_results(
    admin_client: AsyncClient,
    client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    response = await post_csv(admin_client, set_id, csv_text(CSV_ROWS))
    assert response.status_code == 201, response.text
    summary = response.json()
    assert summary["written"] is True
    assert summary["format"] == "csv"
    assert summary["layout"] == "long"
    assert (summary["rows"], summary["created"], summary["updated"], summary["unchanged"]) == (
        17,
        17,
        0,
        0,
    )
    assert summary["rejected"] == 0
    assert summary["rejections"] == []
    assert summary["assessments_created"] == 3
    assert await counts(session) == (3, 17, 0)

    a = await assessment_of(admin_client, set_id, communes["A"], 2023)
    evaluation = (await admin_client.get(f"/api/v1/assessments/{a['id']}/evaluation")).json()
    assert evaluation["summary"]["criteria_met"] == 4
    assert evaluation["summary"]["headline"] == "đạt 4/4 tiêu chí"
    income = evaluation["criteria"][0]["indicators"][0]
    assert income["threshold"] == 40
    assert income["status"] == "met"
    assert income["threshold_basis"]["matched"] == {"region": "TDMNPB", "year": 2023}
    assert evaluation["thresholds_context"]["region"] == "TDMNPB"
    # Conditions are not recorded yet: the title is not attainable until they are.
    assert evaluation["title"]["attainable"] is False
    assert {c["code"]: c["status"] for c in evaluation["conditions"]} == {
        "resident_satisfaction": "missing",
        "no_outstanding_construction_debt": "missing",
    }
    put = await admin_client.put(
        f"/api/v1/assessments/{a['id']}/conditions",
        json={
            "conditions": [
                {"code": "resident_satisfaction", "value": 86.5},
                {"code": "no_outstanding_construction_debt", "value": True},
            ]
        },
    )
    assert put.status_code == 200, put.text
    evaluation = (await admin_client.get(f"/api/v1/assessments/{a['id']}/evaluation")).json()
    assert evaluation["title"] == {
        "title": "ntm_commune",
        "attainable": True,
        "blocking": [],
        "unverified": [],
    }
    assert evaluation["revocation"]["falls_under_band"] is False
    gaps = (await admin_client.get(f"/api/v1/assessments/{a['id']}/gaps")).json()
    assert gaps["criteria"] == []
    assert gaps["conditions"] == []

    # B: the same income as A, but the 2024 threshold (45) applies → year-dependent.
    b = await assessment_of(admin_client, set_id, communes["B"], 2024)
    evaluation = (await admin_client.get(f"/api/v1/assessments/{b['id']}/evaluation")).json()
    assert _criteria(evaluation) == {1: "not_met", 2: "met", 3: "met", 4: "basically_met"}
    summary_b = evaluation["summary"]
    assert (summary_b["criteria_met"], summary_b["criteria_basically_met"]) == (2, 1)
    assert summary_b["headline"] == "đạt 2/4 tiêu chí"
    assert evaluation["criteria"][0]["indicators"][0]["threshold"] == 45
    assert evaluation["revocation"]["falls_under_band"] is True
    assert evaluation["revocation"]["band"]["key_criteria_failing"] == [1]
    assert evaluation["title"]["attainable"] is False
    gaps = (await admin_client.get(f"/api/v1/assessments/{b['id']}/gaps")).json()
    assert [(g["number"], g["status"]) for g in gaps["criteria"]] == [
        (1, "not_met"),
        (4, "basically_met"),
    ]
    assert gaps["criteria"][0]["indicators"][0]["distance"] == 3
    assert gaps["criteria"][1]["indicators"][0]["reason"] == "Đang hoàn thiện hồ sơ trạm y tế"

    # C: Hà Nội reads the DBSH column (55 for income, 5 for poverty) → region-dependent.
    c = await assessment_of(admin_client, set_id, communes["C"], 2023)
    evaluation = (await admin_client.get(f"/api/v1/assessments/{c['id']}/evaluation")).json()
    assert _criteria(evaluation) == {1: "not_met", 2: "not_met", 3: "met", 4: "not_met"}
    assert evaluation["summary"]["headline"] == "đạt 1/4 tiêu chí"
    poverty = evaluation["criteria"][2]["indicators"][0]
    assert poverty["threshold"] == 5
    assert poverty["status"] == "met"
    assert evaluation["revocation"]["falls_under_band"] is True
    gaps = (await admin_client.get(f"/api/v1/assessments/{c['id']}/gaps")).json()
    assert [g["number"] for g in gaps["criteria"]] == [1, 2, 4]
    first = gaps["criteria"][0]["indicators"][0]
    assert (first["code"], first["value"], first["threshold"], first["distance"]) == (
        "1.1",
        50,
        55,
        5,
    )
    assert [(i["code"], i["status"]) for i in gaps["criteria"][1]["indicators"]] == [
        ("2.2", "not_met")
    ]
    assert [(i["code"], i["status"]) for i in gaps["criteria"][2]["indicators"]] == [
        ("4.1", "missing")
    ]

    # The list can carry every evaluation summary at once (set-based).
    listed = await admin_client.get(
        "/api/v1/assessments", params={"criteria_set_id": set_id, "include": "evaluation"}
    )
    headlines = sorted(i["evaluation"]["summary"]["headline"] for i in listed.json()["items"])
    assert headlines == ["đạt 1/4 tiêu chí", "đạt 2/4 tiêu chí", "đạt 4/4 tiêu chí"]


async def test_dry_run_writes_nothing_and_reimport_is_unchanged(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    set_id = criteria_set["id"]
    text = csv_text(CSV_ROWS)
    dry = await post_csv(admin_client, set_id, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["dry_run"] is True
    assert body["written"] is False
    assert (body["created"], body["updated"], body["unchanged"]) == (17, 0, 0)
    assert body["assessments_created"] == 3
    assert await counts(session) == (0, 0, 0)

    first = await post_csv(admin_client, set_id, text)
    assert first.json()["created"] == 17
    again = await post_csv(admin_client, set_id, text)
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 17)
    assert body["assessments_created"] == 0
    assert await counts(session) == (3, 17, 0)

    # One changed value: one update, and the replaced version goes to the history.
    changed = [("07450", 2023, "1.1", "43", ""), *CSV_ROWS[1:]]
    third = await post_csv(admin_client, set_id, csv_text(changed))
    body = third.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 16)
    assert await counts(session) == (3, 17, 1)


async def test_replace_mode_removes_values_the_file_does_not_mention(
    admin_client: AsyncClient,
    client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    set_id = criteria_set["id"]
    await post_csv(admin_client, set_id, csv_text(CSV_ROWS))
    only_income = [row for row in CSV_ROWS if row[2] == "1.1"]
    dry = await post_csv(admin_client, set_id, csv_text(only_income), mode="replace", dry_run=True)
    assert dry.json()["deleted"] == 14
    assert await counts(session) == (3, 17, 0)
    replaced = await post_csv(admin_client, set_id, csv_text(only_income), mode="replace")
    body = replaced.json()
    assert (body["unchanged"], body["deleted"]) == (3, 14)
    assert await counts(session) == (3, 3, 14)
    a = await assessment_of(admin_client, set_id, communes["A"], 2023)
    history = (await admin_client.get(f"/api/v1/assessments/{a['id']}/values/history")).json()
    deleted = [item for item in history["items"] if item["change"] == "delete"]
    assert sorted(item["indicator_code"] for item in deleted) == ["2.1", "2.2", "3.1", "3.2", "4.1"]


async def test_json_and_ndjson_imports(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    set_id = criteria_set["id"]
    rows = [
        {
            "unit_code": code,
            "year": year,
            "indicator_code": ind,
            "value": value,
            "note": note or None,
        }
        for code, year, ind, value, note in CSV_ROWS
    ]
    response = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": set_id},
        content=json.dumps(rows).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 17
    lines = "\n".join(json.dumps(row) for row in rows) + "\n"
    response = await admin_client.post(
        IMPORT,
        params={"criteria_set_id": set_id},
        files={"file": ("values.ndjson", lines.encode(), "application/x-ndjson")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["unchanged"] == 17


async def test_partial_import_writes_the_valid_rows(
    admin_client: AsyncClient, session: AsyncSession, criteria_set: dict[str, Any]
) -> None:
    rows = [*CSV_ROWS[:6], ("99999", 2023, "1.1", "42", "")]
    response = await post_csv(admin_client, criteria_set["id"], csv_text(rows), partial=True)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["written"], body["created"], body["rejected"]) == (True, 6, 1)
    assert body["rejections"][0]["code"] == "unit_not_found"
    assert body["rejections"][0]["rows"][0]["row"] == 8
    assert await counts(session) == (1, 6, 0)


async def test_large_import_runs_as_a_job(
    admin_client: AsyncClient,
    client: AsyncClient,
    app: Any,
    database: Database,
    settings: Settings,
    criteria_set: dict[str, Any],
) -> None:
    response = await post_csv(
        admin_client, criteria_set["id"], csv_text(CSV_ROWS), **{"async": True}
    )
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location.startswith("/api/v1/import-jobs/")
    assert response.json()["status"] in ("queued", "running", "succeeded")
    await Worker(database, settings, app.state.storage).run_until_idle()
    job = (await admin_client.get(location)).json()
    assert job["status"] == "succeeded", job
    assert job["rows_processed"] == 17
    assert job["summary"]["created"] == 17
    assert job["summary"]["written"] is True
    missing = await admin_client.get(f"/api/v1/import-jobs/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "import_job_not_found"


async def test_a_refused_row_in_a_later_batch_rolls_back_earlier_batches(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    monkeypatch: Any,
) -> None:
    # Batches are merged as they come (the next is checked meanwhile); all or nothing still holds.
    monkeypatch.setattr(imports, "BATCH", 4)
    rows = [*CSV_ROWS, ("07450", 2023, "9.9", "1", "")]
    response = await post_csv(admin_client, criteria_set["id"], csv_text(rows))
    assert response.status_code == 422, response.text
    assert response.json()["rejections"][0]["rows"][0]["row"] == 19
    assert await counts(session) == (0, 0, 0)
    partial = await post_csv(admin_client, criteria_set["id"], csv_text(rows), partial=True)
    assert partial.json()["created"] == 17
    assert await counts(session) == (3, 17, 0)


async def test_classification_picks_the_northern_column_even_among_siblings(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    """C and D are neighbours in Hà Nội (DBSH); D is an especially difficult commune, so it reads
    the TDMNPB column (318/QĐ-TTg art. 1). Evaluated together, each gets its own thresholds."""
    assigned = await admin_client.post(
        f"/api/v1/units/{communes['D']}/classifications",
        json={"kind": "especially_difficult", "value": "true", "valid_from": "2021-01-01"},
    )
    assert assigned.status_code in (200, 201), assigned.text
    rows = [("00379", 2023, "1.1", "50", ""), ("00382", 2023, "1.1", "50", "")]
    assert (await post_csv(admin_client, criteria_set["id"], csv_text(rows))).status_code == 201
    listed = await admin_client.get(
        "/api/v1/assessments",
        params={"criteria_set_id": criteria_set["id"], "include": "evaluation"},
    )
    by_unit = {i["unit_id"]: i for i in listed.json()["items"]}
    assert by_unit[str(communes["C"])]["evaluation"]["summary"]["criteria_met"] == 0
    assert by_unit[str(communes["D"])]["evaluation"]["summary"]["criteria_met"] == 1
    d = by_unit[str(communes["D"])]["id"]
    evaluation = (await admin_client.get(f"/api/v1/assessments/{d}/evaluation")).json()
    assert evaluation["thresholds_context"]["region"] == "TDMNPB"
    assert evaluation["thresholds_context"]["classifications"] == ["especially_difficult"]
    assert evaluation["criteria"][0]["indicators"][0]["threshold"] == 40


async def test_batches_mixing_stored_and_new_assessments_count_each_row_once(
    admin_client: AsyncClient,
    session: AsyncSession,
    criteria_set: dict[str, Any],
    monkeypatch: Any,
) -> None:
    # Small batches: one holds values of a stored assessment and of a new one; a later one needs
    # a new assessment of a year whose assessments were all loaded already (settled in memory).
    monkeypatch.setattr(imports, "BATCH", 4)
    monkeypatch.setattr(import_check, "PRELOAD_AT", 1)
    set_id = criteria_set["id"]
    first = await post_csv(admin_client, set_id, csv_text(CSV_ROWS[:6]))
    assert first.json()["created"] == 6
    changed = [("07450", 2023, "1.1", "43", ""), *CSV_ROWS[1:]]
    response = await post_csv(admin_client, set_id, csv_text(changed))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (11, 1, 5)
    assert (body["assessments_created"], body["assessments_touched"]) == (2, 3)
    assert await counts(session) == (3, 17, 1)
    again = (await post_csv(admin_client, set_id, csv_text(changed))).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 17)
