"""Who may read a criteria set: published and retired sets are public; a draft only with
``criteria:read`` over its scope, and 404 ``criteria_set_not_found`` to anyone else."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

from app.core.permissions import Role
from tests.conftest import PrincipalFactory
from tests.criteria.helpers import BASE, create, create_published, document, publish

DECISION = {
    "number": "TEST-10/QĐ-UBND",
    "date": "2022-06-01",
    "issuer": "UBND tỉnh thử",
    "signer": None,
    "title": "Test provincial decision",
    "url": None,
}


def _reads(set_id: str, commune: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """Every read route of one set, with the parameters it needs."""
    return [
        (f"{BASE}/{set_id}", {}),
        (f"{BASE}/{set_id}/export", {}),
        (f"{BASE}/{set_id}/thresholds", {"unit_id": str(commune), "year": 2024}),
    ]


async def _assert_hidden(
    client: AsyncClient, set_id: str, commune: uuid.UUID, headers: dict[str, str] | None = None
) -> None:
    for path, params in _reads(set_id, commune):
        response = await client.get(path, params=params, headers=headers or {})
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "criteria_set_not_found"


async def _assert_readable(
    client: AsyncClient, set_id: str, commune: uuid.UUID, headers: dict[str, str] | None = None
) -> None:
    for path, params in _reads(set_id, commune):
        response = await client.get(path, params=params, headers=headers or {})
        assert response.status_code == 200, (path, response.text)


async def _derive(admin_client: AsyncClient, parent_id: str, **scope: Any) -> dict[str, Any]:
    body = {
        "code": f"TEST-VIS-{uuid.uuid4().hex[:8]}",
        "name": {"vi": "Bộ tiêu chí của tỉnh", "en": "Provincial set"},
        "legal_basis": DECISION,
        **scope,
    }
    response = await admin_client.post(f"{BASE}/{parent_id}/derive", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _draft_codes(client: AsyncClient, headers: dict[str, str] | None = None) -> set[str]:
    response = await client.get(BASE, params={"status": "draft"}, headers=headers or {})
    assert response.status_code == 200, response.text
    return {item["code"] for item in response.json()["items"]}


async def test_a_draft_is_404_without_a_token(
    client: AsyncClient, admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    draft = await create(admin_client, document())
    await _assert_hidden(client, draft["id"], place["north_commune"])
    # Its ETag does not reveal it either: no 304 to a caller who may not read it.
    etag = (await admin_client.get(f"{BASE}/{draft['id']}")).headers["etag"]
    cached = await client.get(f"{BASE}/{draft['id']}", headers={"If-None-Match": etag})
    assert cached.status_code == 404
    exported = await client.get(f"{BASE}/{draft['id']}/export", headers={"If-None-Match": etag})
    assert exported.status_code == 404
    # The same answer as for a set that does not exist.
    absent = await client.get(f"{BASE}/{uuid.uuid4()}")
    assert absent.json()["code"] == cached.json()["code"] == "criteria_set_not_found"


async def test_a_national_draft_needs_a_national_grant(
    client: AsyncClient,
    admin_client: AsyncClient,
    make_principal: PrincipalFactory,
    place: dict[str, uuid.UUID],
) -> None:
    draft = await create(admin_client, document())
    commune = place["north_commune"]
    commune_viewer = await make_principal(Role.VIEWER, unit_id=commune)
    coordinator = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=place["north"])
    national_viewer = await make_principal(Role.VIEWER)
    await _assert_hidden(client, draft["id"], commune, commune_viewer.headers)
    await _assert_hidden(client, draft["id"], commune, coordinator.headers)
    await _assert_readable(client, draft["id"], commune, national_viewer.headers)
    await _assert_readable(admin_client, draft["id"], commune)
    # A grant without criteria:read (an integration client reading units only) is not enough.
    units_only = await make_principal(
        Role.INTEGRATION_CLIENT, kind="client", resources={"units": "read"}
    )
    await _assert_hidden(client, draft["id"], commune, units_only.headers)


async def test_a_province_sees_its_own_derived_draft_only(
    client: AsyncClient,
    admin_client: AsyncClient,
    make_principal: PrincipalFactory,
    place: dict[str, uuid.UUID],
) -> None:
    parent = await create_published(admin_client, document())
    bac_giang = await _derive(admin_client, parent["id"], unit_code="24", as_of="2023-01-01")
    assert bac_giang["scope"]["unit_code"] == "24"
    other = await _derive(admin_client, parent["id"], unit_id=str(place["north"]))
    national_draft = await create(admin_client, document())
    coordinator = await make_principal(
        Role.PROVINCE_COORDINATOR, unit_id=uuid.UUID(bac_giang["scope"]["unit_id"])
    )

    mine = await client.get(f"{BASE}/{bac_giang['id']}", headers=coordinator.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["status"] == "draft"
    exported = await client.get(f"{BASE}/{bac_giang['id']}/export", headers=coordinator.headers)
    assert exported.status_code == 200
    await _assert_hidden(client, other["id"], place["north_commune"], coordinator.headers)
    await _assert_hidden(client, national_draft["id"], place["north_commune"], coordinator.headers)

    # The list filters the same way, in SQL.
    listed = await _draft_codes(client, coordinator.headers)
    assert bac_giang["code"] in listed
    assert not listed & {other["code"], national_draft["code"]}
    # A commune's officer does not read its province's draft.
    commune_viewer = await make_principal(Role.VIEWER, unit_id=place["north_commune"])
    await _assert_hidden(client, other["id"], place["north_commune"], commune_viewer.headers)
    assert other["code"] not in await _draft_codes(client, commune_viewer.headers)


async def test_lists_show_drafts_only_with_a_token(
    client: AsyncClient, admin_client: AsyncClient, make_principal: PrincipalFactory
) -> None:
    draft = await create(admin_client, document())
    published = await create_published(admin_client, document())

    anonymous = await client.get(BASE, params={"limit": 200})
    assert anonymous.status_code == 200
    assert {item["status"] for item in anonymous.json()["items"]} <= {"published", "retired"}
    assert await _draft_codes(client) == set()
    assert (await client.get(BASE, params={"code": draft["code"]})).json()["items"] == []
    assert [
        i["code"]
        for i in (await client.get(BASE, params={"code": published["code"]})).json()["items"]
    ] == [published["code"]]

    assert draft["code"] in await _draft_codes(admin_client)
    national_viewer = await make_principal(Role.VIEWER)
    assert draft["code"] in await _draft_codes(client, national_viewer.headers)


async def test_published_and_retired_sets_stay_public(
    client: AsyncClient, admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    published = await create_published(admin_client, document())
    await _assert_readable(client, published["id"], place["north_commune"])
    retired = await create(admin_client, document())
    assert (await publish(admin_client, retired["id"])).status_code == 200
    response = await admin_client.post(f"{BASE}/{retired['id']}/retire")
    assert response.status_code == 200, response.text
    await _assert_readable(client, retired["id"], place["north_commune"])
    listed = await client.get(BASE, params={"status": "retired", "code": retired["code"]})
    assert [item["code"] for item in listed.json()["items"]] == [retired["code"]]
