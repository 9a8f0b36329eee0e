"""The response language (``Accept-Language``, q-values honoured) and ``Vary`` on 200 and 304."""

from __future__ import annotations

import uuid

from httpx import AsyncClient

from tests.criteria.helpers import BASE, create_published, document, resolved

FRENCH_THEN_ENGLISH = {"Accept-Language": "fr, en;q=0.8"}


async def test_a_preference_for_english_after_another_language_gives_english(
    client: AsyncClient, admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    published = await create_published(admin_client, document())
    english = await client.get(f"{BASE}/{published['id']}", headers=FRENCH_THEN_ENGLISH)
    assert english.status_code == 200, english.text
    assert english.json()["name"] == "Test criteria set"
    assert english.json()["criteria"][0]["name"] == "Income"
    listed = await client.get(BASE, params={"code": published["code"]}, headers=FRENCH_THEN_ENGLISH)
    assert listed.json()["items"][0]["name"] == "Test criteria set"
    thresholds = await client.get(
        f"{BASE}/{published['id']}/thresholds",
        params={"unit_id": str(place["north_commune"]), "year": 2024},
        headers=FRENCH_THEN_ENGLISH,
    )
    assert resolved(thresholds.json(), "10.1")["name"] == "Average income"
    # Vietnamese when asked for first, when English is refused (q=0) and by default.
    for header in ("vi, en;q=0.9", "en;q=0, vi;q=0.1", "fr", ""):
        response = await client.get(
            f"{BASE}/{published['id']}", headers={"Accept-Language": header}
        )
        assert response.json()["name"] == "Bộ tiêu chí thử", header


async def test_language_dependent_reads_vary_on_200_and_304(
    client: AsyncClient, admin_client: AsyncClient, place: dict[str, uuid.UUID]
) -> None:
    published = await create_published(admin_client, document())
    for path, params in (
        (f"{BASE}/{published['id']}", {}),
        (
            f"{BASE}/{published['id']}/thresholds",
            {"unit_id": str(place["north_commune"]), "year": 2024},
        ),
    ):
        first = await client.get(path, params=params, headers={"Accept-Language": "en"})
        assert first.status_code == 200
        assert "Accept-Language" in first.headers["vary"], path
        cached = await client.get(
            path,
            params=params,
            headers={"Accept-Language": "en", "If-None-Match": first.headers["etag"]},
        )
        assert cached.status_code == 304, path
        assert "Accept-Language" in cached.headers["vary"], path
        assert cached.headers["etag"] == first.headers["etag"]
    listed = await client.get(BASE)
    assert "Accept-Language" in listed.headers["vary"]
    # The exported document holds both languages: it does not vary.
    exported = await client.get(f"{BASE}/{published['id']}/export")
    assert exported.status_code == 200
    assert "accept-language" not in exported.headers.get("vary", "").lower()
