"""Reads of the national map at a date: the issue's Done-when, search, paging, tree, lineage."""

from __future__ import annotations

from httpx import AsyncClient

from tests.units.conftest import API, assert_problem, find, one


async def test_luc_nam_before_the_reform_is_the_district_of_bac_giang(client: AsyncClient) -> None:
    response = await client.get(f"{API}/units", params={"q": "luc nam", "as_of": "2024-06-01"})
    assert response.status_code == 200
    items = response.json()["items"]
    district = next(i for i in items if i["code"] == "218")
    assert district["name"] == "Huyện Lục Nam"
    assert district["level"] == "district"
    assert district["type"] == "huyen"
    assert district["valid_to"] == "2025-07-01"
    # first known in the list of 2004-08-31 (the dated lists start there): it may be older
    assert district["valid_from"] == "2004-08-31"
    assert district["may_be_older"] is True
    parent = (await client.get(f"{API}/units/{district['parent_id']}")).json()
    assert parent["name"] == "Tỉnh Bắc Giang"
    assert parent["code"] == "24"


async def test_luc_nam_after_the_reform_is_a_commune_of_bac_ninh_from_doi_ngo(
    client: AsyncClient,
) -> None:
    response = await client.get(f"{API}/units", params={"q": "luc nam", "as_of": "2026-01-01"})
    items = response.json()["items"]
    commune = next(i for i in items if i["name"] == "Xã Lục Nam")
    assert commune["code"] == "07444"
    assert commune["level"] == "commune"
    assert commune["valid_from"] == "2025-07-01"
    assert all(i["level"] != "district" for i in items)

    detail = (
        await client.get(f"{API}/units/{commune['id']}", params={"as_of": "2026-01-01"})
    ).json()
    # a province until 39/2026/QH16 took effect on 2026-09-20 (the old data back-dated it)
    assert detail["parent"]["name"] == "Tỉnh Bắc Ninh"
    assert detail["parent"]["code"] == "24"

    lineage = (await client.get(f"{API}/units/{commune['id']}/lineage")).json()
    names = {entry["unit"]["name"]: entry for entry in lineage["predecessors"]}
    assert {
        "Thị trấn Đồi Ngô",
        "Xã Tiên Nha",
        "Thị trấn Phương Sơn",
        "Xã Chu Điện",
        "Xã Cương Sơn",
    } <= set(names)
    doi_ngo = names["Thị trấn Đồi Ngô"]
    assert doi_ngo["unit"]["code"] == "07444"
    assert doi_ngo["effective_date"] == "2025-07-01"
    assert doi_ngo["depth"] == 1
    assert doi_ngo["event"]["kind"] == "merge"
    assert doi_ngo["event"]["legal_basis"]["issuer"] == "Ủy ban Thường vụ Quốc hội"
    assert lineage["successors"] == []

    old = (await client.get(f"{API}/units/{doi_ngo['unit']['id']}/lineage")).json()
    assert [s["unit"]["name"] for s in old["successors"]] == ["Xã Lục Nam"]


async def test_code_resolves_only_with_a_date(client: AsyncClient) -> None:
    before = await one(client, "2024-06-01", code="7444")
    after = await one(client, "2026-01-01", code="07444")
    assert before["name"] == "Thị trấn Đồi Ngô"
    assert after["name"] == "Xã Lục Nam"
    assert before["id"] != after["id"]
    assert (await one(client, "2024-06-01", code="24", level="province"))[
        "name"
    ] == "Tỉnh Bắc Giang"
    assert (await one(client, "2026-01-01", code="24", level="province"))["name"] == "Tỉnh Bắc Ninh"
    assert (await one(client, "2026-10-01", code="24", level="province"))[
        "name"
    ] == "Thành phố Bắc Ninh"


async def test_province_counts_with_paging(client: AsyncClient) -> None:
    for as_of, expected in (("2024-06-01", 63), ("2026-01-01", 34)):
        seen: list[str] = []
        params = {"level": "province", "as_of": as_of}
        response = await client.get(f"{API}/units", params=params)
        while True:
            assert response.status_code == 200
            body = response.json()
            seen += [item["id"] for item in body["items"]]
            if body["next_cursor"] is None:
                assert "link" not in response.headers
                break
            assert 'rel="next"' in response.headers["link"]
            response = await client.get(
                f"{API}/units", params={**params, "cursor": body["next_cursor"]}
            )
        assert len(seen) == expected == len(set(seen))
    full = await find(client, "2024-06-01", level="province")
    assert len(full) == 63
    assert [p["code"] for p in full] == sorted(p["code"] for p in full)


async def test_national_sizes(client: AsyncClient) -> None:
    async def count(**params: str) -> int:
        total, cursor = 0, None
        while True:
            query = {"limit": 500, **params, **({"cursor": cursor} if cursor else {})}
            body = (await client.get(f"{API}/units", params=query)).json()
            total += len(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                return total

    assert await count(level="district", as_of="2025-06-30") == 696
    assert await count(level="district", as_of="2025-07-01") == 0
    # the statistics office list of 2025-03-01 (the old snapshot of 2025-01-04 said 10,051)
    assert await count(level="commune", as_of="2025-06-30") == 10047
    assert await count(level="commune", as_of="2025-07-01") == 3321


async def test_search_is_case_and_diacritic_insensitive(client: AsyncClient) -> None:
    for q in ("luc nam", "Lục Nam", "LUC NAM", "  lục   nam "):
        items = await find(client, "2024-06-01", q=q)
        assert "218" in [i["code"] for i in items], q
    by_d = await find(client, "2024-06-01", q="doi ngo")
    by_dd = await find(client, "2024-06-01", q="Đồi Ngô")
    assert [i["name"] for i in by_d] == [i["name"] for i in by_dd] == ["Thị trấn Đồi Ngô"]


async def test_search_puts_exact_code_matches_first(client: AsyncClient) -> None:
    items = await find(client, "2024-06-01", q="218")
    assert items[0]["code"] == "218"
    assert items[0]["name"] == "Huyện Lục Nam"
    paged = (
        await client.get(f"{API}/units", params={"q": "nam", "as_of": "2024-06-01", "limit": 7})
    ).json()
    second = await client.get(
        f"{API}/units",
        params={"q": "nam", "as_of": "2024-06-01", "limit": 7, "cursor": paged["next_cursor"]},
    )
    assert second.status_code == 200
    assert not {i["id"] for i in paged["items"]} & {i["id"] for i in second.json()["items"]}


async def test_get_with_etag_and_304(client: AsyncClient) -> None:
    unit = await one(client, "2026-01-01", code="07444")
    response = await client.get(f"{API}/units/{unit['id']}")
    assert response.status_code == 200
    etag = response.headers["etag"]
    body = response.json()
    assert body["version_id"]
    assert body["source_key"] == "commune:07444:2025"
    again = await client.get(f"{API}/units/{unit['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag


async def test_a_unit_that_no_longer_exists(client: AsyncClient) -> None:
    old = await one(client, "2024-06-01", code="218", level="district")
    latest = (await client.get(f"{API}/units/{old['id']}")).json()
    assert latest["name"] == "Huyện Lục Nam"
    assert latest["valid_to"] == "2025-07-01"
    assert latest["as_of"] == "2025-06-30"
    response = await client.get(f"{API}/units/{old['id']}", params={"as_of": "2026-01-01"})
    assert_problem(response, 404, "unit_not_found")
    missing = await client.get(f"{API}/units/00000000-0000-0000-0000-000000000000")
    assert_problem(missing, 404, "unit_not_found")


async def test_children_ancestors_and_tree(client: AsyncClient) -> None:
    bac_giang = await one(client, "2024-06-01", code="24", level="province")
    children = (
        await client.get(f"{API}/units/{bac_giang['id']}/children", params={"as_of": "2024-06-01"})
    ).json()["items"]
    assert [c["code"] for c in children] == [
        "213",
        "215",
        "216",
        "217",
        "218",
        "219",
        "220",
        "221",
        "222",
        "223",
    ]  # Yên Dũng (221) until 2025-01-01; Thị xã Chũ (224) only from then
    by_parent = await find(client, "2024-06-01", parent_id=bac_giang["id"])
    assert [c["id"] for c in by_parent] == [c["id"] for c in children]

    doi_ngo = await one(client, "2024-06-01", code="07444")
    ancestors = (
        await client.get(f"{API}/units/{doi_ngo['id']}/ancestors", params={"as_of": "2024-06-01"})
    ).json()["items"]
    assert [a["name"] for a in ancestors] == ["Tỉnh Bắc Giang", "Huyện Lục Nam"]

    tree = (
        await client.get(
            f"{API}/units/tree", params={"root_id": bac_giang["id"], "as_of": "2024-06-01"}
        )
    ).json()
    assert tree["count"] == 1 + 10 + 209  # the list of 2024-05-01
    (root,) = tree["items"]
    assert root["name"] == "Tỉnh Bắc Giang"
    luc_nam = next(d for d in root["children"] if d["code"] == "218")
    assert len(luc_nam["children"]) == 25  # Xã Vũ Xá until 2025-01-01
    assert luc_nam["children"][0]["code"] == "07444"
    shallow = (
        await client.get(
            f"{API}/units/tree",
            params={"root_id": bac_giang["id"], "as_of": "2024-06-01", "depth": 1},
        )
    ).json()
    assert shallow["count"] == 11
    assert all(d["children"] == [] for d in shallow["items"][0]["children"])

    bac_ninh = await one(client, "2026-01-01", code="24", level="province")
    new_tree = (
        await client.get(
            f"{API}/units/tree", params={"root_id": bac_ninh["id"], "as_of": "2026-01-01"}
        )
    ).json()
    communes = new_tree["items"][0]["children"]
    assert len(communes) == 99
    assert sum(c["type"] == "xa" for c in communes) == 66
    assert sum(c["type"] == "phuong" for c in communes) == 33
    country = (
        await client.get(f"{API}/units/tree", params={"as_of": "2026-01-01", "depth": 0})
    ).json()
    assert country["count"] == 34


async def test_history_of_a_commune_that_continued(client: AsyncClient) -> None:
    ngoc_long = await one(client, "2024-06-01", code="00859")
    history = (await client.get(f"{API}/units/{ngoc_long['id']}/history")).json()["items"]
    assert [(v["valid_from"], v["valid_to"]) for v in history] == [
        ("2004-08-31", "2025-07-01"),
        ("2025-07-01", None),
    ]
    assert history[0]["parent"]["level"] == "district"
    assert history[1]["parent"]["level"] == "province"
    assert history[1]["parent"]["name"] == "Tỉnh Tuyên Quang"
    assert (await one(client, "2026-01-01", code="00859"))["id"] == ngoc_long["id"]


async def test_province_lineage_has_the_national_assembly_resolution(client: AsyncClient) -> None:
    bac_ninh = await one(client, "2026-01-01", code="24", level="province")
    lineage = (await client.get(f"{API}/units/{bac_ninh['id']}/lineage")).json()
    names = sorted(p["unit"]["name"] for p in lineage["predecessors"])
    assert names == ["Tỉnh Bắc Giang", "Tỉnh Bắc Ninh"]
    basis = lineage["predecessors"][0]["event"]["legal_basis"]
    assert basis == {
        "number": "202/2025/QH15",
        "date": "2025-06-12",
        "issuer": "Quốc hội",
        "title": "Nghị quyết về việc sắp xếp đơn vị hành chính cấp tỉnh",
    }


async def test_partly_merged_commune_lists_each_destination(client: AsyncClient) -> None:
    old = await one(client, "2024-06-01", code="00007")
    lineage = (await client.get(f"{API}/units/{old['id']}/lineage")).json()
    codes = sorted(s["unit"]["code"] for s in lineage["successors"])
    assert codes[:2] == ["00008", "00025"] or {"00008", "00025"} <= set(codes)
    assert all(s["partly"] for s in lineage["successors"])


async def test_region_classification_and_filters(client: AsyncClient) -> None:
    northern = await find(client, "2024-06-01", classification="ntm_region:TDMNPB")
    assert len(northern) == 14
    assert "Tỉnh Bắc Giang" in [p["name"] for p in northern]
    # after the reform no province has a 2021-2025 region; communes inherit theirs from their
    # predecessors until the 2026-2030 sets take effect (2026-02-15)
    inherited = await find(client, "2026-01-01", classification="ntm_region:TDMNPB")
    assert inherited
    assert all(u["level"] == "commune" for u in inherited)
    assert await find(client, "2026-02-15", classification="ntm_region:TDMNPB") == []
    bac_giang = await one(client, "2024-06-01", code="24", level="province")
    detail = (
        await client.get(f"{API}/units/{bac_giang['id']}", params={"as_of": "2024-06-01"})
    ).json()
    (region,) = detail["classifications"]
    assert region["kind"] == "ntm_region"
    assert region["value"] == "TDMNPB"
    assert region["valid_to"] == "2025-07-01"
    assert region["legal_basis"]["number"] == "318/QĐ-TTg"


async def test_bad_query_values_are_422_naming_the_parameter(client: AsyncClient) -> None:
    response = await client.get(f"{API}/units", params={"as_of": "2025-02-30"})
    assert_problem(response, 422, "validation_error", ["query", "as_of"])
    response = await client.get(f"{API}/units", params={"cursor": "not-a-cursor"})
    assert_problem(response, 422, "invalid_cursor", ["query", "cursor"])
    response = await client.get(f"{API}/units", params={"tag": "nonsense"})
    assert_problem(response, 422, "classification_invalid", ["query", "tag"])
    response = await client.get(f"{API}/units/tree", params={"depth": 9})
    assert_problem(response, 422, "validation_error", ["query", "depth"])
    response = await client.get(f"{API}/units", params={"updated_since": "2025-01-01T00:00:00"})
    assert_problem(response, 422, "validation_error", ["query", "updated_since"])
