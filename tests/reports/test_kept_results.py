"""Reports read each assessment's evaluation from the result kept for it only while that result's
key is the current one (the assessment's revision, the set's version, the map token), and the
figures always equal what the engine gives: after a value changes, after the map changes (a
region, hence a threshold, for the communes), after the set's thresholds change, and after the
worker stores results again."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.repository import results as results_repo
from app.assessments.service import attainment as attainment_module
from app.assessments.service import results
from app.config import Settings
from app.db.engine import Database
from app.db.types import utcnow
from app.models.assessments import AssessmentResult
from app.models.criteria import CriteriaSet, Indicator, IndicatorThreshold
from app.worker.runner import Worker
from tests.assessments.helpers import unit_of

SUMMARY = "/api/v1/reports/summary"
ROWS = "/api/v1/reports/criteria-attainment"


async def _assess(client: AsyncClient, unit: str, set_id: str, values: list[dict[str, Any]]) -> str:
    body = {"unit_id": unit, "criteria_set_id": set_id, "year": 2024, "kind": "appraisal"}
    created = await client.post("/api/v1/assessments", json=body)
    assert created.status_code == 201, created.text
    assessment_id = str(created.json()["id"])
    put = await client.put(f"/api/v1/assessments/{assessment_id}/values", json={"values": values})
    assert put.status_code == 200, put.text
    return assessment_id


async def _report(client: AsyncClient, params: dict[str, Any]) -> tuple[Any, dict[Any, str]]:
    summary = await client.get(SUMMARY, params=params)
    assert summary.status_code == 200, summary.text
    rows = await client.get(ROWS, params=params)
    assert rows.status_code == 200, rows.text
    statuses = {(r["unit_id"], r["criterion_number"]): r["status"] for r in rows.json()["items"]}
    return summary.json()["computed_attainment"], statuses


async def _engine(client: AsyncClient, assessments: dict[str, str]) -> dict[Any, str]:
    """Each criterion's status as ``GET /assessments/{id}/evaluation`` gives it."""
    out = {}
    for unit, assessment_id in assessments.items():
        found = await client.get(f"/api/v1/assessments/{assessment_id}/evaluation")
        assert found.status_code == 200, found.text
        for criterion in found.json()["criteria"]:
            out[(unit, criterion["number"])] = criterion["status"]
    return out


async def _kept(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AssessmentResult)) or 0)


async def test_kept_results_are_used_only_under_their_key_and_equal_the_engine(
    admin_client: AsyncClient,
    database: Database,
    session: AsyncSession,
    province: dict[str, Any],
    criteria_set: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_id = criteria_set["id"]
    params = {"unit_id": province["TP"], "year": 2024, "as_of": "2024-04-01",
              "criteria_set_id": set_id}  # fmt: skip
    # AB: 1.1 = 50 (no region on this map yet: criterion 1 undecided), 2 and 3 and 4 met.
    # C: 2.1 = 50 < 80, only 4 met.
    assessments = {
        province["AB"]: await _assess(admin_client, province["AB"], set_id, [
            {"indicator_code": "1.1", "value": 50},
            {"indicator_code": "2.1", "value": 90},
            {"indicator_code": "2.2", "value": True},
            {"indicator_code": "3.2", "value": 3},
            {"indicator_code": "4.1", "value": "met"},
        ]),
        province["C"]: await _assess(admin_client, province["C"], set_id, [
            {"indicator_code": "2.1", "value": 50},
            {"indicator_code": "2.2", "value": True},
            {"indicator_code": "4.1", "value": "met"},
        ]),
    }  # fmt: skip
    # A commune of another province, assessed too: never in this province's figures.
    outside = str(await unit_of(admin_client, "07450"))
    await _assess(admin_client, outside, set_id, [{"indicator_code": "4.1", "value": "met"}])
    evaluated, statuses = await _report(admin_client, params)
    assert statuses == await _engine(admin_client, assessments)
    assert evaluated["average_criteria_met"] == 2.0  # (3 + 1) / 2
    assert await _kept(session) == 0  # a report writes nothing

    assert await results.refresh_all(database) == 3
    assert await results.refresh(database) == 0  # nothing stale: nothing to do
    # From now on the report must not evaluate what is kept: make the engine's loader fail.
    real_load_many = attainment_module.load_many
    evaluated_ids: list[uuid.UUID] = []

    async def counting(session: AsyncSession, rows: Any, language: Any = "vi") -> Any:
        evaluated_ids.extend(row["id"] for row in rows)
        return await real_load_many(session, rows, language)

    monkeypatch.setattr(attainment_module, "load_many", counting)
    assert await _report(admin_client, params) == (evaluated, statuses)
    assert evaluated_ids == []

    # A value changes: C's result is stale at once and evaluated again; AB's stays kept.
    c_id = assessments[province["C"]]
    put = await admin_client.put(
        f"/api/v1/assessments/{c_id}/values",
        json={"values": [{"indicator_code": "2.1", "value": 85}]},
    )
    assert put.status_code == 200, put.text
    evaluated, statuses = await _report(admin_client, params)
    assert [str(i) for i in evaluated_ids] == [c_id, c_id]  # summary, then criteria rows
    assert statuses == await _engine(admin_client, assessments)
    assert statuses[(province["C"], 2)] == "met"
    assert evaluated["average_criteria_met"] == 2.5  # (3 + 2) / 2
    assert await results.refresh_all(database) == 1
    evaluated_ids.clear()
    assert await _report(admin_client, params) == (evaluated, statuses)
    assert evaluated_ids == []

    # The map changes: the province is given an NTM region, so 1.1 gets a threshold (45 in
    # TDMNPB in 2024) and AB's 50 meets it. Every result is stale (the map token changed).
    region = await admin_client.post(
        f"/api/v1/units/{province['TP']}/classifications",
        json={"kind": "ntm_region", "value": "TDMNPB", "valid_from": "2020-01-01"},
    )
    assert region.status_code in (200, 201), region.text
    evaluated, statuses = await _report(admin_client, params)
    assert len(evaluated_ids) == 4  # both, twice (the other province is not read)
    assert statuses == await _engine(admin_client, assessments)
    assert statuses[(province["AB"], 1)] == "met"
    assert evaluated["average_criteria_met"] == 3.0  # (4 + 2) / 2
    assert await results.refresh_all(database) == 3  # every result was stale
    evaluated_ids.clear()
    assert await _report(admin_client, params) == (evaluated, statuses)
    assert evaluated_ids == []

    # The set's thresholds change (a repair by hand, which must bump the set's version as every
    # write of a set does): 2.1 needs 90 from now on, which C's 85 misses.
    indicator = await session.scalar(
        select(Indicator.id).where(
            Indicator.code == "2.1", Indicator.criteria_set_id == uuid.UUID(set_id)
        )
    )
    await session.execute(
        update(IndicatorThreshold)
        .where(IndicatorThreshold.indicator_id == indicator)
        .values(value_number=90)
    )
    await session.execute(
        update(CriteriaSet)
        .where(CriteriaSet.id == uuid.UUID(set_id))
        .values(version=CriteriaSet.version + 1, updated_at=utcnow())
    )
    await session.commit()
    evaluated, statuses = await _report(admin_client, params)
    assert len(evaluated_ids) == 4
    assert statuses == await _engine(admin_client, assessments)
    assert statuses[(province["C"], 2)] == "not_met"
    assert evaluated["average_criteria_met"] == 2.5  # (4 + 1) / 2
    assert await results.refresh_all(database) == 3
    evaluated_ids.clear()
    assert await _report(admin_client, params) == (evaluated, statuses)
    assert evaluated_ids == []
    assert await _kept(session) == 3
    # A scope of many units (the whole country) reads the year's assessments in one statement
    # and keeps those of its units: the same figures.
    monkeypatch.setattr(results_repo, "WHOLE_YEAR_FROM", 0)
    assert await _report(admin_client, params) == (evaluated, statuses)


async def test_the_worker_keeps_the_results_and_an_unevaluable_one_is_not_retried(
    admin_client: AsyncClient,
    app: FastAPI,
    database: Database,
    settings: Settings,
    session: AsyncSession,
    province: dict[str, Any],
    criteria_set: dict[str, Any],
) -> None:
    set_id = criteria_set["id"]
    await _assess(admin_client, province["C"], set_id, [{"indicator_code": "4.1", "value": "met"}])
    worker = Worker(database, settings, app.state.storage)
    assert await worker.run_once() is True  # the result was missing: evaluated and stored
    assert await worker.run_once() is False  # nothing left
    assert await _kept(session) == 1
    # An assessment whose unit is not on the map of its year cannot be evaluated: it is kept as
    # such (reports skip it, as the engine's path does) and not evaluated again each round.
    await session.execute(
        update(AssessmentResult).values(evaluable=False, criteria_total=0, criteria_met=0,
                                        statuses="")
    )  # fmt: skip
    await session.commit()
    params = {"unit_id": province["TP"], "year": 2024, "as_of": "2024-04-01",
              "criteria_set_id": set_id}  # fmt: skip
    evaluated, _ = await _report(admin_client, params)
    assert evaluated["assessed"] == 0
    assert await worker.run_once() is False
