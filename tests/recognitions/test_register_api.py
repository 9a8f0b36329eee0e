"""The register over HTTP: record, read, list as of a day, revoke; bad input refused."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.recognitions import Recognition
from tests.recognitions.helpers import API, grant, parent_of, revocation, unit_of


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Recognition)) or 0)


async def test_record_read_list_and_revoke(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    commune = await unit_of(admin_client, "07450")
    district = await parent_of(admin_client, commune)
    created = await admin_client.post(f"{API}/recognitions", json=grant(commune))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["held_from"] == "2020-01-11"
    assert body["held_until"] is None
    assert body["source"] == "historical"
    assert body["unit"]["code"] == "07450"
    assert created.headers["ETag"].startswith('"')
    assert created.headers["Location"] == f"/api/v1/recognitions/{body['id']}"
    # a replay with the client's id answers 200; the natural key is 409 otherwise
    again = await admin_client.post(f"{API}/recognitions", json=grant(commune))
    assert again.status_code == 409
    assert again.json()["code"] == "recognition_exists"
    assert again.json()["existing_id"] == body["id"]

    read = await admin_client.get(f"{API}/recognitions/{body['id']}")
    assert read.status_code == 200
    assert read.headers["ETag"] == created.headers["ETag"]

    def ids(response: object) -> list[str]:
        return [item["id"] for item in response.json()["items"]]  # type: ignore[attr-defined]

    listed = await admin_client.get(
        f"{API}/recognitions", params={"within": str(district), "as_of": "2021-06-01"}
    )
    assert listed.status_code == 200, listed.text
    assert ids(listed) == [body["id"]]
    before = await admin_client.get(
        f"{API}/recognitions", params={"as_of": "2020-01-10", "unit_id": str(commune)}
    )
    assert ids(before) == []

    stale = await admin_client.post(
        f"{API}/recognitions/{body['id']}/revocation",
        json=revocation(),
        headers={"If-Match": '"stale"'},
    )
    assert stale.status_code == 412
    revoked = await admin_client.post(
        f"{API}/recognitions/{body['id']}/revocation",
        json=revocation(),
        headers={"If-Match": created.headers["ETag"]},
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["held_until"] == "2022-03-01"
    assert revoked.json()["revocation"]["decision_number"] == "99/QĐ-UBND"
    assert revoked.headers["ETag"] != created.headers["ETag"]

    for day, expected in (("2022-02-28", [body["id"]]), ("2022-03-01", [])):
        listed = await admin_client.get(
            f"{API}/recognitions", params={"unit_id": str(commune), "as_of": day}
        )
        assert ids(listed) == expected, day
        held = await admin_client.get(f"{API}/units/{commune}/recognitions", params={"as_of": day})
        assert held.status_code == 200
        assert held.json()["titles"] == (["ntm_commune"] if expected else [])
    # without as_of the revoked title stays in the register as history
    everything = await admin_client.get(f"{API}/recognitions", params={"unit_id": str(commune)})
    assert ids(everything) == [body["id"]]

    twice = await admin_client.post(
        f"{API}/recognitions/{body['id']}/revocation", json=revocation()
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "recognition_already_revoked"
    assert await _count(session) == 1


async def test_a_decision_for_a_year_is_held_from_its_date(admin_client: AsyncClient) -> None:
    """Lục Nam district, NTM "for 2023" by 37/QĐ-TTg of 11/01/2024: nothing on 2024-01-10."""
    commune = await unit_of(admin_client, "07450")
    district = await parent_of(admin_client, commune)
    created = await admin_client.post(
        f"{API}/recognitions",
        json=grant(
            district,
            title="ntm_district",
            year_for=2023,
            decision_number="37/QĐ-TTg",
            decision_date="2024-01-11",
            signer="Thủ tướng Chính phủ",
            issuing_body="Thủ tướng Chính phủ",
        ),
    )
    assert created.status_code == 201, created.text
    for day, titles in (("2024-01-10", []), ("2024-01-11", ["ntm_district"])):
        held = await admin_client.get(f"{API}/units/{district}/recognitions", params={"as_of": day})
        assert held.json()["titles"] == titles, day
    listed = await admin_client.get(
        f"{API}/recognitions", params={"year": 2023, "title": "ntm_district"}
    )
    assert [i["year_for"] for i in listed.json()["items"]] == [2023]


async def test_bad_input_is_refused_and_nothing_is_written(
    admin_client: AsyncClient, session: AsyncSession
) -> None:
    commune = await unit_of(admin_client, "07450")
    cases = [
        (grant(commune, decision_date="2999-01-01"), 422, "decision_date_in_future"),
        (grant(commune, title="ntm_district"), 422, "title_level_mismatch"),
        (grant(commune, year_for=2021), 422, "year_for_after_decision"),
        (grant(commune, field="Giáo dục"), 422, "recognition_field_not_allowed"),
        (grant(commune, title="no_such_title"), 422, "validation_error"),
        (grant(commune, decision_date="11/01/2020"), 422, "validation_error"),
        (
            grant(commune, issuing_unit_id="00000000-0000-0000-0000-000000000001"),
            422,
            "issuing_unit_not_found",
        ),
    ]
    for body, status, code in cases:
        response = await admin_client.post(f"{API}/recognitions", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["code"] == code, response.text
    created = await admin_client.post(f"{API}/recognitions", json=grant(commune))
    rid = created.json()["id"]
    early = await admin_client.post(
        f"{API}/recognitions/{rid}/revocation", json=revocation(decision_date="2019-12-31")
    )
    assert early.status_code == 422
    assert early.json()["code"] == "revocation_before_grant"
    missing = await admin_client.get(f"{API}/recognitions/00000000-0000-0000-0000-000000000002")
    assert missing.status_code == 404
    assert missing.json()["code"] == "recognition_not_found"
    assert await _count(session) == 1
