"""Reads from a PostgreSQL streaming replica (``NTM_DATABASE_REPLICA_URL``), never at the cost of
a caller's own writes.

The rule, applied by the session dependency (``app.db.session.get_session``) to each request:

1. Only ``GET`` and ``HEAD`` requests may read from the replica. No route writes through the
   session of such a request (it is never committed); writes that happen while one runs (a
   personal access token's last use) go to the primary through ``Database.session()``.
2. Not while the caller may still be ahead of the replica. A write request (any other method)
   marks its caller *sticky* from the moment it starts until ``sticky_seconds`` after it ends;
   a sticky caller reads from the primary. The window is ``NTM_REPLICA_MAX_LAG_SECONDS`` plus
   the interval between two lag checks: the replica is used only while its lag is below the
   former, measured at most the latter ago, so once the window has passed the replica has
   replayed the caller's commit. The caller is the token's subject (a user or a client, so a
   refreshed access token stays the same caller) or, for a personal access token, the token.
3. Not while the replica is unreachable or lagging. Its lag is checked at most once per
   ``CHECK_EVERY_SECONDS`` by one request (the others use the last result): zero when it has
   replayed all the WAL it received, otherwise the age of the last transaction it replayed.
   Unreachable (or slower than ``CHECK_TIMEOUT_SECONDS`` to answer), lagging more than
   ``NTM_REPLICA_MAX_LAG_SECONDS``, or failing during a request: reads go to the primary until
   a later check finds it healthy again.

The sticky marks live in the process. Behind a load balancer with several API processes, a
caller's requests must reach the same process for rule 2 to hold across them (hash on the
``Authorization`` header); see the README's topology section.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum

import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.availability import is_database_unavailable

logger = logging.getLogger("app.db.replica")

CHECK_EVERY_SECONDS = 1.0
CHECK_TIMEOUT_SECONDS = 1.0
# Sticky marks kept at most; past it, expired marks are dropped (live ones never are).
MAX_MARKS = 100_000

# Zero while the replica streams from the primary and has replayed all the WAL it received (an
# idle primary sends nothing, and the replica is then current however old its last transaction);
# otherwise how old the last replayed commit is (infinite before the first one). A replica cut
# off from its primary stops counting as current, so a partition shows as growing lag (once the
# receiver notices it: `wal_receiver_timeout`).
LAG_SQL = text(
    "SELECT pg_is_in_recovery(), CASE"
    " WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')"
    " AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8,"
    " 'Infinity'::float8)"
    " END::float8"
)


class ReplicaState(StrEnum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    LAGGING = "lagging"
    DOWN = "down"


class ReadTarget(StrEnum):
    REPLICA = "replica"
    PRIMARY = "primary"


@dataclass(frozen=True)
class ReplicaStatus:
    state: ReplicaState
    lag_seconds: float | None
    checked_at: float  # monotonic


@dataclass(frozen=True)
class Choice:
    """Where a read goes, and why (for logs and tests)."""

    target: ReadTarget
    reason: str


def caller_key(authorization: str | None) -> str | None:
    """Who the caller is, for the sticky marks only: the ``sub`` of an access token, read
    without checking its signature (a forged one only chooses where its own, refused, request
    reads), or a digest of any other token. None for an anonymous caller."""
    if not authorization:
        return None
    _, _, token = authorization.partition(" ")
    token = token.strip()
    if not token:
        return None
    if token.count(".") == 2:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            claims = {}
        subject = claims.get("sub")
        if isinstance(subject, str) and subject:
            return f"sub:{subject}"
    return "token:" + hashlib.sha256(token.encode()).hexdigest()


def build_replica(settings: Settings) -> Replica | None:
    """The replica of the settings, if one is configured: its own pool, the same size as the
    primary's, and a short connection timeout (an unreachable replica must not hold up the
    request that finds it so; that request reads from the primary)."""
    if not settings.database_replica_url:
        return None
    # engine.py builds every engine the same way; imported here so that it never needs us.
    from app.db.engine import build_engine

    replica_settings = settings.model_copy(
        update={
            "database_url": settings.database_replica_url,
            "db_connect_timeout": min(settings.db_connect_timeout, CHECK_TIMEOUT_SECONDS),
        }
    )
    return Replica(build_engine(replica_settings), max_lag_seconds=settings.replica_max_lag_seconds)


class Replica:
    """The replica's engine, its health, and the callers that must read from the primary."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_lag_seconds: float,
        check_every: float = CHECK_EVERY_SECONDS,
        check_timeout: float = CHECK_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.max_lag_seconds = max_lag_seconds
        self.check_every = check_every
        self.check_timeout = check_timeout
        self.sticky_seconds = max_lag_seconds + check_every
        self._clock = clock
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._status = ReplicaStatus(ReplicaState.UNKNOWN, None, float("-inf"))
        self._checking: asyncio.Lock | None = None
        self._sticky_until: dict[str, float] = {}
        self._writing: dict[str, int] = {}

    @property
    def status(self) -> ReplicaStatus:
        return self._status

    # -- the caller's own writes ---------------------------------------------------------------

    def write_started(self, key: str | None) -> None:
        if key is not None:
            self._writing[key] = self._writing.get(key, 0) + 1

    def write_ended(self, key: str | None) -> None:
        if key is None:
            return
        left = self._writing.get(key, 1) - 1
        if left > 0:
            self._writing[key] = left
        else:
            self._writing.pop(key, None)
        now = self._clock()
        if len(self._sticky_until) >= MAX_MARKS:
            self._sticky_until = {k: t for k, t in self._sticky_until.items() if t > now}
        self._sticky_until[key] = now + self.sticky_seconds

    def is_sticky(self, key: str | None) -> bool:
        if key is None:
            return False
        if key in self._writing:
            return True
        until = self._sticky_until.get(key)
        return until is not None and until > self._clock()

    # -- the replica's health ------------------------------------------------------------------

    async def check(self) -> ReplicaStatus:
        """Measure the lag now."""
        try:
            async with asyncio.timeout(self.check_timeout):
                async with self.engine.connect() as connection:
                    row = (await connection.execute(LAG_SQL)).one()
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            if self._status.state is not ReplicaState.DOWN:
                logger.warning("replica unreachable, reading from the primary: %s", exc)
            self._status = ReplicaStatus(ReplicaState.DOWN, None, self._clock())
            return self._status
        lag = float(row[1])
        state = ReplicaState.HEALTHY if lag <= self.max_lag_seconds else ReplicaState.LAGGING
        if state is not self._status.state:
            logger.warning("replica %s (lag %.3f s)", state, lag)
        self._status = ReplicaStatus(state, lag, self._clock())
        return self._status

    async def current_status(self) -> ReplicaStatus:
        """The last measurement, renewed when older than ``check_every``; while one request
        measures, the others go on with the previous result instead of waiting."""
        if self._clock() - self._status.checked_at < self.check_every:
            return self._status
        if self._checking is None:
            self._checking = asyncio.Lock()
        if self._checking.locked():
            return self._status
        async with self._checking:
            return await self.check()

    def mark_down(self) -> None:
        """A request failed on the replica: the next reads go to the primary until a check
        finds it back."""
        self._status = ReplicaStatus(ReplicaState.DOWN, None, self._clock())

    async def choose(self, key: str | None) -> Choice:
        if self.is_sticky(key):
            return Choice(ReadTarget.PRIMARY, "own recent write")
        status = await self.current_status()
        if status.state is ReplicaState.HEALTHY:
            return Choice(ReadTarget.REPLICA, "healthy")
        return Choice(ReadTarget.PRIMARY, f"replica {status.state}")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession | None]:
        """A session on the replica with its connection already taken (so that a replica gone
        since the last check is found here, not by the route), or None when there is none to
        be had: the caller then reads from the primary."""
        async with self._sessionmaker() as session:
            try:
                async with asyncio.timeout(self.check_timeout):
                    await session.connection()
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                logger.warning("replica unreachable, reading from the primary: %s", exc)
                self.mark_down()
                yield None
                return
            try:
                yield session
            except Exception as exc:
                if is_database_unavailable(exc):
                    self.mark_down()
                raise
            # Nothing is ever written here: closing the session ends the read transaction.

    async def dispose(self) -> None:
        await self.engine.dispose()
