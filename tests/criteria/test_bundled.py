"""The bundled reference sets: seeded, listed, exported exactly as bundled; the issue's scenario."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.criteria import repository
from app.criteria.seed import DATA_DIR, seed_criteria_sets
from app.models.system import AuditRecord
from tests.criteria.helpers import BASE, Units, document, resolved

BUNDLED = {
    path.stem: json.loads(path.read_text(encoding="utf-8")) for path in DATA_DIR.glob("*.json")
}
pytestmark = pytest.mark.skipif(not BUNDLED, reason="no bundled criteria sets yet")


async def _only(client: AsyncClient, **params: object) -> dict:
    response = await client.get(BASE, params={"national": "true", **params})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 1, [item["code"] for item in items]
    return items[0]


async def test_listing_by_level_and_year(client: AsyncClient) -> None:
    commune_2023 = await client.get(BASE, params={"level": "commune", "year": 2023})
    by_code = {item["code"]: item for item in commune_2023.json()["items"]}
    assert by_code["QD318-NTM-XA-2021-2025"]["criteria_count"] == 19
    assert by_code["QD318-NTM-XA-2021-2025"]["legal_basis"]["number"] == "318/QĐ-TTg"
    assert "QD51-XA-2026-2030" not in by_code

    ntm_2023 = await _only(client, level="commune", year=2023, title="ntm_commune")
    assert (ntm_2023["code"], ntm_2023["criteria_count"]) == ("QD318-NTM-XA-2021-2025", 19)
    ntm_2026 = await _only(client, level="commune", year=2026, title="ntm_commune")
    assert (ntm_2026["code"], ntm_2026["criteria_count"]) == ("QD51-XA-2026-2030", 10)
    assert ntm_2026["status"] == "published"
    assert ntm_2026["bundled"] is True
    assert ntm_2026["complete"] is False


@pytest.mark.parametrize("name", sorted(BUNDLED))
async def test_export_gives_the_bundled_document_back(client: AsyncClient, name: str) -> None:
    bundled = BUNDLED[name]
    found = await _only(client, code=bundled["code"])
    exported = await client.get(f"{BASE}/{found['id']}/export")
    assert exported.status_code == 200
    assert exported.json() == bundled


async def test_import_round_trips(admin_client: AsyncClient) -> None:
    bundled = next(doc for doc in BUNDLED.values() if doc["code"] == "QD318-NTM-XA-2021-2025")
    copy = {**bundled, "code": "TEST-COPY-318"}
    dry = await admin_client.post(f"{BASE}/import", params={"dry_run": "true"}, json=copy)
    assert dry.status_code == 200, dry.text
    assert dry.json()["valid"] is True
    assert dry.json()["criteria_count"] == 19
    assert (await admin_client.get(BASE, params={"code": "TEST-COPY-318"})).json()["items"] == []

    imported = await admin_client.post(f"{BASE}/import", json=copy)
    assert imported.status_code == 201, imported.text
    assert imported.json()["status"] == "draft"
    exported = (await admin_client.get(f"{BASE}/{imported.json()['id']}/export")).json()
    assert exported == copy


async def test_seeder_skips_creates_and_reissues(session: AsyncSession, tmp_path: Path) -> None:
    assert (await seed_criteria_sets(session, lambda _m: None)).skipped

    doc = document("TEST-BUNDLED-SET")
    path = tmp_path / "test.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    created = await seed_criteria_sets(session, lambda _m: None, tmp_path)
    await session.commit()  # as `ntm seed` does after each loader
    assert created.counts == {"created": 1}
    head = await repository.get_by_code(session, "TEST-BUNDLED-SET")
    assert head is not None
    assert (head["status"], head["version"]) == ("published", 1)
    _, _, indicators = await repository.child_keys(session, head["id"])

    assert (await seed_criteria_sets(session, lambda _m: None, tmp_path)).skipped

    doc["criteria"][0]["indicators"][0]["note"] = "re-issued"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    updated = await seed_criteria_sets(session, lambda _m: None, tmp_path)
    await session.commit()
    assert updated.counts == {"updated": 1}
    head = await repository.get_by_code(session, "TEST-BUNDLED-SET")
    assert head is not None
    assert (head["status"], head["version"]) == ("published", 2)
    assert (await repository.child_keys(session, head["id"]))[2] == indicators
    actors = (
        await session.execute(
            select(AuditRecord.actor_kind, AuditRecord.action)
            .where(AuditRecord.entity_id == str(head["id"]))
            .order_by(AuditRecord.seq)
        )
    ).all()
    assert [tuple(a) for a in actors] == [("system", "create"), ("system", "update")]


async def test_seeder_refuses_to_overwrite_a_users_set(
    admin_client: AsyncClient, session: AsyncSession, tmp_path: Path
) -> None:
    doc = document("TEST-USER-SET")
    assert (await admin_client.post(BASE, json=doc)).status_code == 201
    (tmp_path / "user.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="not loaded from the bundle"):
        await seed_criteria_sets(session, lambda _m: None, tmp_path)


async def _bac_giang(session: AsyncSession, units: Units) -> tuple[uuid.UUID, uuid.UUID]:
    """Province 24 (Bắc Giang until 2025-07-01) and commune 07444 (Thị trấn Đồi Ngô, Lục Nam)
    from the seeded map, or the same codes made here when the map is not seeded."""
    when = date(2024, 6, 30)
    provinces = await repository.units_by_code(session, "province", "24", when)
    communes = await repository.units_by_code(session, "commune", "07444", when)
    if provinces and communes:
        return provinces[0]["unit_id"], communes[0]["unit_id"]
    end = date(2025, 7, 1)
    province = await units.add("province", "24", "Tỉnh Bắc Giang", valid_to=end, type_="tinh")
    await units.classify(province, "ntm_region", "TDMNPB", valid_to=end)
    district = await units.add(
        "district", "218", "Huyện Lục Nam", province, valid_to=end, type_="huyen"
    )
    commune = await units.add(
        "commune", "07444", "Thị trấn Đồi Ngô", district, valid_to=end, type_="thi_tran"
    )
    await units.commit()
    return province, commune


async def test_bac_giang_specifies_its_2024_income_threshold(
    admin_client: AsyncClient, client: AsyncClient, session: AsyncSession, units: Units
) -> None:
    province, commune = await _bac_giang(session, units)
    national = await _only(client, level="commune", year=2023, title="ntm_commune")
    tree = (await client.get(f"{BASE}/{national['id']}")).json()
    income = next(c for c in tree["criteria"] if c["number"] == 10)["indicators"][0]

    # Test data: the decision number and the value are made up, not Bắc Giang's.
    decision = {"number": "TEST-24/QĐ-UBND", "date": "2022-04-01", "issuer": "UBND tỉnh Bắc Giang"}
    derived = await admin_client.post(
        f"{BASE}/{national['id']}/derive",
        json={
            "code": "TEST-BG-NTM-XA-2021-2025",
            "name": {"vi": "Bộ tiêu chí xã NTM tỉnh Bắc Giang (thử)"},
            "legal_basis": decision,
            "unit_code": "24",
            "as_of": "2024-01-01",
        },
    )
    assert derived.status_code == 201, derived.text
    set_id = derived.json()["id"]
    assert derived.json()["scope"]["unit_id"] == str(province)
    put = await admin_client.put(
        f"{BASE}/{set_id}/indicators/{income['code']}/thresholds",
        json={"thresholds": [{"value": 12.5, "when": {"year": 2024}}]},
    )
    assert put.status_code == 200, put.text
    published = await admin_client.post(f"{BASE}/{set_id}/publish")
    assert published.status_code == 200, published.text

    response = await client.get(
        f"{BASE}/{set_id}/thresholds", params={"unit_id": str(commune), "year": 2024}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["province"]["code"] == "24"
    assert body["region"] == "TDMNPB"
    result = resolved(body, income["code"])
    assert result["value"] == 12.5
    assert result["reason"]["basis"] == "province_override"
    assert result["reason"]["legal_basis"]["number"] == "TEST-24/QĐ-UBND"
