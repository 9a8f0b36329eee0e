"""Create, read, list, edit, publish and retire criteria sets; invariants answer 409/422."""

from __future__ import annotations

import uuid

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.permissions import Role
from app.models.criteria import CriteriaSet
from app.models.system import AuditRecord
from tests.conftest import PrincipalFactory
from tests.criteria.helpers import (
    BASE,
    clone,
    create,
    create_published,
    document,
    indicator,
    publish,
)

PROBLEM = "application/problem+json"


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CriteriaSet)) or 0)


async def test_create_returns_the_nested_tree(admin_client: AsyncClient) -> None:
    doc = document()
    response = await admin_client.post(BASE, json=doc)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"].endswith(body["id"])
    # A strong ETag named by the set's id and version (its revision): usable with If-Match.
    assert response.headers["etag"] == f'"{body["id"]}.{body["version"]}"'
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["criteria_count"] == 2
    assert body["indicator_count"] == 5
    assert [c["number"] for c in body["criteria"]] == [10, 15]
    income = indicator(body, "10.1")
    assert income["name"] == "Thu nhập bình quân"
    assert income["names"] == {"vi": "Thu nhập bình quân", "en": "Average income"}
    assert [t["value"] for t in income["thresholds"]] == [40, 41, 50, 45, 30]
    assert income["thresholds"][1]["when"] == {"region": "TDMNPB", "year": 2024}
    assert body["criteria"][1]["rule"] == {"kind": "at_least", "k": 1}
    assert body["conditions"][0]["name"] == "Sự hài lòng"
    assert body["revocation"]["bands"][1]["requires_failing_criterion"] == [10]
    assert body["prerequisites"] == [{"kind": "title", "title": "ntm_commune"}]
    assert body["applicability_rules"][0]["use_region"] == "TDMNPB"

    fetched = await admin_client.get(f"{BASE}/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_missing_and_complete_are_computed(admin_client: AsyncClient) -> None:
    body = await create(admin_client, document(complete=True))
    assert body["declared_complete"] is True
    assert body["complete"] is False
    missing = {(m["kind"], m.get("code") or m.get("prerequisite")): m for m in body["missing"]}
    assert missing[("indicator", "15.3")]["reason"] == "left_to_province"
    assert missing[("condition", "resident_satisfaction")]["reason"] == "left_to_province"
    # 15.1 has values for two regions only, and no value without a region
    assert missing[("indicator", "15.1")]["regions"] == ["BTB", "DBSCL", "DHNTB", "DNB", "TN"]
    assert ("indicator", "10.1") not in missing  # it has a value for every unit


async def test_accept_language_en_gives_english_names(admin_client: AsyncClient) -> None:
    body = await create(admin_client, document())
    response = await admin_client.get(
        f"{BASE}/{body['id']}", headers={"Accept-Language": "en-GB,en;q=0.9,vi;q=0.5"}
    )
    english = response.json()
    assert "Accept-Language" in response.headers["vary"]
    assert english["name"] == "Test criteria set"
    assert english["criteria"][0]["name"] == "Income"
    assert english["groups"][1]["name"] == "Xã hội"  # no English name: Vietnamese
    assert english["conditions"][0]["name"] == "Satisfaction"
    vietnamese = (
        await admin_client.get(f"{BASE}/{body['id']}", headers={"Accept-Language": "vi"})
    ).json()
    assert vietnamese["name"] == "Bộ tiêu chí thử"


async def test_etag_and_not_modified(admin_client: AsyncClient) -> None:
    body = await create(admin_client, document())
    first = await admin_client.get(f"{BASE}/{body['id']}")
    etag = first.headers["etag"]
    again = await admin_client.get(f"{BASE}/{body['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    exported = await admin_client.get(
        f"{BASE}/{body['id']}/export", headers={"If-None-Match": etag}
    )
    assert exported.status_code == 304


async def test_unknown_set_is_404(client: AsyncClient) -> None:
    response = await client.get(f"{BASE}/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "criteria_set_not_found"


async def test_unknown_keys_and_values_are_422_naming_the_field(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    before = await _count(session)
    doc = document()
    doc["criteria"][0]["indicators"][0]["colour"] = "red"
    response = await admin_client.post(BASE, json=doc)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "criteria", 0, "indicators", 0, "colour"]

    doc = document()
    doc["criteria"][0]["indicators"][0]["thresholds"][0]["value"] = "40"
    response = await admin_client.post(BASE, json=doc)
    assert response.status_code == 422
    assert any(
        e["loc"][:7] == ["body", "criteria", 0, "indicators", 0, "thresholds", 0]
        for e in response.json()["errors"]
    )

    doc = document(title="ntm_district")
    response = await admin_client.post(BASE, json=doc)
    assert response.status_code == 422
    assert response.json()["code"] == "title_level_mismatch"
    assert await _count(session) == before


async def _rejected(client: AsyncClient, doc: dict, code: str, loc: list) -> None:
    response = await client.post(BASE, json=doc)
    assert response.status_code == 422, response.text
    body = response.json()
    assert response.headers["content-type"] == PROBLEM
    assert body["code"] == code
    assert body["errors"][0]["loc"] == loc
    assert body["errors"][0]["type"] == code


async def test_invariants_of_the_document(admin_client: AsyncClient, session: AsyncSession) -> None:
    before = await _count(session)
    doc = document()
    doc["criteria"][1]["number"] = 10
    await _rejected(
        admin_client, doc, "duplicate_criterion_number", ["body", "criteria", 1, "number"]
    )

    doc = document()
    doc["criteria"][1]["indicators"][0]["code"] = "10.1"
    await _rejected(
        admin_client,
        doc,
        "duplicate_indicator_code",
        ["body", "criteria", 1, "indicators", 0, "code"],
    )

    doc = document()
    doc["criteria"][0]["indicators"][0]["thresholds"][0]["when"] = {"region": "NOWHERE"}
    await _rejected(
        admin_client,
        doc,
        "unknown_region",
        ["body", "criteria", 0, "indicators", 0, "thresholds", 0, "when", "region"],
    )

    doc = document()
    doc["criteria"][0]["indicators"][0]["thresholds"][0]["when"] = {"commune_group": 4}
    await _rejected(
        admin_client,
        doc,
        "unknown_commune_group",
        ["body", "criteria", 0, "indicators", 0, "thresholds", 0, "when", "commune_group"],
    )

    doc = document()
    doc["applicability_rules"][0]["use_region"] = "XX"
    await _rejected(
        admin_client, doc, "unknown_region", ["body", "applicability_rules", 0, "use_region"]
    )

    doc = document()
    doc["criteria"][0]["group"] = "G9"
    await _rejected(admin_client, doc, "unknown_criteria_group", ["body", "criteria", 0, "group"])

    doc = document()
    doc["criteria"][0]["source"] = "nowhere"
    await _rejected(admin_client, doc, "unknown_source", ["body", "criteria", 0, "source"])

    doc = document()
    doc["criteria"][1]["indicators"][3]["thresholds"][0]["value"] = 3
    await _rejected(
        admin_client,
        doc,
        "threshold_value_mismatch",
        ["body", "criteria", 1, "indicators", 3, "thresholds", 0, "value"],
    )

    doc = document()
    doc["criteria"][1]["indicators"][0]["thresholds"][0]["value"] = 140
    await _rejected(
        admin_client,
        doc,
        "threshold_out_of_range",
        ["body", "criteria", 1, "indicators", 0, "thresholds", 0, "value"],
    )

    doc = document()
    doc["criteria"][0]["indicators"][0]["thresholds"][1]["when"] = {"region": "TDMNPB"}
    await _rejected(
        admin_client,
        doc,
        "duplicate_threshold",
        ["body", "criteria", 0, "indicators", 0, "thresholds", 1, "when"],
    )

    doc = document()
    doc["criteria"][0]["indicators"][0]["thresholds"][1]["when"] = {"year": 2030}
    await _rejected(
        admin_client,
        doc,
        "year_outside_period",
        ["body", "criteria", 0, "indicators", 0, "thresholds", 1, "when", "year"],
    )

    doc = document()
    doc["revocation"]["bands"][1]["requires_failing_criterion"] = [99]
    await _rejected(
        admin_client,
        doc,
        "unknown_criterion",
        ["body", "revocation", "bands", 1, "requires_failing_criterion", 0],
    )

    doc = document(derived_from="NO-SUCH-SET")
    await _rejected(admin_client, doc, "unknown_criteria_set", ["body", "derived_from"])
    assert await _count(session) == before


async def test_duplicate_code_is_409(admin_client: AsyncClient) -> None:
    doc = document()
    await create(admin_client, doc)
    response = await admin_client.post(BASE, json=document(doc["code"]))
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_criteria_set_code"


async def test_client_supplied_id_is_idempotent(admin_client: AsyncClient) -> None:
    doc = {**document(), "id": "6b1f0b3e-3d55-4c3f-9a52-1d2c3b4a5f60"}
    first = await admin_client.post(BASE, json=doc)
    assert first.status_code == 201
    assert first.json()["id"] == doc["id"]
    again = await admin_client.post(BASE, json=doc)
    assert again.status_code == 200
    assert again.json()["version"] == 1
    other = await admin_client.post(BASE, json={**doc, "name": {"vi": "Khác", "en": None}})
    assert other.status_code == 409
    assert other.json()["code"] == "criteria_set_exists"


async def test_patch_a_draft_keeps_indicator_ids(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    body = await create(admin_client, document())
    income_id = indicator(body, "10.1")["id"]
    criteria = clone(document())["criteria"]
    criteria[0]["indicators"][0]["thresholds"] = [
        {"value": 33, "when": {}, "source": "s1", "confidence": "high"}
    ]
    criteria[1]["indicators"].pop(1)
    response = await admin_client.patch(
        f"{BASE}/{body['id']}",
        json={"name": {"vi": "Tên mới", "en": "New name"}, "criteria": criteria},
        headers={
            "If-Match": body and (await admin_client.get(f"{BASE}/{body['id']}")).headers["etag"]
        },
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["version"] == 2
    assert patched["name"] == "Tên mới"
    assert indicator(patched, "10.1")["id"] == income_id
    assert [t["value"] for t in indicator(patched, "10.1")["thresholds"]] == [33]
    assert patched["indicator_count"] == 4
    audit = (
        (
            await session.execute(
                select(AuditRecord.action)
                .where(AuditRecord.entity_id == body["id"])
                .order_by(AuditRecord.seq)
            )
        )
        .scalars()
        .all()
    )
    assert audit == ["create", "update"]


async def test_patch_rejects_stale_etag_and_bad_fields(admin_client: AsyncClient) -> None:
    body = await create(admin_client, document())
    stale = await admin_client.patch(
        f"{BASE}/{body['id']}", json={"complete": True}, headers={"If-Match": 'W/"old"'}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    scope = await admin_client.patch(f"{BASE}/{body['id']}", json={"scope": {"kind": "national"}})
    assert scope.status_code == 422
    assert scope.json()["errors"][0]["loc"] == ["body", "scope"]
    null = await admin_client.patch(f"{BASE}/{body['id']}", json={"criteria": None})
    assert null.status_code == 422


async def test_publish_checks_thresholds_then_freezes(
    admin_client: AsyncClient, client: AsyncClient
) -> None:
    doc = document()
    doc["criteria"][0]["indicators"][0]["thresholds"] = []
    body = await create(admin_client, doc)
    refused = await publish(admin_client, body["id"])
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "indicator_without_threshold"
    # 15.2 is a judgement and 15.3 is left to the provinces in a national set: only 10.1 blocks
    assert [e["loc"] for e in problem["errors"]] == [["criteria", 0, "indicators", 0, "thresholds"]]
    assert "10.1" in problem["errors"][0]["msg"]

    response = await admin_client.put(
        f"{BASE}/{body['id']}/indicators/10.1/thresholds",
        json={"thresholds": [{"value": 30, "when": {}, "source": "s1", "confidence": "low"}]},
    )
    assert response.status_code == 200, response.text
    published = await publish(admin_client, body["id"])
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["published_at"] is not None

    for attempt in (
        admin_client.patch(f"{BASE}/{body['id']}", json={"complete": True}),
        admin_client.put(
            f"{BASE}/{body['id']}/indicators/10.1/thresholds", json={"thresholds": []}
        ),
        admin_client.post(
            f"{BASE}/{body['id']}/indicators",
            json={**doc["criteria"][0]["indicators"][0], "code": "10.9", "criterion": 10},
        ),
        publish(admin_client, body["id"]),
    ):
        response = await attempt
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "criteria_set_published"
    assert (await client.get(f"{BASE}/{body['id']}")).json()["version"] == published.json()[
        "version"
    ]


async def test_retire(admin_client: AsyncClient) -> None:
    draft = await create(admin_client, document())
    refused = await admin_client.post(f"{BASE}/{draft['id']}/retire")
    assert refused.status_code == 409
    assert refused.json()["code"] == "criteria_set_not_published"
    published = await create_published(admin_client, document())
    retired = await admin_client.post(f"{BASE}/{published['id']}/retire")
    assert retired.status_code == 200
    assert retired.json()["status"] == "retired"
    again = await admin_client.post(f"{BASE}/{published['id']}/retire")
    assert again.json()["code"] == "criteria_set_retired"


async def test_add_indicator_to_a_draft(admin_client: AsyncClient) -> None:
    body = await create(admin_client, document())
    new = {
        "criterion": 10,
        "code": "10.2",
        "name": {"vi": "Chỉ tiêu mới"},
        "kind": "boolean",
        "comparator": "eq",
        "thresholds": [{"value": True}],
    }
    response = await admin_client.post(f"{BASE}/{body['id']}/indicators", json=new)
    assert response.status_code == 201, response.text
    added = indicator(response.json(), "10.2")
    assert added["thresholds"][0]["value"] is True
    duplicate = await admin_client.post(f"{BASE}/{body['id']}/indicators", json=new)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_indicator_code"
    unknown = await admin_client.post(
        f"{BASE}/{body['id']}/indicators", json={**new, "code": "7.1", "criterion": 7}
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_criterion"


async def test_list_filters_and_pagination(admin_client: AsyncClient, client: AsyncClient) -> None:
    codes = []
    for start, end in ((2021, 2025), (2021, 2025), (2026, 2030)):
        doc = document(
            f"PAGE-TEST-{start}-{len(codes)}", period={"start_year": start, "end_year": end}
        )
        if start == 2026:
            doc["applicability_rules"] = []
            for c in doc["criteria"]:
                for i in c["indicators"]:
                    for t in i["thresholds"]:
                        t["when"].pop("year", None)
            doc["criteria"][0]["indicators"][0]["thresholds"] = doc["criteria"][0]["indicators"][0][
                "thresholds"
            ][:1]
        codes.append((await create(admin_client, doc))["code"])

    listed = await admin_client.get(
        BASE, params={"year": 2023, "status": "draft", "level": "commune"}
    )
    assert listed.status_code == 200, listed.text
    assert {item["code"] for item in listed.json()["items"]} == set(codes[:2])
    assert listed.json()["items"][0]["criteria_count"] == 2

    later = await admin_client.get(BASE, params={"year": 2027, "status": "draft"})
    assert [item["code"] for item in later.json()["items"]] == [codes[2]]

    page = await admin_client.get(BASE, params={"status": "draft", "limit": 2})
    assert len(page.json()["items"]) == 2
    assert page.json()["next_cursor"]
    assert 'rel="next"' in page.headers["link"]
    rest = await admin_client.get(
        BASE, params={"status": "draft", "limit": 2, "cursor": page.json()["next_cursor"]}
    )
    seen = [i["code"] for i in page.json()["items"]] + [i["code"] for i in rest.json()["items"]]
    assert seen == codes
    assert rest.json()["next_cursor"] is None

    bad = await client.get(BASE, params={"cursor": "nonsense"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"

    since = page.json()["items"][1]["updated_at"]
    recent = await admin_client.get(BASE, params={"status": "draft", "updated_since": since})
    assert [i["code"] for i in recent.json()["items"]] == codes[1:]


async def test_a_dry_run_import_is_authorised_like_the_real_run(
    client: AsyncClient,
    admin_client: AsyncClient,
    session: AsyncSession,
    make_principal: PrincipalFactory,
) -> None:
    """A province's coordinator may not write national sets: the dry run is refused exactly
    as the real import (before anything is written), not answered with a passing check."""
    province = (
        await admin_client.get(
            "/api/v1/units", params={"code": "01", "level": "province", "as_of": "2026-01-01"}
        )
    ).json()["items"][0]["id"]
    coordinator = await make_principal(Role.PROVINCE_COORDINATOR, unit_id=uuid.UUID(province))
    before = await _count(session)
    answers = []
    for params in ({"dry_run": "true"}, {}):
        response = await client.post(
            f"{BASE}/import", params=params, json=document(), headers=coordinator.headers
        )
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        answers.append({k: v for k, v in response.json().items() if k != "instance"})
    assert answers[0] == answers[1]
    assert await _count(session) == before
    allowed = await admin_client.post(f"{BASE}/import", params={"dry_run": "true"}, json=document())
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["valid"] is True


async def test_if_match_uses_the_strong_comparison(admin_client: AsyncClient) -> None:
    body = await create(admin_client, document())
    etag = (await admin_client.get(f"{BASE}/{body['id']}")).headers["etag"]
    weak = await admin_client.patch(
        f"{BASE}/{body['id']}", json={"complete": True}, headers={"If-Match": f"W/{etag}"}
    )
    assert weak.status_code == 412, weak.text
    assert weak.json()["current_etag"] == etag
    published = await admin_client.post(
        f"{BASE}/{body['id']}/publish", headers={"If-Match": f'"other", {etag}'}
    )
    assert published.status_code == 200, published.text
    assert published.headers["etag"] == f'"{body["id"]}.{body["version"] + 1}"'
    assert (
        published.headers["etag"]
        == (await admin_client.get(f"{BASE}/{body['id']}")).headers["etag"]
    )
