"""The rule that sends a GET to the replica (app/db/replica.py), without a replica: who the caller
is, the sticky window after a write, an unreachable replica, and the settings. The replica itself
is exercised by tests/faults/test_replica.py (make faults)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.core.security import PrincipalKind, issue_access_token
from app.db.replica import ReadTarget, Replica, ReplicaState, build_replica, caller_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_caller_is_the_tokens_subject_or_the_token(settings: Settings) -> None:
    user = uuid.uuid4()
    first = issue_access_token(settings, subject=user, kind=PrincipalKind.USER).token
    second = issue_access_token(settings, subject=user, kind=PrincipalKind.USER).token
    assert caller_key(f"Bearer {first}") == caller_key(f"Bearer {second}") == f"sub:{user}"
    pat = caller_key("Bearer ntm_pat_abc")
    assert pat is not None
    assert pat.startswith("token:")
    assert pat != caller_key("Bearer ntm_pat_abd")
    assert caller_key(None) is None
    assert caller_key("Bearer ") is None
    assert caller_key("Bearer a.b.c") is not None  # not a JWT: the token itself


async def test_a_writer_reads_from_the_primary_during_and_after_its_write(tmp_path: Path) -> None:
    clock = Clock()
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/none.db")
    replica = Replica(engine, max_lag_seconds=2.0, check_every=1.0, clock=clock)
    assert replica.sticky_seconds == 3.0
    replica.write_started("sub:a")
    assert replica.is_sticky("sub:a")
    clock.now += 60  # a long write: sticky until it ends
    assert replica.is_sticky("sub:a")
    replica.write_ended("sub:a")
    assert (await replica.choose("sub:a")).target is ReadTarget.PRIMARY
    assert not replica.is_sticky("sub:b")
    assert not replica.is_sticky(None)
    clock.now += 2.9
    assert replica.is_sticky("sub:a")
    clock.now += 0.2
    assert not replica.is_sticky("sub:a")
    await engine.dispose()


async def test_a_replica_that_cannot_answer_is_down_and_reads_go_to_the_primary(
    tmp_path: Path,
) -> None:
    # SQLite has no pg_is_in_recovery(): the check fails like an unreachable server's would.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/none.db")
    replica = Replica(engine, max_lag_seconds=2.0)
    choice = await replica.choose(None)
    assert (choice.target, choice.reason) == (ReadTarget.PRIMARY, "replica down")
    assert replica.status.state is ReplicaState.DOWN
    await engine.dispose()


def test_replica_settings(settings: Settings) -> None:
    assert build_replica(settings) is None
    base = {"secret_key": "x" * 40}
    pg = "postgresql://u@db:5432/ntm"
    made = Settings(database_url=pg, database_replica_url="postgres://u@replica/ntm", **base)  # type: ignore[arg-type]
    assert made.database_replica_url == "postgresql+asyncpg://u@replica/ntm"
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(database_url=pg, database_replica_url="sqlite:///r.db", **base)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="PostgreSQL NTM_DATABASE_URL"):
        Settings(database_replica_url=pg, **base)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="CLAIM_STALE"):
        Settings(webhook_timeout_seconds=10, webhook_claim_stale_seconds=5, **base)  # type: ignore[arg-type]
