"""A province's specification of a national set: inherit, override, add, publish, resolve."""

from __future__ import annotations

import uuid

from httpx import AsyncClient

from tests.criteria.helpers import (
    BASE,
    create,
    create_published,
    document,
    indicator,
    publish,
    resolved,
)

PROVINCE_DECISION = {
    "number": "TEST-9/QĐ-UBND",
    "date": "2022-05-01",
    "issuer": "UBND tỉnh Thử Bắc",
    "signer": None,
    "title": "Quyết định thử",
    "url": None,
}


def _derive_body(unit_id: uuid.UUID | None = None, **extra: object) -> dict:
    body: dict = {
        "code": f"TEST-DERIVED-{uuid.uuid4().hex[:8]}",
        "name": {"vi": "Bộ tiêu chí của tỉnh", "en": "Provincial set"},
        "legal_basis": PROVINCE_DECISION,
        **extra,
    }
    if unit_id is not None:
        body["unit_id"] = str(unit_id)
    return body


async def _derive(client: AsyncClient, parent_id: str, body: dict) -> dict:
    response = await client.post(f"{BASE}/{parent_id}/derive", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_derive_inherits_everything(
    admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    parent = await create_published(admin_client, document())
    derived = await _derive(
        admin_client, parent["id"], _derive_body(unit_code="T91", as_of="2023-01-01")
    )
    assert derived["status"] == "draft"
    assert derived["derived_from"] == {
        "id": parent["id"],
        "code": parent["code"],
        "version": parent["version"],
    }
    assert derived["scope"] == {
        "kind": "province",
        "unit_id": str(place["north"]),
        "unit_code": "T91",
        "as_of": "2023-01-01",
    }
    assert derived["legal_basis"]["number"] == "TEST-9/QĐ-UBND"
    assert derived["indicator_count"] == parent["indicator_count"]
    assert all(
        i["inherited"] and not i["overridden"] for c in derived["criteria"] for i in c["indicators"]
    )
    assert not any(t["province_override"] for t in indicator(derived, "10.1")["thresholds"])
    assert indicator(derived, "10.1")["id"] != indicator(parent, "10.1")["id"]
    # only the province's own region matters for what is missing
    assert not any(m.get("code") == "15.1" for m in derived["missing"])


async def test_scope_must_be_inside_the_parent(
    admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    parent = await create_published(admin_client, document())
    by_district = await admin_client.post(
        f"{BASE}/{parent['id']}/derive", json=_derive_body(place["district"])
    )
    assert by_district.status_code == 422
    assert by_district.json()["code"] == "derived_scope_outside_parent"

    north = await _derive(admin_client, parent["id"], _derive_body(place["north"]))
    assert (await publish(admin_client, north["id"])).status_code == 200
    other = await admin_client.post(
        f"{BASE}/{north['id']}/derive", json=_derive_body(place["delta"])
    )
    assert other.status_code == 422
    assert other.json()["code"] == "derived_scope_outside_parent"
    same = await admin_client.post(
        f"{BASE}/{north['id']}/derive", json=_derive_body(place["north"])
    )
    assert same.status_code == 201

    national = document(derived_from=parent["code"])
    response = await admin_client.post(BASE, json=national)
    assert response.status_code == 422
    assert response.json()["code"] == "derived_scope_outside_parent"

    draft = await create(admin_client, document())
    refused = await admin_client.post(
        f"{BASE}/{draft['id']}/derive", json=_derive_body(place["north"])
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "criteria_set_not_published"


async def test_override_add_publish_and_resolve(
    admin_client: AsyncClient, client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    parent = await create_published(admin_client, document())
    derived = await _derive(admin_client, parent["id"], _derive_body(place["north"]))
    set_id = derived["id"]
    etag = (await admin_client.get(f"{BASE}/{set_id}")).headers["etag"]
    response = await admin_client.put(
        f"{BASE}/{set_id}/indicators/10.1/thresholds",
        json={"thresholds": [{"value": 47.5, "when": {"year": 2024}}]},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    income = indicator(response.json(), "10.1")
    assert income["overridden"]
    assert not income["inherited"]
    assert [t["province_override"] for t in income["thresholds"]] == [False] * 5 + [True]
    stale = await admin_client.put(
        f"{BASE}/{set_id}/indicators/10.1/thresholds",
        json={"thresholds": []},
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412

    unknown = await admin_client.put(
        f"{BASE}/{set_id}/indicators/99.9/thresholds", json={"thresholds": []}
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "indicator_not_found"
    bad = await admin_client.put(
        f"{BASE}/{set_id}/indicators/10.1/thresholds",
        json={"thresholds": [{"value": 1, "when": {"region": "XX"}}]},
    )
    assert bad.json()["code"] == "unknown_region"
    assert bad.json()["errors"][0]["loc"] == ["body", "thresholds", 0, "when", "region"]

    own = {
        "criterion": 15,
        "code": "15.9",
        "name": {"vi": "Chỉ tiêu riêng của tỉnh"},
        "kind": "number",
        "unit": "%",
        "comparator": "ge",
        "left_to_province": True,
    }
    added = await admin_client.post(f"{BASE}/{set_id}/indicators", json=own)
    assert added.status_code == 201, added.text
    new = indicator(added.json(), "15.9")
    assert not new["inherited"]
    assert not new["overridden"]

    # the province's own indicator needs a value; inherited 15.3 (left to provinces) does not
    refused = await publish(admin_client, set_id)
    assert refused.status_code == 422
    assert refused.json()["code"] == "indicator_without_threshold"
    assert [e["msg"].split()[1] for e in refused.json()["errors"]] == ["15.9"]
    filled = await admin_client.put(
        f"{BASE}/{set_id}/indicators/15.9/thresholds", json={"thresholds": [{"value": 70}]}
    )
    assert filled.status_code == 200
    published = await publish(admin_client, set_id)
    assert published.status_code == 200, published.text

    body = (
        await client.get(
            f"{BASE}/{set_id}/thresholds",
            params={"unit_id": str(place["north_commune"]), "year": 2024},
        )
    ).json()
    income = resolved(body, "10.1")
    assert income["value"] == 47.5
    assert income["reason"]["basis"] == "province_override"
    assert income["reason"]["province_override"] is True
    assert income["reason"]["legal_basis"]["number"] == "TEST-9/QĐ-UBND"
    assert "TEST-9/QĐ-UBND" in income["reason"]["detail"]
    inherited = resolved(
        (
            await client.get(
                f"{BASE}/{set_id}/thresholds",
                params={"unit_id": str(place["north_commune"]), "year": 2023},
            )
        ).json(),
        "10.1",
    )
    assert (inherited["value"], inherited["reason"]["basis"]) == (40, "region")
    assert inherited["reason"]["legal_basis"]["number"] == "TEST-1/QĐ-TTg"
    assert resolved(body, "15.9")["reason"]["basis"] == "province_override"

    outside = await client.get(
        f"{BASE}/{set_id}/thresholds", params={"unit_id": str(place["delta_commune"]), "year": 2024}
    )
    assert outside.status_code == 422
    assert outside.json()["code"] == "unit_outside_scope"


async def test_derived_export_imports_with_the_same_origins(
    admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    parent = await create_published(admin_client, document())
    derived = await _derive(admin_client, parent["id"], _derive_body(place["north"]))
    await admin_client.put(
        f"{BASE}/{derived['id']}/indicators/10.1/thresholds",
        json={
            "thresholds": [
                {"value": 47.5, "when": {"year": 2024}, "legal_basis": PROVINCE_DECISION}
            ]
        },
    )
    exported = (await admin_client.get(f"{BASE}/{derived['id']}/export")).json()
    assert exported["derived_from"] == parent["code"]
    assert exported["scope"]["unit_code"] == "T91"
    copy = {**exported, "code": exported["code"] + "-COPY"}
    imported = await admin_client.post(f"{BASE}/import", json=copy)
    assert imported.status_code == 201, imported.text
    again = (await admin_client.get(f"{BASE}/{imported.json()['id']}/export")).json()
    assert again == copy
    flags = [
        (i["code"], i["inherited"], i["overridden"])
        for c in imported.json()["criteria"]
        for i in c["indicators"]
    ]
    assert ("10.1", False, True) in flags
    assert ("15.1", True, False) in flags


async def test_patching_a_derived_set_recomputes_what_is_inherited(
    admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    parent = await create_published(admin_client, document())
    derived = await _derive(admin_client, parent["id"], _derive_body(place["north"]))
    criteria = (await admin_client.get(f"{BASE}/{derived['id']}/export")).json()["criteria"]
    criteria[1]["indicators"][0]["note"] = "changed by the province"
    criteria[0]["indicators"][0]["thresholds"].append({"value": 42, "when": {"year": 2025}})
    response = await admin_client.patch(f"{BASE}/{derived['id']}", json={"criteria": criteria})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (indicator(patched, "15.1")["inherited"], indicator(patched, "15.1")["overridden"]) == (
        False,
        True,
    )
    income = indicator(patched, "10.1")
    assert income["overridden"]
    assert [t["province_override"] for t in income["thresholds"]] == [False] * 5 + [True]
    assert indicator(patched, "15.4")["inherited"]

    body = (
        await admin_client.get(
            f"{BASE}/{derived['id']}/thresholds",
            params={"unit_id": str(place["north_commune"]), "year": 2025},
        )
    ).json()
    assert resolved(body, "10.1")["reason"]["basis"] == "province_override"
    assert resolved(body, "10.1")["value"] == 42
