"""The worker's loop: release the jobs of dead workers, claim one, run it, repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta

from app.assessments.imports.parsing import Limits
from app.assessments.imports.service import jobs as import_jobs
from app.config import Settings
from app.core import uploads
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
        self._stopping = False
        self._in_job = False

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> bool:
        """Release stale jobs, then run one job if there is one; whether one ran."""
        if self._stopping or not await import_jobs.any_active(self.database):
            return False
        await import_jobs.release_stale(
            self.database,
            timedelta(seconds=self.settings.job_stale_seconds),
            self.settings.job_max_attempts,
        )
        if self._stopping:
            return False
        job = await import_jobs.claim(self.database, self.id)
        if job is None:
            return False
        if self._stopping:
            await import_jobs.give_back(self.database, job, self.id)
            return False
        self._in_job = True
        try:
            await import_jobs.run(
                self.database,
                self.storage,
                job,
                self.id,
                max_seconds=self.settings.job_max_seconds,
                limits=Limits.of(self.settings),
            )
        finally:
            self._in_job = False
        self.jobs_run += 1
        return True

    async def run_until_idle(self) -> None:
        while await self.run_once():
            pass

    async def run_forever(self) -> None:
        logger.info("worker %s started", self.id)
        swept = await asyncio.to_thread(uploads.sweep, self.settings.var_dir)
        if swept:
            logger.warning("removed %d upload(s) left half-received by a stopped process", swept)
        while not self._stopping:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down for a while: keep trying
                logger.warning("worker %s: polling failed", self.id, exc_info=True)
                busy = False
            if not busy and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.worker_poll_seconds)
                self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name=f"worker {self.id}")

    async def stop(self) -> None:
        """Stop between two polls; a job in hand is cancelled and goes back to the queue."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        if self._in_job:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        logger.info("worker %s stopped", self.id)
