"""Whether an exception means "the database cannot be reached now" (503 and a retry for a
request; the primary instead of the replica for a read), decided in one place for the error
handlers (app.core.errors) and the replica's routing (app.db.replica)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# 08 connection exception, 57P01-57P05 operator intervention (admin or crash shutdown, "the
# database system is starting up", idle timeouts), 53300 too many connections
# (postgresql.org/docs/current/errcodes-appendix.html). asyncpg raises some of these as plain
# PostgresError subclasses, which SQLAlchemy wraps as a generic DBAPIError.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53300", "53400")


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeoutError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    if state is not None and state.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
        return True
    return isinstance(exc, OSError)
