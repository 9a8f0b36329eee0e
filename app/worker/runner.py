"""The worker's loop: release the jobs of dead workers, claim one, run it, repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta

from app.assessments.imports.service import jobs as import_jobs
from app.config import Settings
from app.db.engine import Database
from app.storage import FileStorage, build_storage

logger = logging.getLogger("app.worker")


class Worker:
    def __init__(
        self, database: Database, settings: Settings, storage: FileStorage | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.storage = storage or build_storage(settings)
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.jobs_run = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> bool:
        """Release stale jobs, then run one job if there is one; whether one ran."""
        await import_jobs.release_stale(
            self.database,
            timedelta(seconds=self.settings.job_stale_seconds),
            self.settings.job_max_attempts,
        )
        job = await import_jobs.claim(self.database, self.id)
        if job is None:
            return False
        await import_jobs.run(self.database, self.storage, job, self.id)
        self.jobs_run += 1
        return True

    async def run_until_idle(self) -> None:
        while await self.run_once():
            pass

    async def run_forever(self) -> None:
        logger.info("worker %s started", self.id)
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down for a while: keep trying
                logger.warning("worker %s: polling failed", self.id, exc_info=True)
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.worker_poll_seconds)
                self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name=f"worker {self.id}")

    async def stop(self) -> None:
        """Cancel the running job (it goes back to the queue) and stop."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
