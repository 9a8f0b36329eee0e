"""A published set is served from kept bytes, its head kept ``HEAD_TTL_SECONDS`` (issue 16).

The process that writes a set sees the change at once (the write forgets the kept head); a change
written elsewhere (another worker, plain SQL here) is seen once the kept head has expired. Drafts
are never kept.
"""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.criteria.service import reading
from app.models.criteria import CriteriaSet
from tests.criteria.helpers import BASE, create, create_published, document


async def test_a_published_set_is_served_from_kept_bytes_with_its_etag(
    client: AsyncClient, admin_client: AsyncClient, session: AsyncSession
) -> None:
    published = await create_published(admin_client, document())
    url = f"{BASE}/{published['id']}"
    first = await client.get(url)
    assert first.status_code == 200, first.text
    vietnamese = await client.get(url)
    english = await client.get(url, headers={"Accept-Language": "en"})
    assert vietnamese.content == first.content
    assert english.content != first.content  # kept per language
    assert english.json()["id"] == first.json()["id"]
    assert vietnamese.headers["etag"] == first.headers["etag"] == published_etag(first)
    assert "Accept-Language" in vietnamese.headers["vary"]
    cached = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304

    # Retired by this process: seen by the next read.
    retired = await admin_client.post(f"{url}/retire")
    assert retired.status_code == 200, retired.text
    after = await client.get(url)
    assert after.json()["status"] == "retired"
    assert after.headers["etag"] != first.headers["etag"]


def published_etag(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    return reading.etag({"id": uuid.UUID(body["id"]), "version": body["version"]})


async def test_a_change_written_elsewhere_is_seen_once_the_kept_head_expires(
    client: AsyncClient,
    admin_client: AsyncClient,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published = await create_published(admin_client, document())
    url = f"{BASE}/{published['id']}"
    before = await client.get(url)
    assert before.json()["status"] == "published"
    # Another process retires it (no call into this one's service).
    await session.execute(
        update(CriteriaSet)
        .where(CriteriaSet.id == uuid.UUID(published["id"]))
        .values(status="retired", version=CriteriaSet.version + 1)
    )
    await session.commit()
    kept = await client.get(url)
    assert kept.json()["status"] == "published"  # within the kept head's lifetime
    monkeypatch.setattr(reading, "HEAD_TTL_SECONDS", 0.0)
    seen = await client.get(url)
    assert seen.json()["status"] == "retired"
    assert seen.headers["etag"] != before.headers["etag"]


async def test_a_draft_is_never_kept(
    client: AsyncClient, admin_client: AsyncClient, session: AsyncSession
) -> None:
    draft = await create(admin_client, document())
    url = f"{BASE}/{draft['id']}"
    assert (await admin_client.get(url)).status_code == 200
    assert uuid.UUID(draft["id"]) not in reading._heads
    assert (await client.get(url)).status_code == 404  # drafts stay private
