"""Dated classifications: per unit and in bulk, with legal basis, history and list filters."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.units import UnitClassification
from tests.units.conftest import API, assert_problem, find, one

DECISION = {"number": "861/QĐ-TTg", "date": "2021-06-04", "issuer": "Thủ tướng Chính phủ"}


async def test_assign_and_replace_from_a_date(
    admin_client: AsyncClient, sandbox: dict[str, str]
) -> None:
    url = f"{API}/units/{sandbox['T101']}/classifications"
    first = await admin_client.post(
        url,
        json={
            "kind": "especially_difficult",
            "value": "true",
            "valid_from": "2021-06-04",
            "legal_basis": DECISION,
        },
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"created": 1, "updated": 0, "unchanged": 0, "closed": 0}
    again = await admin_client.post(
        url, json={"kind": "especially_difficult", "value": "true", "valid_from": "2022-01-01"}
    )
    assert again.json()["unchanged"] == 1
    out = await admin_client.post(
        url, json={"kind": "especially_difficult", "value": "false", "valid_from": "2024-01-01"}
    )
    assert out.json() == {"created": 1, "updated": 0, "unchanged": 0, "closed": 1}

    history = (await admin_client.get(url)).json()["items"]
    assert [(c["value"], c["valid_from"], c["valid_to"]) for c in history] == [
        ("true", "2021-06-04", "2024-01-01"),
        ("false", "2024-01-01", None),
    ]
    assert history[0]["legal_basis"] == {**DECISION, "title": None}
    assert [
        c["value"]
        for c in (await admin_client.get(url, params={"as_of": "2023-01-01"})).json()["items"]
    ] == ["true"]

    tagged = await find(admin_client, "2023-01-01", tag="especially_difficult", q="thu")
    assert [u["id"] for u in tagged] == [sandbox["T101"]]
    assert await find(admin_client, "2024-06-01", tag="especially_difficult", q="thu") == []
    detail = (
        await admin_client.get(f"{API}/units/{sandbox['T101']}", params={"as_of": "2023-01-01"})
    ).json()
    assert [(c["kind"], c["value"]) for c in detail["classifications"]] == [
        ("especially_difficult", "true")
    ]


async def test_correcting_an_assignment_on_its_first_day(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    """The region of a province can be changed by an administrator with a legal basis."""
    province = await one(admin_client, "2024-06-01", code="27", level="province")
    url = f"{API}/units/{province['id']}/classifications"
    response = await admin_client.post(
        url,
        json={
            "kind": "ntm_region",
            "value": "TDMNPB",
            "valid_from": "2021-01-01",
            "legal_basis": {"number": "12/QĐ-UBND", "date": "2022-05-01", "issuer": "UBND tỉnh"},
        },
    )
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0, "closed": 0}
    (region,) = (await admin_client.get(url)).json()["items"]
    assert (region["value"], region["valid_to"]) == ("TDMNPB", "2025-07-01")
    assert region["legal_basis"]["number"] == "12/QĐ-UBND"
    northern = await find(admin_client, "2024-06-01", classification="ntm_region:TDMNPB")
    assert len(northern) == 15


async def test_classification_rules(admin_client: AsyncClient, sandbox: dict[str, str]) -> None:
    url = f"{API}/units/{sandbox['T101']}/classifications"
    assert_problem(
        await admin_client.post(
            url, json={"kind": "ntm_region", "value": "TN", "valid_from": "2021-01-01"}
        ),
        422,
        "classification_invalid",
        ["body", "kind"],
    )
    assert_problem(
        await admin_client.post(
            url, json={"kind": "commune_group", "value": "4", "valid_from": "2026-01-01"}
        ),
        422,
        "classification_invalid",
        ["body", "value"],
    )
    assert_problem(
        await admin_client.post(
            url, json={"kind": "urbanity", "value": "rural", "valid_from": "2019-01-01"}
        ),
        422,
        "unit_not_valid",
        ["body", "valid_from"],
    )
    assert_problem(
        await admin_client.post(
            url, json={"kind": "colour", "value": "red", "valid_from": "2021-01-01"}
        ),
        422,
        "validation_error",
        ["body", "kind"],
    )
    await admin_client.post(
        url, json={"kind": "commune_group", "value": "2", "valid_from": "2026-01-01"}
    )
    earlier = await admin_client.post(
        url, json={"kind": "commune_group", "value": "1", "valid_from": "2025-01-01"}
    )
    assert_problem(earlier, 422, "classification_overlap", ["body", "valid_to"])
    bounded = await admin_client.post(
        url,
        json={
            "kind": "commune_group",
            "value": "1",
            "valid_from": "2025-01-01",
            "valid_to": "2026-01-01",
        },
    )
    assert bounded.json()["created"] == 1
    missing = await admin_client.post(
        f"{API}/units/00000000-0000-0000-0000-000000000001/classifications",
        json={"kind": "urbanity", "value": "rural", "valid_from": "2021-01-01"},
    )
    assert_problem(missing, 404, "unit_not_found")


async def test_bulk_is_all_or_nothing(
    admin_client: AsyncClient, sandbox: dict[str, str], session: AsyncSession
) -> None:
    before = await session.scalar(select(func.count()).select_from(UnitClassification))
    items = [
        {
            "unit_id": sandbox[code],
            "kind": "commune_group",
            "value": value,
            "valid_from": "2026-01-01",
            "legal_basis": {"number": "51/2025/QĐ-TTg"},
        }
        for code, value in (("T101", "1"), ("T102", "2"), ("T103", "3"))
    ]
    bad = [
        *items,
        {
            "unit_id": sandbox["district"],
            "kind": "commune_group",
            "value": "1",
            "valid_from": "2026-01-01",
        },
    ]
    response = await admin_client.post(f"{API}/unit-classifications/bulk", json={"items": bad})
    assert_problem(response, 422, "classification_invalid", ["body", "items", 3, "kind"])
    assert await session.scalar(select(func.count()).select_from(UnitClassification)) == before

    response = await admin_client.post(f"{API}/unit-classifications/bulk", json={"items": items})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    group_one = await find(admin_client, "2026-06-01", classification="commune_group:1", q="thu")
    assert [u["id"] for u in group_one] == [sandbox["T101"]]
    replay = await admin_client.post(f"{API}/unit-classifications/bulk", json={"items": items})
    assert replay.json() == {"created": 0, "updated": 0, "unchanged": 3, "closed": 0}
