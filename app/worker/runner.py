"""The worker's loop: release the jobs of dead workers, claim one, run it, repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import timedelta

import httpx

from app.assessments.imports.parsing import Limits
from app.assessments.imports.service import jobs as import_jobs
from app.assessments.service import results as assessment_results
from app.config import Settings
from app.core import uploads
from app.db.engine import Database
from app.integration.service import delivery as webhooks
from app.storage import FileStorage, build_storage

logger = logging.getLogger("app.worker")
PRUNE_EVERY_SECONDS = 3600.0


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
        self._http: httpx.AsyncClient | None = None
        self._pruned_at = 0.0

    @property
    def http(self) -> httpx.AsyncClient:
        """The client webhooks are sent with (connections kept alive between deliveries)."""
        if self._http is None:
            self._http = webhooks.http_client()
        return self._http

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> bool:
        """One round: an import job if one waits, then webhooks (new events turned into
        deliveries, due deliveries sent), a batch of the evaluation results that reports read
        (those missing or stale after writes, imports, a change of the map or of a set), and
        the feed's retention once an hour; whether anything was done."""
        ran = await self.run_import_job()
        if self._stopping:
            return ran
        sent = False
        if await webhooks.has_work(self.database):
            sent = await webhooks.run_once(self.database, self.http, self.settings, self.id)
        if self._stopping:
            return ran or sent
        refreshed = await assessment_results.refresh(self.database)
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:
            self._pruned_at = time.monotonic()
            removed = await webhooks.prune_feed(self.database, self.settings)
            if removed:
                logger.info("feed retention removed %d event(s)", removed)
        return ran or sent or refreshed > 0

    async def run_import_job(self) -> bool:
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
        try:
            while await self.run_once():
                pass
        finally:
            await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

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
        await self.close()
        logger.info("worker %s stopped", self.id)
