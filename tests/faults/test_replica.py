"""Reads from a streaming replica (``NTM_DATABASE_REPLICA_URL``), started here on loopback with
``pg_basebackup -R``: a GET is served by the replica (shown by pausing its replay: another
caller does not see a row the primary has), the writer reads its own write from the primary,
a replica lagging past ``NTM_REPLICA_MAX_LAG_SECONDS`` or down is left for the primary, and
it is used again once it is back (issue 16, part 5)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.db.replica import Replica, ReplicaState
from app.main import create_app
from tests.faults.conftest import bearer, fault_settings, prepare
from tests.faults.pgcluster import PgCluster

API = "/api/v1"
DATABASE = "ntm_faults_replica"
MAX_LAG = 4.0  # generous: the test must show the stale view before the lag passes it


@dataclass
class Setup:
    primary: PgCluster
    replica: PgCluster
    app: FastAPI
    writer: AsyncClient  # signed in: its reads follow its own writes
    anonymous: AsyncClient  # another caller (public reads)

    @property
    def router(self) -> Replica:
        replica = self.app.state.database.replica
        assert isinstance(replica, Replica)
        return replica

    async def on_replica(self, sql: str) -> object:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.replica.port, user="postgres", database=DATABASE
        )
        try:
            return await connection.fetchval(sql)
        finally:
            await connection.close()


async def _until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture(scope="module")
async def setup(
    primary: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    tmp = tmp_path_factory.mktemp("replica")
    settings = fault_settings(primary.url(DATABASE), tmp)
    engine, admin = await prepare(settings)
    await engine.dispose()
    replica = await asyncio.to_thread(primary.replica)
    try:
        await asyncio.to_thread(replica.start)
        settings = settings.model_copy(
            update={
                "database_replica_url": replica.url(DATABASE),
                "replica_max_lag_seconds": MAX_LAG,
            }
        )
        app = create_app(settings)
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            AsyncClient(
                transport=transport, base_url="http://t", headers=bearer(settings, admin)
            ) as writer,
            AsyncClient(transport=transport, base_url="http://t") as anonymous,
        ):
            yield Setup(primary, replica, app, writer, anonymous)
        await app.state.database.dispose()
    finally:
        await asyncio.to_thread(replica.destroy)


async def _province(client: AsyncClient, code: str) -> str:
    body = {"type": "tinh", "code": code, "name": f"Tỉnh {code}"}
    response = await client.post(f"{API}/units", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_reads_go_to_the_replica_but_a_callers_own_write_is_read_from_the_primary(
    setup: Setup,
) -> None:
    first = await _province(setup.writer, "R1")

    async def replayed() -> bool:
        count = await setup.on_replica(f"SELECT count(*) FROM units WHERE id = '{first}'")
        return count == 1

    await _until(replayed, 20, "the replica to replay the first write")
    await setup.on_replica("SELECT pg_wal_replay_pause()")
    try:

        async def paused() -> bool:
            return await setup.on_replica("SELECT pg_get_wal_replay_pause_state()") == "paused"

        await _until(paused, 10, "replay to pause")
        paused_at = time.monotonic()
        second = await _province(setup.writer, "R2")
        # The writer reads its own write at once: it is sticky to the primary.
        own = await setup.writer.get(f"{API}/units/{second}")
        assert own.status_code == 200, own.text
        # Another caller reads from the replica, which has not replayed it: proof of the route.
        other = await setup.anonymous.get(f"{API}/units/{second}")
        assert time.monotonic() - paused_at < MAX_LAG, "too slow to show the replica's view"
        assert other.status_code == 404, other.text
        assert (await setup.anonymous.get(f"{API}/units/{first}")).status_code == 200
        assert setup.router.status.state is ReplicaState.HEALTHY

        # Lag handling: once the replica is more than MAX_LAG behind, reads leave it.
        async def seen_by_others() -> bool:
            return (await setup.anonymous.get(f"{API}/units/{second}")).status_code == 200

        waited = await _until(seen_by_others, 10 * MAX_LAG, "reads to leave the lagging replica")
        assert setup.router.status.state is ReplicaState.LAGGING
        lag = setup.router.status.lag_seconds
        assert lag is not None
        assert lag > MAX_LAG
        assert waited < MAX_LAG + 3 * setup.router.check_every + 2
        print(  # noqa: T201 - the figure the README quotes (pytest -s)
            f"\nreplay paused: reads left the replica {time.monotonic() - paused_at:.2f} s "
            f"after the pause (max lag {MAX_LAG} s, measured lag {lag:.2f} s)"
        )
    finally:
        await setup.on_replica("SELECT pg_wal_replay_resume()")

    async def healthy() -> bool:
        await setup.anonymous.get(f"{API}/units/{first}")
        return setup.router.status.state is ReplicaState.HEALTHY

    await _until(healthy, 20, "the replica to catch up")
    assert (await setup.anonymous.get(f"{API}/units/{second}")).status_code == 200


async def test_a_replica_that_is_down_is_left_for_the_primary_until_it_is_back(
    setup: Setup,
) -> None:
    unit = await _province(setup.writer, "R3")
    await asyncio.to_thread(setup.replica.stop, "immediate")
    try:
        # Right after the crash the last check still says healthy: the request finds the
        # replica gone when it takes its connection, and reads from the primary instead.
        seconds = []
        for _ in range(5):
            started = time.monotonic()
            response = await setup.anonymous.get(f"{API}/units/{unit}")
            assert response.status_code == 200, response.text
            seconds.append(time.monotonic() - started)
            assert setup.router.status.state is ReplicaState.DOWN
        assert max(seconds) < 2.0, seconds
        print(  # noqa: T201 - the figure the README quotes (pytest -s)
            "\nreplica down: reads from the primary in "
            + ", ".join(f"{s * 1000:.0f}" for s in seconds)
            + " ms"
        )
        assert (await setup.anonymous.get("/readyz")).status_code == 200
    finally:
        await asyncio.to_thread(setup.replica.start)

    async def healthy() -> bool:
        await setup.anonymous.get(f"{API}/units/{unit}")
        return setup.router.status.state is ReplicaState.HEALTHY

    await _until(healthy, 30, "the replica to be used again")


async def test_a_replica_cut_off_from_its_primary_is_not_trusted_to_be_current(
    setup: Setup,
) -> None:
    """Without its primary the replica cannot know what it misses (a partition looks the same):
    its lag counts from its last replayed transaction, and past the bound reads leave it."""
    unit = await _province(setup.writer, "R4")
    await asyncio.to_thread(setup.primary.stop, "fast")
    try:

        async def lagging() -> bool:
            await setup.router.check()
            return setup.router.status.state is ReplicaState.LAGGING

        await _until(lagging, MAX_LAG + 10, "the replica to count as lagging")
        response = await setup.anonymous.get(f"{API}/units/{unit}")
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "database_unavailable"
    finally:
        await asyncio.to_thread(setup.primary.start)

    async def healthy() -> bool:
        await setup.anonymous.get(f"{API}/units/{unit}")
        return setup.router.status.state is ReplicaState.HEALTHY

    await _until(healthy, 30, "the replica to stream again")
    assert (await setup.anonymous.get(f"{API}/units/{unit}")).status_code == 200
