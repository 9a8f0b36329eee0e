"""The register of titles reaches the change feed: a recorded decision and its revocation are
events with a link to the recognition."""

from __future__ import annotations

from httpx import AsyncClient

from app.integration import catalogue
from app.models.enums import DossierAction
from tests.integration.test_feed import _all_after, _head
from tests.recognitions.helpers import API, grant, revocation, unit_of


async def test_a_recognition_and_its_revocation_reach_the_feed(admin_client: AsyncClient) -> None:
    start = await _head(admin_client)
    commune = await unit_of(admin_client, "07450")
    created = await admin_client.post(f"{API}/recognitions", json=grant(commune))
    assert created.status_code == 201, created.text
    recognition_id = created.json()["id"]
    revoked = await admin_client.post(
        f"{API}/recognitions/{recognition_id}/revocation",
        json=revocation(),
        headers={"If-Match": created.headers["ETag"]},
    )
    assert revoked.status_code == 200, revoked.text

    items = await _all_after(admin_client, start, types="recognition")
    assert [(i["type"], i["entity_id"]) for i in items] == [
        ("recognition.created", recognition_id),
        ("recognition.revoked", recognition_id),
    ]
    assert {i["link"] for i in items} == {f"/api/v1/recognitions/{recognition_id}"}
    assert {i["unit_id"] for i in items} == {str(commune)}


def test_every_dossier_action_has_an_event_type_a_poller_can_filter_by() -> None:
    for action in DossierAction:
        kind = catalogue.event_type("dossier", action.value)
        assert kind != f"dossier.{action.value}", kind  # a past tense, like every other type
        parsed = catalogue.parse_types([kind])
        assert isinstance(parsed, catalogue.TypeFilter), kind
        assert ("dossier", action.value) in parsed.pairs
