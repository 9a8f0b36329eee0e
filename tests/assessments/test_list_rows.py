"""Lists a client can use without extra requests (issue 11 item 10): assessment rows name their
unit and its parents as of the assessment's year; ``include_total``; ETags and 304 on lists."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

ASSESSMENTS = "/api/v1/assessments"


async def _create(client: AsyncClient, set_id: str, unit: uuid.UUID, year: int) -> dict[str, Any]:
    body = {"unit_id": str(unit), "criteria_set_id": set_id, "year": year, "kind": "appraisal"}
    response = await client.post(ASSESSMENTS, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _expected_unit(client: AsyncClient, unit_id: uuid.UUID, day: str) -> dict[str, Any]:
    """What the units API itself says of the unit and its parents on that day."""
    unit = (await client.get(f"/api/v1/units/{unit_id}", params={"as_of": day})).json()
    chain = (await client.get(f"/api/v1/units/{unit_id}/ancestors", params={"as_of": day})).json()
    parents = [
        {"id": a["id"], "code": a["code"], "name": a["name"], "level": a["level"]}
        for a in reversed(chain["items"])
    ]
    return {
        "id": str(unit_id),
        "code": unit["code"],
        "name": unit["name"],
        "level": unit["level"],
        "as_of": day,
        "parents": parents,
    }


async def test_rows_carry_the_unit_and_its_parents_as_of_their_year(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    # Two provinces on one page: Bắc Giang (A) and Hà Nội (C), read on 31/12/2023.
    made = {
        name: await _create(admin_client, criteria_set["id"], communes[name], 2023)
        for name in ("A", "C")
    }
    response = await admin_client.get(ASSESSMENTS, params={"criteria_set_id": criteria_set["id"]})
    assert response.status_code == 200, response.text
    rows = {row["id"]: row for row in response.json()["items"]}
    assert set(rows) == {m["id"] for m in made.values()}
    for name, assessment in made.items():
        row = rows[assessment["id"]]
        expected = await _expected_unit(admin_client, communes[name], "2023-12-31")
        assert row["unit"] == expected
        assert [p["level"] for p in row["unit"]["parents"]] == ["district", "province"]
    assert rows[made["A"]["id"]]["unit"]["code"] == "07450"
    assert rows[made["A"]["id"]]["unit"]["parents"][0]["code"] == "218"
    assert rows[made["A"]["id"]]["unit"]["parents"][1]["code"] == "24"
    assert rows[made["C"]["id"]]["unit"]["parents"][1]["code"] == "01"


async def test_include_total_counts_every_page(
    admin_client: AsyncClient, criteria_set: dict[str, Any], communes: dict[str, uuid.UUID]
) -> None:
    for name in ("A", "B", "C"):
        await _create(admin_client, criteria_set["id"], communes[name], 2023)
    params: dict[str, Any] = {"criteria_set_id": criteria_set["id"], "limit": 2}
    first = await admin_client.get(ASSESSMENTS, params={**params, "include_total": "true"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (len(body["items"]), body["total"]) == (2, 3)
    assert "total" not in (await admin_client.get(ASSESSMENTS, params=params)).json()
    second = await admin_client.get(
        ASSESSMENTS, params={**params, "include_total": "true", "cursor": body["next_cursor"]}
    )
    assert (len(second.json()["items"]), second.json()["total"]) == (1, 3)
    narrowed = await admin_client.get(
        ASSESSMENTS, params={**params, "include_total": "true", "unit_id": str(communes["A"])}
    )
    assert narrowed.json()["total"] == 1


async def _all(client: AsyncClient, url: str, **params: Any) -> int:
    seen, cursor = 0, None
    while True:
        page = await client.get(
            url, params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        seen += len(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


async def test_include_total_on_every_list(
    admin_client: AsyncClient, criteria_set: dict[str, Any]
) -> None:
    lists = [
        ("/api/v1/units", {"level": "province", "as_of": "2023-06-01"}),
        ("/api/v1/units", {"level": "district", "as_of": "2025-07-01"}),
        ("/api/v1/criteria-sets", {}),
        ("/api/v1/users", {}),
        ("/api/v1/clients", {}),
        ("/api/v1/audit", {}),
        (ASSESSMENTS, {}),
    ]
    for url, params in lists:
        response = await admin_client.get(
            url, params={**params, "limit": 1, "include_total": "true"}
        )
        assert response.status_code == 200, (url, response.text)
        assert response.json()["total"] == await _all(admin_client, url, **params), url
    provinces = await admin_client.get(
        "/api/v1/units", params={"level": "province", "as_of": "2023-06-01", "include_total": "1"}
    )
    assert provinces.json()["total"] == 63


async def test_lists_and_the_tree_answer_304(
    admin_client: AsyncClient,
    client: AsyncClient,
    criteria_set: dict[str, Any],
    communes: dict[str, uuid.UUID],
) -> None:
    for url, params in [
        ("/api/v1/units", {"level": "province"}),
        ("/api/v1/units/tree", {"depth": 1}),
        ("/api/v1/criteria-sets", {}),
        ("/api/v1/users", {}),
        ("/api/v1/clients", {}),
        ("/api/v1/audit", {}),
        (ASSESSMENTS, {}),
    ]:
        first = await admin_client.get(url, params=params)
        assert first.status_code == 200, (url, first.text)
        etag = first.headers["etag"]
        assert etag.startswith('"')  # strong
        again = await admin_client.get(url, params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.content == b""
        assert again.headers["etag"] == etag
        stale = await admin_client.get(url, params=params, headers={"If-None-Match": '"other"'})
        assert stale.status_code == 200
        assert stale.content == first.content
    # a change makes the list's tag stale
    before = await admin_client.get(ASSESSMENTS)
    await _create(admin_client, criteria_set["id"], communes["D"], 2023)
    after = await admin_client.get(ASSESSMENTS, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    # the language changes the bytes of a labelled list, and so its tag
    english = await client.get("/api/v1/criteria-sets", headers={"Accept-Language": "en"})
    vietnamese = await client.get("/api/v1/criteria-sets")
    assert "accept-language" in english.headers["vary"].lower()
    if english.content != vietnamese.content:
        assert english.headers["etag"] != vietnamese.headers["etag"]
