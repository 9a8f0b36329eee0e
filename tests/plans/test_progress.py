"""Done-when of issue 14: a province's period plan with a yearly child plan, targets and roadmap
items; recognitions and assessments recorded; progress read on several dates, with a commune
that merged away mid-period (P904 into P905 on 2024-07-01) and one that became a ward (P903 on
2024-07-01). Every figure below is computed by hand from the data the test records.

Assessments (2024, a 4-criteria test set): P901 4/4, P902 3/4 (criterion 4 not met), P903 2/4,
P904 1/4, P905 2/4 (criteria 3 and 4 not met). Recognitions (NTM commune): P901 by
12/QĐ-UBND of 2024-03-15, P902 by 88/QĐ-UBND of 2024-11-20, P903 in 2022 and P904 in 2023.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext
from app.models.dossiers import Dossier
from app.models.enums import RecognitionSource, Title
from app.recognitions import service as recognitions
from tests.plans.conftest import API, BASIS, make_plan, ok

SYSTEM = AuditContext.system("test")
MET = {1: 4, 2: 3, 3: 2, 4: 1, 5: 2}


async def _assess(client: AsyncClient, unit_id: str, set_id: str, met: int) -> None:
    created = ok(
        await client.post(
            f"{API}/assessments",
            json={
                "unit_id": unit_id,
                "criteria_set_id": set_id,
                "year": 2024,
                "kind": "self_assessment",
            },
        ),
        201,
    )
    values = [{"indicator_code": f"{n}.1", "value": n <= met} for n in (1, 2, 3, 4)]
    ok(await client.put(f"{API}/assessments/{created['id']}/values", json={"values": values}))


async def _grant(session: AsyncSession, unit_id: str, year: int, number: str, day: date) -> None:
    await recognitions.record_grant(
        session,
        context=SYSTEM,
        principal=None,
        unit_id=uuid.UUID(unit_id),
        title=Title.NTM_COMMUNE,
        year_for=year,
        decision_number=number,
        decision_date=day,
        signer="Chủ tịch UBND tỉnh",
        source=RecognitionSource.HISTORICAL,
    )


async def _event(client: AsyncClient, kind: str, **body: Any) -> None:
    payload = {"kind": kind, "effective_date": "2024-07-01", "legal_basis": BASIS, **body}
    ok(await client.post(f"{API}/unit-events", json=payload), 201)


async def _progress(client: AsyncClient, plan_id: str, on: str) -> dict[str, Any]:
    return ok(await client.get(f"{API}/plans/{plan_id}/progress", params={"as_of": on}))


def _by_metric(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["metric"]: t for t in body["targets"]}


def _by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{i['unit']['code']}:{i['title']}": i for i in body["roadmap"]}


async def test_progress_on_two_dates_across_a_merger_and_a_ward(
    admin_client: AsyncClient,
    province: dict[str, str],
    sets: dict[str, str],
    session: AsyncSession,
) -> None:
    period = await make_plan(admin_client, province["province"], at_risk_months_left=6)
    ok(await admin_client.patch(f"{API}/plans/{period['id']}", json={"status": "in_force"}))
    yearly = await make_plan(
        admin_client,
        province["province"],
        number="03/KH-UBND",
        title="Kế hoạch năm 2024",
        kind="yearly",
        issue_date="2024-01-11",
        start_year=2024,
        end_year=2024,
        parent_id=period["id"],
        at_risk_criteria_unmet=1,
        at_risk_months_left=6,
    )
    base = f"{API}/plans/{yearly['id']}"
    targets = [
        {"metric": "units_with_title", "title": "ntm_commune", "planned_value": 4},
        {"metric": "share_with_title", "title": "ntm_commune", "planned_value": 60},
        {"metric": "average_criteria_met", "planned_value": 3},
        {"metric": "communes_below_criteria", "criteria_threshold": 3, "planned_value": 0},
        {
            "metric": "budget_disbursed_vnd",
            "planned_value": 1_000_000_000,
            "reported": [
                {"on": "2024-05-01", "value": 400_000_000, "document": "BC 15/BC-SNN"},
                {"on": "2024-12-01", "value": 1_100_000_000, "document": "BC 210/BC-SNN"},
            ],
        },
    ]
    for target in targets:
        ok(
            await admin_client.post(
                f"{base}/targets", json={**target, "year": 2024, "source_document": "03/KH-UBND"}
            ),
            201,
        )
    ok(
        await admin_client.post(
            f"{API}/plans/{period['id']}/targets",
            json={
                "metric": "units_with_title",
                "title": "ntm_commune",
                "year": 2025,
                "planned_value": 5,
                "source_document": "2831/KH-UBND",
            },
        ),
        201,
    )
    for n, title in (
        (1, "ntm_commune"),
        (2, "ntm_commune"),
        (5, "ntm_commune"),
        (3, "advanced_ntm_commune"),
        (4, "advanced_ntm_commune"),
    ):
        ok(
            await admin_client.post(
                f"{base}/roadmap",
                json={
                    "unit_id": province[f"c{n}"],
                    "title": title,
                    "target_year": 2024,
                    "owner": '=HYPERLINK("x")' if n == 1 else "UBND huyện Lộ Trình",
                },
            ),
            201,
        )

    for n, met in MET.items():
        await _assess(admin_client, province[f"c{n}"], sets["ntm_commune"], met)
    await _grant(session, province["c1"], 2023, "12/QĐ-UBND", date(2024, 3, 15))
    await _grant(session, province["c2"], 2024, "88/QĐ-UBND", date(2024, 11, 20))
    await _grant(session, province["c3"], 2022, "40/QĐ-UBND", date(2022, 12, 1))
    await _grant(session, province["c4"], 2023, "70/QĐ-UBND", date(2023, 12, 1))
    await _event(
        admin_client, "reclassify", unit_id=province["c3"], type="phuong", name="Phường Số 3"
    )
    await _event(
        admin_client,
        "merge",
        sources=[{"unit_id": province["c4"]}],
        target={"into_id": province["c5"]},
    )

    # --- 30/06/2024: five communes; P901, P903, P904 hold NTM --------------------------------
    june = await _progress(admin_client, yearly["id"], "2024-06-30")
    assert june["thresholds"] == {"criteria_unmet": 1, "months_left": 6}
    t = _by_metric(june)
    count = t["units_with_title"]
    assert (count["achieved"], count["numerator"], count["denominator"]) == (3, 3, 5)
    assert (count["status"], count["reason_code"]) == ("on_track", "time_left")
    share = t["share_with_title"]
    assert (share["achieved"], share["status"], share["reason_code"]) == (
        60,
        "achieved",
        "target_reached",
    )
    average = t["average_criteria_met"]
    assert (average["achieved"], average["numerator"], average["denominator"]) == (2.4, 5, 5)
    assert average["status"] == "on_track"
    below = t["communes_below_criteria"]
    assert (below["achieved"], below["status"]) == (3, "on_track")
    budget = t["budget_disbursed_vnd"]
    assert (budget["achieved"], budget["status"]) == (400_000_000, "on_track")
    assert budget["source_document"] == "03/KH-UBND"

    items = _by_code(june)
    assert items["P901:ntm_commune"]["status"] == "recognised"
    assert items["P901:ntm_commune"]["reason_code"] == "recognised"
    assert "12/QĐ-UBND" in items["P901:ntm_commune"]["reason"]
    assert (items["P902:ntm_commune"]["status"], items["P902:ntm_commune"]["criteria_not_met"]) == (
        "assessment_gap",
        [4],
    )
    # Two criteria unmet (more than 1) but six months left (not fewer than 6): a gap, not a risk.
    assert (items["P905:ntm_commune"]["status"], items["P905:ntm_commune"]["criteria_not_met"]) == (
        "assessment_gap",
        [3, 4],
    )
    assert items["P903:advanced_ntm_commune"]["status"] == "not_assessed"
    assert items["P904:advanced_ntm_commune"]["status"] == "not_assessed"
    district, whole = june["rollup"]
    assert (district["unit"]["code"], district["level"], district["items"]) == (
        "P90",
        "district",
        5,
    )
    assert district["by_status"] == {"recognised": 1, "assessment_gap": 2, "not_assessed": 2}
    assert (whole["unit"]["code"], whole["items"]) == ("P9", 5)

    # --- 31/12/2024: P903 is a ward, P904 merged into P905: three communes left -------------
    december = await _progress(admin_client, yearly["id"], "2024-12-31")
    t = _by_metric(december)
    count = t["units_with_title"]
    assert (count["achieved"], count["numerator"], count["denominator"]) == (2, 2, 3)
    assert (count["status"], count["reason_code"]) == ("at_risk", "little_time_left")
    share = t["share_with_title"]
    assert (share["achieved"], share["denominator"], share["status"]) == (66.67, 3, "achieved")
    average = t["average_criteria_met"]
    assert (average["achieved"], average["denominator"], average["status"]) == (3, 3, "achieved")
    below = t["communes_below_criteria"]
    assert (below["achieved"], below["status"], below["reason_code"]) == (
        1,
        "at_risk",
        "little_time_left",
    )
    assert t["budget_disbursed_vnd"]["status"] == "achieved"

    items = _by_code(december)
    assert items["P902:ntm_commune"]["status"] == "recognised"
    assert "88/QĐ-UBND" in items["P902:ntm_commune"]["reason"]
    risky = items["P905:ntm_commune"]
    assert (risky["status"], risky["reason_code"]) == ("at_risk", "too_many_unmet")
    ward = items["P903:advanced_ntm_commune"]
    assert (ward["status"], ward["reason_code"]) == ("left_scope", "reclassified")
    merged = items["P904:advanced_ntm_commune"]
    assert (merged["status"], merged["reason_code"]) == ("left_scope", "merged_away")
    assert "P905" in merged["reason"]
    assert merged["district"]["code"] == "P90"  # placed where it last stood

    # A dossier for P905 reaches the provincial appraisal council: the item is under way, and
    # the count target stays at risk (2 held + 1 under way < 4 planned).
    session.add(
        Dossier(
            unit_id=uuid.UUID(province["c5"]),
            title="ntm_commune",
            year=2024,
            criteria_set_id=uuid.UUID(sets["ntm_commune"]),
            procedure="test-procedure",
            status="provincial_appraisal",
            submitted_at=datetime(2024, 10, 1, tzinfo=UTC),
        )
    )
    await session.flush()
    with_dossier = await _progress(admin_client, yearly["id"], "2024-12-31")
    appraised = _by_code(with_dossier)["P905:ntm_commune"]
    assert (appraised["status"], appraised["reason_code"]) == (
        "dossier_in_progress",
        "dossier_under_way",
    )
    assert appraised["dossier"]["status"] == "provincial_appraisal"
    assert appraised["dossier"]["at"] == "2024-10-01"
    assert _by_metric(with_dossier)["units_with_title"]["status"] == "at_risk"

    # --- 15/01/2025: the year is over ---------------------------------------------------------
    january = await _progress(admin_client, yearly["id"], "2025-01-15")
    assert _by_metric(january)["units_with_title"]["status"] == "missed"
    assert _by_code(january)["P905:ntm_commune"]["status"] == "missed"
    assert _by_code(january)["P905:ntm_commune"]["reason_code"] == "target_year_over"

    # The period plan's 2025 target counts the same three communes, with a year to go.
    whole_period = await _progress(admin_client, period["id"], "2024-12-31")
    (five,) = whole_period["targets"]
    assert (five["achieved"], five["denominator"], five["status"]) == (2, 3, "on_track")

    # In English, and as a file whose text cells cannot run as formulas.
    english = ok(
        await admin_client.get(
            f"{base}/progress", params={"as_of": "2024-12-31"}, headers={"Accept-Language": "en"}
        )
    )
    assert _by_code(english)["P904:advanced_ntm_commune"]["reason"].startswith("The unit merged")
    exported = await admin_client.get(
        f"{base}/progress", params={"as_of": "2024-12-31", "format": "csv"}
    )
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    roadmap_rows = {
        r["unit_code"]: r for r in rows if r["row"] == "roadmap" and r["title"] == "ntm_commune"
    }
    assert roadmap_rows["P905"]["status"] == "dossier_in_progress"
    assert roadmap_rows["P905"]["district_code"] == "P90"
    assert {r["row"] for r in rows} == {"target", "roadmap", "rollup"}
    assert roadmap_rows["P901"]["owner"] == '\'=HYPERLINK("x")'
    workbook = await admin_client.get(
        f"{base}/progress", params={"as_of": "2024-12-31", "format": "xlsx"}
    )
    assert workbook.status_code == 200, workbook.text
    sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
    header, *cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:3] == ["row", "plan_id", "as_of"]
    owners = {row[header.index("owner")] for row in cells}
    assert '\'=HYPERLINK("x")' in owners
