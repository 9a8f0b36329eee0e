"""The background worker: runs queued work (import jobs today) outside the request that asked for
it, so that it survives a restart of the server.

``ntm worker`` runs one as its own process; ``ntm serve`` also starts one inside the server when
``NTM_WORKER_IN_PROCESS`` is on (the default in development, so that ``make run`` stays one
command). Several workers may run against PostgreSQL (each claim takes a different job with
``FOR UPDATE SKIP LOCKED``); against SQLite, one is enough (claims are atomic there too, but
the database has one writer).
"""

from __future__ import annotations

from typing import Any


def wake_worker(app: Any) -> None:
    """Tell the in-process worker, if any, that work is waiting (saves it a polling interval)."""
    worker = getattr(app.state, "worker", None)
    if worker is not None:
        worker.wake()
