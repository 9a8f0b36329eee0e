"""The map through time (issue #12): official counts on their dates, one real example of each
kind of change on both sides of its date, lineage confidence, ``as_of`` before the records,
``within=`` and the regions of post-reform communes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.intervals import valid_on
from app.models.units import UnitVersion
from app.units.seed import unit_id_for
from app.units.temporal import FIRST_KNOWN_DATE
from tests.criteria.helpers import BASE, create_published, document
from tests.units.conftest import API, assert_problem, event, find, one

# map-history-sources.md, "Official counts by date": (provinces, centrally-run cities, districts,
# xã, phường, thị trấn, đặc khu, communes); None = the reference gives no figure. Both ends of
# each row's validity. From 2026-09-20 the reference says 2,598 xã / 710 phường (23 communes
# reclassified in 2026) but names 22: the dataset has 2,599 / 709 (docs/units-history.md).
OFFICIAL = {
    "2023-04-10": (63, None, 705, None, None, None, 0, 10598),
    "2024-01-31": (63, None, 705, None, None, None, 0, 10598),
    "2024-05-01": (63, None, 705, 8192, 1784, 619, 0, 10595),
    "2024-08-31": (63, None, 705, 8192, 1784, 619, 0, 10595),
    "2025-01-01": (63, None, 696, 7724, 1715, 618, 0, 10057),
    "2025-02-28": (63, None, 696, 7724, 1715, 618, 0, 10057),
    "2025-03-01": (63, None, 696, 7706, 1724, 617, 0, 10047),
    "2025-06-30": (63, None, 696, 7706, 1724, 617, 0, 10047),
    "2025-07-01": (34, 6, 0, 2621, 687, 0, 13, 3321),
    "2026-04-29": (34, 6, 0, 2621, 687, 0, 13, 3321),
    "2026-04-30": (34, 7, 0, 2611, 697, 0, 13, 3321),
    "2026-08-31": (34, 7, 0, 2611, 697, 0, 13, 3321),
    "2026-09-01": (34, 8, 0, 2611, 697, 0, 13, 3321),
    "2026-09-20": (34, 9, 0, 2599, 709, 0, 13, 3321),
    "2026-10-01": (34, 9, 0, 2599, 709, 0, 13, 3321),
}


async def _counts(session: AsyncSession, day: date) -> tuple[Any, ...]:
    rows = (
        await session.execute(
            select(UnitVersion.level, UnitVersion.type, func.count())
            .where(valid_on(UnitVersion.__table__, day))  # type: ignore[arg-type]
            .group_by(UnitVersion.level, UnitVersion.type)
        )
    ).all()
    c = {(level, type_): n for level, type_, n in rows}
    provinces = c.get(("province", "tinh"), 0) + c.get(("province", "thanh_pho_tw"), 0)
    districts = sum(n for (level, _), n in c.items() if level == "district")
    communes = sum(n for (level, _), n in c.items() if level == "commune")
    return (
        provinces,
        c.get(("province", "thanh_pho_tw"), 0),
        districts,
        c.get(("commune", "xa"), 0),
        c.get(("commune", "phuong"), 0),
        c.get(("commune", "thi_tran"), 0),
        c.get(("commune", "dac_khu"), 0),
        communes,
    )


@pytest.mark.parametrize("day", sorted(OFFICIAL))
async def test_official_counts_on_their_dates(session: AsyncSession, day: str) -> None:
    have = await _counts(session, date.fromisoformat(day))
    for want, got in zip(OFFICIAL[day], have, strict=True):
        if want is not None:
            assert got == want, (day, have)


async def test_api_totals_on_a_date(client: AsyncClient) -> None:
    async def total(**params: str) -> int:
        response = await client.get(
            f"{API}/units", params={"limit": 1, "include_total": "true", **params}
        )
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert await total(level="commune", as_of="2024-06-01") == 10595
    assert await total(level="district", as_of="2024-06-01") == 705
    assert await total(level="commune", as_of="2025-03-01") == 10047


async def test_as_of_before_the_first_list_names_the_first_date(client: AsyncClient) -> None:
    for path in ("/units", "/units/tree"):
        response = await client.get(f"{API}{path}", params={"as_of": "2004-08-30"})
        assert_problem(response, 422, "as_of_before_records")
        body = response.json()
        assert body["errors"][0]["loc"] == ["query", "as_of"]
        assert "2004-08-31" in body["detail"]
    unit = unit_id_for("province:24:pre2025")
    response = await client.get(f"{API}/units/{unit}", params={"as_of": "1999-01-01"})
    assert_problem(response, 422, "as_of_before_records")
    # the first day is known; its versions say they may be older
    first = await one(client, FIRST_KNOWN_DATE.isoformat(), code="24", level="province")
    assert first["name"] == "Tỉnh Bắc Giang"
    assert first["valid_from"] == "2004-08-31"
    assert first["may_be_older"] is True


async def _lineage(client: AsyncClient, unit_id: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/units/{unit_id}/lineage")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _history(client: AsyncClient, unit_id: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/units/{unit_id}/history")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_reclassify_district_viet_yen_huyen_to_thi_xa_on_2024_02_01(
    client: AsyncClient,
) -> None:
    before = await one(client, "2024-01-31", code="222", level="district")
    after = await one(client, "2024-02-01", code="222", level="district")
    assert before["id"] == after["id"]  # the same unit, a new version
    assert (before["name"], before["type"]) == ("Huyện Việt Yên", "huyen")
    assert (after["name"], after["type"]) == ("Thị xã Việt Yên", "thi_xa")
    assert before["parent_id"] == after["parent_id"] == str(unit_id_for("province:24:pre2025"))
    assert before["valid_to"] == after["valid_from"] == "2024-02-01"
    history = await _history(client, after["id"])
    change = next(v for v in history if v["valid_from"] == "2024-02-01")
    assert change["event_kind"] == "reclassify"
    event = (await client.get(f"{API}/unit-events/{change['event_id']}")).json()
    assert event["legal_basis"]["number"] == "938/NQ-UBTVQH15"
    assert event["legal_basis"]["date"] == "2023-12-13"
    assert event["effective_date"] == "2024-02-01"
    lineage = await _lineage(client, after["id"])
    assert lineage["predecessors"] == []  # a reclassification keeps the unit: no link


async def test_bac_giang_rearrangement_of_2025_01_01(client: AsyncClient) -> None:
    before = await find(client, "2024-12-31", parent_id=str(unit_id_for("province:24:pre2025")))
    after = await find(client, "2025-01-01", parent_id=str(unit_id_for("province:24:pre2025")))
    assert "221" in [d["code"] for d in before]
    assert "224" not in [d["code"] for d in before]
    assert "221" not in [d["code"] for d in after]
    chu = next(d for d in after if d["code"] == "224")
    assert (chu["name"], chu["type"], chu["valid_from"]) == ("Thị xã Chũ", "thi_xa", "2025-01-01")
    assert chu["may_be_older"] is False
    assert len(before) == len(after) == 10

    # Chũ was carved out of Lục Ngạn (stated by 1191/NQ-UBTVQH15), which continues
    chu_lineage = await _lineage(client, chu["id"])
    (luc_ngan,) = chu_lineage["predecessors"]
    assert luc_ngan["unit"]["name"] == "Huyện Lục Ngạn"
    assert luc_ngan["partly"] is True
    assert luc_ngan["confidence"] == "stated"
    assert luc_ngan["event"]["legal_basis"]["number"] == "1191/NQ-UBTVQH15"
    # Yên Dũng merged into Thành phố Bắc Giang
    yen_dung = await one(client, "2024-12-31", code="221", level="district")
    assert yen_dung["valid_to"] == "2025-01-01"
    successors = (await _lineage(client, yen_dung["id"]))["successors"]
    direct = [s for s in successors if s["depth"] == 1]
    assert [(s["unit"]["code"], s["partly"], s["confidence"]) for s in direct] == [
        ("213", False, "stated")
    ]
    # a commune of Yên Dũng moved to Thành phố Bắc Giang on the same date (a transfer)
    communes = await find(client, "2024-12-31", parent_id=yen_dung["id"])
    moved = [
        c
        for c in await find(
            client, "2025-01-01", parent_id=str(unit_id_for("district:213:pre2025"))
        )
        if c["id"] in {x["id"] for x in communes}
    ]
    assert moved
    history = await _history(client, moved[0]["id"])
    assert any(v["valid_from"] == "2025-01-01" for v in history)
    # communes that ended on 2025-01-01 have inferred lineage where the lists allow it
    ended = [c for c in communes if c["valid_to"] == "2025-01-01"]
    inferred = []
    for c in ended:
        for s in (await _lineage(client, c["id"]))["successors"]:
            if s["depth"] == 1:
                inferred.append((s["confidence"], s["rule"]))
    assert inferred
    assert all(conf in ("stated", "inferred") for conf, _ in inferred)
    assert all(rule for _, rule in inferred)


async def test_thua_thien_hue_becomes_thanh_pho_hue_on_2025_01_01(client: AsyncClient) -> None:
    before = await one(client, "2024-12-31", code="46", level="province")
    after = await one(client, "2025-01-01", code="46", level="province")
    assert before["id"] == after["id"]
    assert (before["name"], before["type"]) == ("Tỉnh Thừa Thiên Huế", "tinh")
    assert (after["name"], after["type"]) == ("Thành phố Huế", "thanh_pho_tw")
    assert after["parent_id"] is None
    history = await _history(client, after["id"])
    change = next(v for v in history if v["valid_from"] == "2025-01-01")
    assert change["event_kind"] == "reclassify"
    event = (await client.get(f"{API}/unit-events/{change['event_id']}")).json()
    assert event["legal_basis"]["number"] == "175/2024/QH15; 1314/NQ-UBTVQH15"
    assert event["legal_basis"]["issuer"] == "Ủy ban Thường vụ Quốc hội"
    # Quận Phú Xuân did not exist before that day
    assert not await find(client, "2024-12-31", q="phu xuan", level="district")
    assert await find(client, "2025-01-01", q="phu xuan", level="district")


async def test_2026_xa_to_phuong_and_province_upgrades(client: AsyncClient) -> None:
    before = await one(client, "2026-04-29", q="dau giay", level="commune")
    after = await one(client, "2026-04-30", q="dau giay", level="commune")
    assert before["id"] == after["id"]
    assert (before["name"], before["type"]) == ("Xã Dầu Giây", "xa")
    assert (after["name"], after["type"]) == ("Phường Dầu Giây", "phuong")
    assert before["parent_id"] == after["parent_id"]
    history = await _history(client, after["id"])
    change = next(v for v in history if v["valid_from"] == "2026-04-30")
    event = (await client.get(f"{API}/unit-events/{change['event_id']}")).json()
    assert event["kind"] == "reclassify"
    assert event["legal_basis"]["number"] == "237/NQ-UBTVQH16"
    # Đồng Nai: a province until 30/2026/QH16 took effect on 2026-04-30
    dong_nai = await one(client, "2026-04-29", code="75", level="province")
    assert (dong_nai["name"], dong_nai["type"]) == ("Tỉnh Đồng Nai", "tinh")
    city = await one(client, "2026-04-30", code="75", level="province")
    assert (city["name"], city["type"], city["id"]) == (
        "Thành phố Đồng Nai",
        "thanh_pho_tw",
        dong_nai["id"],
    )
    # Quảng Ninh from 2026-09-01, Bắc Ninh from 2026-09-20
    assert (await one(client, "2026-08-31", code="22", level="province"))["type"] == "tinh"
    assert (await one(client, "2026-09-01", code="22", level="province"))["type"] == "thanh_pho_tw"
    assert (await one(client, "2026-09-19", code="24", level="province"))["type"] == "tinh"
    assert (await one(client, "2026-09-20", code="24", level="province"))["type"] == "thanh_pho_tw"
    # 388/NQ-UBTVQH16 (Bắc Ninh, 12 communes): the date is flagged unconfirmed
    luc_nam = await one(client, "2026-10-01", code="07444")
    assert (luc_nam["name"], luc_nam["type"]) == ("Phường Lục Nam", "phuong")
    history = await _history(client, luc_nam["id"])
    change = next(v for v in history if v["valid_from"] == "2026-09-20")
    assert "FLAGGED" in (await client.get(f"{API}/unit-events/{change['event_id']}")).json()["note"]


async def test_within_a_province_on_any_date(client: AsyncClient) -> None:
    bac_giang = str(unit_id_for("province:24:pre2025"))
    communes = await find(client, "2024-06-01", within=bac_giang, level="commune")
    assert len(communes) == 209
    assert all(c["level"] == "commune" for c in communes)
    first_page = await client.get(
        f"{API}/units",
        params={
            "within": bac_giang,
            "level": "commune",
            "as_of": "2024-06-01",
            "limit": 50,
            "include_total": "true",
        },
    )
    assert first_page.json()["total"] == 209
    everything = await find(client, "2024-06-01", within=bac_giang)
    assert len(everything) == 10 + 209
    bac_ninh = str(unit_id_for("province:24:2025"))
    assert len(await find(client, "2026-01-01", within=bac_ninh, level="commune")) == 99
    assert await find(client, "2024-06-01", within=bac_ninh) == []


async def test_a_post_reform_commune_takes_its_region_from_its_predecessors(
    admin_client: AsyncClient, client: AsyncClient
) -> None:
    set_id = (await create_published(admin_client, document()))["id"]
    luc_nam = unit_id_for("commune:07444:2025")  # from five communes of Bắc Giang (TDMNPB)
    response = await client.get(
        f"{BASE}/{set_id}/thresholds",
        params={"unit_id": str(luc_nam), "year": 2025, "as_of": "2025-10-01"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["region"] == "TDMNPB"
    assert body["region_reason"]["basis"] == "unit"
    detail = (await client.get(f"{API}/units/{luc_nam}", params={"as_of": "2025-10-01"})).json()
    (region,) = [c for c in detail["classifications"] if c["kind"] == "ntm_region"]
    assert region["valid_to"] == "2026-02-15"  # 51/2025/QĐ-TTg takes effect


async def test_an_event_on_a_day_the_unit_did_not_exist_names_its_dates(
    admin_client: AsyncClient,
) -> None:
    chu = unit_id_for("district:224:pre2025")  # Thị xã Chũ: 2025-01-01 .. 2025-07-01
    response = await event(
        admin_client, "rename", "2024-06-01", unit_id=str(chu), name="Thị xã Chũ Mới"
    )
    assert_problem(response, 422, "unit_not_valid")
    body = response.json()
    assert "2025-01-01" in body["errors"][0]["msg"]
    assert body["first_date"] == "2025-01-01"
    assert body["last_date"] == "2025-07-01"
