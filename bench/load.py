"""Load test: ``python -m bench.load [--duration 60] [--clients 200]`` (``make load``).

On a throwaway PostgreSQL database (``ntm_load_run``, created, migrated, seeded with the national
map, dropped at the end), ``ntm serve --workers 2`` in production mode and ``ntm worker`` beside
it (production runs no worker inside the server) on 127.0.0.1, as subprocesses with a bounded
lifetime (``timeout``), stopped by pid. Then ``--clients`` asyncio clients share one
``httpx.AsyncClient`` (a connection each) for ``--duration`` seconds, each choosing its next
operation by weight:

- reads: a unit by id, a province's communes, a search, the criteria set, an assessment, its
  evaluation, a province's report summary;
- value writes: ``PUT /assessments/{id}/values`` of a few indicators with ``If-Match`` (and an
  ``Idempotency-Key``, which PUT does not need: it is idempotent by itself) on a pool of
  assessments shared by every client, so writers collide (412 with the current ETag; retried);
- imports: a small CSV of the client's own communes through ``POST /indicator-values/import``
  with an ``Idempotency-Key`` (a quarter as jobs, ``async=true``, polled until done; some sent
  again with the same key, which must replay the first answer);
- dossiers: each client opens dossiers and moves them along their procedure (documents, submit,
  appraise with the council's vote and an override, sometimes return, recognise with a
  decision); some transitions are sent twice at once with the same ``If-Match`` (one must win),
  some again with the same ``Idempotency-Key`` (replayed, not applied twice);
- feed polling: ``GET /events?after=`` following ``next_after``: positions must increase.

Each client keeps a ledger of what was acknowledged (``bench/ledger.py``). Afterwards the feed is
read to its head, the servers are stopped, and the ledger is checked against the database by
direct SQL: every acknowledged write there exactly once with the last acknowledged value, every
acknowledged import's rows, every dossier in the state of its last acknowledged transition with
exactly those transitions in its history, one audit record per acknowledged change and none for
a replay, every acknowledged change once in the feed; and no answer was a 5xx. 409, 412, 428
and 429 are legitimate answers under contention: they are counted, not failures. The exit status
is non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.core.clock import today
from app.db import migrate
from app.db.engine import Database, build_engine
from app.models.assessments import Assessment
from app.models.units import UnitVersion
from app.seed import run_all
from bench.assessments import CRITERIA, PER_CRITERION, admin_headers, bench_set, recreate_postgres
from bench.ledger import (
    CheckResult,
    DossierWrite,
    ImportWrite,
    Ledger,
    ValueWrite,
    check_database,
    check_feed,
    parse_etag,
)

DATABASE = "ntm_load_run"
POSTGRES_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}"
PORT = 18400
YEAR = 2025
KIND = "self_assessment"
API = "/api/v1"
TITLE = "ntm_commune"
# A document's content must be one the service recognises (magic bytes): a minimal PDF.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DRAFT_DOCUMENTS = ("submission", "results_report", "opinions_report", "satisfaction_survey")
OPEN_STATES = frozenset({"draft", "provincial_appraisal", "provincial_decision"})
SERVER_GRACE_SECONDS = 900  # the servers' lifetime beyond the run (setup, drain, checks)


class Kind(StrEnum):
    READ = "read"
    VALUE = "value write"
    IMPORT = "import"
    DOSSIER = "dossier"
    FEED = "feed poll"


WEIGHTS = {Kind.READ: 45, Kind.VALUE: 22, Kind.IMPORT: 8, Kind.DOSSIER: 15, Kind.FEED: 10}
READS = {
    "unit": 20,
    "units of a province": 12,
    "search": 12,
    "criteria set": 8,
    "assessment": 15,
    "evaluation": 25,
    "report summary": 2,
}
LEGITIMATE = {409, 412, 428, 429}


def indicator_codes() -> tuple[list[str], list[str]]:
    """(number indicators, boolean indicators) of ``bench_set()``: ``n.k``, the last of each
    criterion boolean."""
    numbers, flags = [], []
    for number in range(1, CRITERIA + 1):
        for k in range(1, PER_CRITERION + 1):
            (flags if k == PER_CRITERION else numbers).append(f"{number}.{k}")
    return numbers, flags


NUMBER_CODES, BOOL_CODES = indicator_codes()
ALL_CODES = NUMBER_CODES + BOOL_CODES


def random_value(rng: random.Random, code: str) -> float | bool:
    if code in BOOL_CODES:
        return rng.random() < 0.5
    return round(rng.uniform(0, 100), 1)


def csv_of(rows: dict[tuple[str, str], float | bool]) -> bytes:
    lines = ["unit_id,year,indicator_code,value"]
    for (unit_id, code), value in rows.items():
        text = ("true" if value else "false") if isinstance(value, bool) else f"{value}"
        lines.append(f"{unit_id},{YEAR},{code},{text}")
    return ("\n".join(lines) + "\n").encode()


# --- what the run saw ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    kind: Kind
    operation: str
    status: int  # 0: no answer (connection failed or timed out)
    seconds: float
    ended: float  # time.perf_counter() when the answer came


@dataclass
class DatabaseWatch:
    """The load database's connections, sampled every two seconds (pg_stat_activity): how many,
    how many wait for a lock and on what, and the longest transaction seen."""

    samples: int = 0
    most_connections: int = 0
    most_waiting: int = 0
    waits: Counter[str] = field(default_factory=Counter)
    longest: float = 0.0
    longest_query: str = ""


ACTIVITY = text(
    "SELECT state, wait_event_type, wait_event, "
    "EXTRACT(EPOCH FROM clock_timestamp() - xact_start) AS age, query "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def watch_database(engine: AsyncEngine, watch: DatabaseWatch) -> None:
    async with engine.connect() as connection:
        while True:
            rows = (await connection.execute(ACTIVITY)).all()
            await connection.rollback()
            watch.samples += 1
            watch.most_connections = max(watch.most_connections, len(rows))
            waiting = [r for r in rows if r.wait_event_type == "Lock"]
            watch.most_waiting = max(watch.most_waiting, len(waiting))
            watch.waits.update(f"{r.wait_event}" for r in waiting)
            for row in rows:
                if row.age is not None and float(row.age) > watch.longest:
                    watch.longest = float(row.age)
                    watch.longest_query = f"{row.state}: {' '.join(str(row.query).split())[:100]}"
            await asyncio.sleep(2)


@dataclass
class Stats:
    samples: list[Sample] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    feed_problems: list[str] = field(default_factory=list)
    protocol_problems: list[str] = field(default_factory=list)
    double_sends: int = 0
    replays: int = 0
    replays_in_flight: int = 0  # 409 idempotency_key_in_flight before the replay
    jobs: int = 0
    started: float = 0.0  # time.perf_counter() when the clients started
    database: DatabaseWatch = field(default_factory=lambda: DatabaseWatch())
    server_cpu: float = 0.0  # the server processes' CPU over their life (set-up included)
    server_wall: float = 0.0


@dataclass
class World:
    """What the clients share: the set, the pools, and the newest ETag seen of each
    assessment of the value pool."""

    set_id: str
    value_assessments: list[str]
    import_units: list[list[str]]
    dossier_pool: list[tuple[str, str]]
    unit_ids: list[str]
    provinces: list[str]
    search_terms: list[str]
    feed_start: int
    etags: dict[str, str] = field(default_factory=dict)
    dossiers_open: list[dict[str, Any]] = field(default_factory=list)


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- one client -----------------------------------------------------------------------------------


class Client:
    def __init__(
        self,
        number: int,
        http: httpx.AsyncClient,
        world: World,
        stats: Stats,
        seed: int,
        *,
        concurrent: bool = True,
        jobs: bool = True,
    ) -> None:
        # ``concurrent=False`` sends nothing in parallel (a test's single database connection);
        # ``jobs=False`` never asks for an import job (no worker runs in the tests).
        self.concurrent = concurrent
        self.jobs = jobs
        self.number = number
        self.http = http
        self.world = world
        self.stats = stats
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.feed_after = world.feed_start
        self.dossier: dict[str, Any] | None = None
        self.import_seq = 0

    async def request(
        self, kind: Kind, operation: str, method: str, url: str, **kwargs: Any
    ) -> tuple[httpx.Response | None, str]:
        request_id = f"load-{self.number}-{uuid.uuid4().hex}"
        headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            elapsed = time.perf_counter() - started
            self.stats.samples.append(Sample(kind, operation, 0, elapsed, started + elapsed))
            self.stats.transport_errors.append(f"{method} {url}: {type(exc).__name__} {exc}")
            return None, request_id
        elapsed = time.perf_counter() - started
        self.stats.samples.append(
            Sample(kind, operation, response.status_code, elapsed, started + elapsed)
        )
        if response.status_code >= 500:
            self.stats.server_errors.append(
                f"{method} {url} -> {response.status_code} (request {request_id}): "
                f"{response.text[:300]}"
            )
        return response, request_id

    async def replay(
        self, send: Callable[[], Awaitable[tuple[httpx.Response | None, str]]]
    ) -> httpx.Response | None:
        """The same request again with the same ``Idempotency-Key``: the first answer, replayed.
        The key may still be in flight for a moment after the first answer arrived (the service
        stores the answer once the request has ended): 409 ``idempotency_key_in_flight`` is
        retried, as the API asks, for up to a minute."""
        give_up = time.monotonic() + 60
        while True:
            again, replay_id = await send()
            if again is None:
                return None
            self.ledger.replays.append(replay_id)
            in_flight = again.status_code == 409 and (
                again.json().get("code") == "idempotency_key_in_flight"
            )
            if not in_flight or time.monotonic() > give_up:
                self.stats.replays += 1
                return again
            self.stats.replays_in_flight += 1
            await asyncio.sleep(0.5)

    async def run(self, deadline: float) -> None:
        kinds = list(WEIGHTS)
        weights = [WEIGHTS[k] for k in kinds]
        while time.monotonic() < deadline:
            kind = self.rng.choices(kinds, weights)[0]
            if kind is Kind.READ:
                await self.read()
            elif kind is Kind.VALUE:
                await self.write_values()
            elif kind is Kind.IMPORT:
                await self.import_values()
            elif kind is Kind.DOSSIER:
                await self.dossier_step()
            else:
                await self.poll_feed()

    # reads ------------------------------------------------------------------------------------

    async def read(self) -> None:
        w, rng = self.world, self.rng
        what = rng.choices(list(READS), list(READS.values()))[0]
        if what == "unit":
            url, params = f"{API}/units/{rng.choice(w.unit_ids)}", {}
        elif what == "units of a province":
            url, params = f"{API}/units", {"parent_id": rng.choice(w.provinces), "limit": "50"}
        elif what == "search":
            url, params = f"{API}/units", {"q": rng.choice(w.search_terms), "limit": "20"}
        elif what == "criteria set":
            url, params = f"{API}/criteria-sets/{w.set_id}", {}
        elif what == "assessment":
            url, params = f"{API}/assessments/{rng.choice(w.value_assessments)}", {}
        elif what == "evaluation":
            url, params = f"{API}/assessments/{rng.choice(w.value_assessments)}/evaluation", {}
        else:
            url = f"{API}/reports/summary"
            params = {
                "unit_id": rng.choice(w.provinces),
                "year": str(YEAR),
                "criteria_set_id": w.set_id,
            }
        await self.request(Kind.READ, what, "GET", url, params=params)

    # value writes -----------------------------------------------------------------------------

    async def write_values(self) -> None:
        w, rng = self.world, self.rng
        assessment_id = rng.choice(w.value_assessments)
        etag = w.etags.get(assessment_id)
        if etag is None:
            response, _ = await self.request(
                Kind.VALUE, "read for ETag", "GET", f"{API}/assessments/{assessment_id}"
            )
            if response is None or response.status_code != 200:
                return
            etag = response.headers["etag"]
        for _attempt in range(3):
            codes = rng.sample(ALL_CODES, rng.randint(1, 3))
            values = {code: random_value(rng, code) for code in codes}
            parsed = parse_etag(etag)
            assert parsed is not None, etag
            body = {"values": [{"indicator_code": c, "value": v} for c, v in values.items()]}
            response, request_id = await self.request(
                Kind.VALUE,
                "PUT values",
                "PUT",
                f"{API}/assessments/{assessment_id}/values",
                json=body,
                headers={"If-Match": etag, "Idempotency-Key": str(uuid.uuid4())},
            )
            write = ValueWrite(assessment_id, parsed[1], values, request_id)
            if response is None:
                self.ledger.values_in_doubt.append(write)
                return
            if response.status_code == 200:
                new = parse_etag(response.headers.get("etag"))
                if new is None or new[1] != response.json()["revision"]:
                    self.stats.protocol_problems.append(
                        f"PUT values {assessment_id}: ETag {response.headers.get('etag')} and "
                        f"body revision {response.json().get('revision')} disagree"
                    )
                    return
                self.ledger.values.append(
                    ValueWrite(assessment_id, parsed[1], values, request_id, new[1])
                )
                w.etags[assessment_id] = response.headers["etag"]
                return
            if response.status_code != 412:
                return
            current = response.json().get("current_etag")
            if not current:
                self.stats.protocol_problems.append(f"412 without current_etag: {response.text}")
                return
            etag = w.etags[assessment_id] = current

    # imports ----------------------------------------------------------------------------------

    async def import_values(self) -> None:
        rng = self.rng
        units = self.world.import_units[self.number]
        rows: dict[tuple[str, str], float | bool] = {}
        for unit_id in rng.sample(units, rng.randint(1, len(units))):
            for code in rng.sample(ALL_CODES, rng.randint(3, 10)):
                rows[(unit_id, code)] = random_value(rng, code)
        as_job = self.jobs and rng.random() < 0.25
        params = {"criteria_set_id": self.world.set_id, "async": "true" if as_job else "false"}
        content = csv_of(rows)
        key = str(uuid.uuid4())
        self.import_seq += 1
        seq = self.import_seq

        async def send(operation: str) -> tuple[httpx.Response | None, str]:
            return await self.request(
                Kind.IMPORT,
                operation,
                "POST",
                f"{API}/indicator-values/import",
                params=params,
                content=content,
                headers={"Content-Type": "text/csv", "Idempotency-Key": key},
            )

        response, request_id = await send("import job" if as_job else "import")
        doubt = ImportWrite(self.number, seq, rows, request_id)
        if response is None:
            self.ledger.imports_in_doubt.append(doubt)
            return
        if response.status_code == 202:
            self.stats.jobs += 1
            summary = await self.wait_for_job(response.headers["location"])
            if summary is None:
                self.ledger.imports_in_doubt.append(doubt)
                return
        elif response.status_code in (200, 201):
            summary = response.json()
        else:
            return
        self.ledger.imports.append(
            ImportWrite(
                self.number, seq, rows, request_id, summary["import_id"], bool(summary["written"])
            )
        )
        if response.status_code != 202 and rng.random() < 0.1:
            again = await self.replay(lambda: send("import replayed"))
            if again is None:
                return
            if again.status_code != response.status_code or (
                again.json().get("import_id") != summary["import_id"]
            ):
                self.stats.protocol_problems.append(
                    f"import replay with key {key}: {again.status_code} "
                    f"{again.text[:200]}, first {response.status_code} {summary['import_id']}"
                )

    async def wait_for_job(self, location: str) -> dict[str, Any] | None:
        """The job's summary once it succeeded; None if it did not finish within two minutes
        (in doubt). A failed job wrote nothing: a problem of the service, noted."""
        give_up = time.monotonic() + 120
        while time.monotonic() < give_up:
            await asyncio.sleep(0.5)
            response, _ = await self.request(Kind.IMPORT, "job status", "GET", location)
            if response is None or response.status_code != 200:
                continue
            job = response.json()
            if job["status"] == "succeeded":
                return dict(job["summary"])
            if job["status"] in ("failed", "cancelled"):
                self.stats.protocol_problems.append(
                    f"import job {location} {job['status']}: {job.get('error')}"
                )
                return None
        return None

    # dossiers ---------------------------------------------------------------------------------

    def _acknowledge(
        self, response: httpx.Response, request_id: str, kind: str, action: str | None = None
    ) -> int:
        assert self.dossier is not None
        parsed = parse_etag(response.headers.get("etag"))
        assert parsed is not None, response.headers
        revision = parsed[1]
        body = response.json()
        status = body.get("status", self.dossier["status"])
        self.ledger.dossiers.append(
            DossierWrite(self.dossier["id"], revision, status, request_id, kind, action)
        )
        if revision > self.dossier["revision"]:
            self.dossier.update(revision=revision, etag=response.headers["etag"], status=status)
        return revision

    async def _resync(self) -> None:
        assert self.dossier is not None
        response, _ = await self.request(
            Kind.DOSSIER, "read", "GET", f"{API}/dossiers/{self.dossier['id']}"
        )
        if response is not None and response.status_code == 200:
            body = response.json()
            self.dossier.update(
                status=body["status"], revision=body["revision"], etag=response.headers["etag"]
            )

    async def dossier_step(self) -> None:
        """One step of a dossier: open one (with its draft documents), or take an open one
        (the oldest first, so that dossiers reach the end of their procedure) and move it by
        one transition, adding the documents the step needs first. Open dossiers are shared by
        the clients, one client at a time."""
        w = self.world
        if w.dossiers_open and (len(w.dossiers_open) >= 10 or self.rng.random() < 0.7):
            self.dossier = w.dossiers_open.pop(0)
            await self.advance()
        elif w.dossier_pool:
            await self.open_dossier(*w.dossier_pool.pop())
            if self.dossier is not None:
                await self.add_documents("draft", DRAFT_DOCUMENTS)
        else:
            await self.read()
            return
        if self.dossier is not None and self.dossier["status"] in OPEN_STATES:
            w.dossiers_open.append(self.dossier)
        self.dossier = None

    async def add_documents(self, step: str, wanted: tuple[str, ...]) -> None:
        assert self.dossier is not None
        missing = [d for d in wanted if (step, d) not in self.dossier["documents"]]
        if self.concurrent:
            # Added at once: the dossier's row lock orders them, each gets its own revision.
            await asyncio.gather(*(self.add_document(d) for d in missing))
        else:
            for document_type in missing:
                await self.add_document(document_type)

    async def advance(self) -> None:
        assert self.dossier is not None
        status = self.dossier["status"]
        if status == "draft":
            await self.add_documents("draft", DRAFT_DOCUMENTS)
            await self.transition({"action": "submit"})
        elif status == "provincial_appraisal":
            await self.add_documents("provincial_appraisal", ("meeting_minutes",))
            if self.rng.random() < 0.15:
                await self.transition({"action": "return", "reasons": "Bổ sung biên bản (load)"})
            else:
                await self.transition(
                    {
                        "action": "appraise",
                        "votes": {"in_favour": 15, "against": 1, "abstain": 0},
                        "override_reasons": "Hội đồng xét đạt (load test override)",
                    }
                )
        elif status == "provincial_decision":
            await self.transition(
                {
                    "action": "recognise",
                    "decision": {
                        "number": f"LOAD-{uuid.uuid4().hex[:8]}/QĐ-UBND",
                        "date": today().isoformat(),
                        "signer": "Load test",
                    },
                }
            )

    async def open_dossier(self, unit_id: str, assessment_id: str) -> None:
        dossier_id = str(uuid.uuid4())
        body = {
            "id": dossier_id,
            "unit_id": unit_id,
            "title": TITLE,
            "year": YEAR,
            "criteria_set_id": self.world.set_id,
            "assessment_ids": [assessment_id],
        }
        response, request_id = await self.request(
            Kind.DOSSIER,
            "create",
            "POST",
            f"{API}/dossiers",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        self.dossier = {
            "id": dossier_id,
            "status": "draft",
            "revision": 0,
            "etag": None,
            "documents": set(),
        }
        if response is None:
            self.ledger.dossiers_in_doubt.add(dossier_id)
            self.dossier = None
        elif response.status_code == 201:
            self._acknowledge(response, request_id, "create")
        else:
            self.dossier = None

    async def add_document(self, document_type: str) -> None:
        assert self.dossier is not None
        step = self.dossier["status"]
        response, request_id = await self.request(
            Kind.DOSSIER,
            "document",
            "POST",
            f"{API}/dossiers/{self.dossier['id']}/documents",
            files={"file": (f"{document_type}.pdf", PDF, "application/pdf")},
            data={"document_type": document_type},
        )
        if response is None:
            self.ledger.dossiers_in_doubt.add(self.dossier["id"])
        elif response.status_code == 201:
            self._acknowledge(response, request_id, "document")
            self.dossier["documents"].add((step, document_type))

    async def transition(self, body: dict[str, Any]) -> None:
        assert self.dossier is not None
        url = f"{API}/dossiers/{self.dossier['id']}/transitions"
        etag = self.dossier["etag"]
        action = body["action"]

        async def send(key: str, operation: str) -> tuple[httpx.Response | None, str]:
            return await self.request(
                Kind.DOSSIER,
                operation,
                "POST",
                url,
                json=body,
                headers={"If-Match": etag, "Idempotency-Key": key},
            )

        keys = [str(uuid.uuid4())]
        double = self.concurrent and self.rng.random() < 0.2
        if double:
            # A double click: the same transition twice at once, the same If-Match.
            keys.append(str(uuid.uuid4()))
            self.stats.double_sends += 1
        answers = await asyncio.gather(*(send(k, action) for k in keys))
        won = [
            (r, rid, k)
            for (r, rid), k in zip(answers, keys, strict=True)
            if r is not None and 200 <= r.status_code < 300
        ]
        if any(r is None for r, _ in answers):
            self.ledger.dossiers_in_doubt.add(self.dossier["id"])
        if double and len(won) != 1 and all(r is not None for r, _ in answers):
            self.stats.protocol_problems.append(
                f"dossier {self.dossier['id']} {action} sent twice with If-Match {etag}: "
                f"{[r.status_code for r, _ in answers if r is not None]} (exactly one must win)"
            )
        for response, request_id, _key in won:
            self._acknowledge(response, request_id, "transition", action)
        if not won:
            await self._resync()
            return
        if self.rng.random() < 0.1:
            first, _rid, key = won[0]
            again = await self.replay(lambda: send(key, f"{action} replayed"))
            if again is None:
                return
            if again.status_code != first.status_code or (
                again.json().get("revision") != first.json().get("revision")
            ):
                self.stats.protocol_problems.append(
                    f"dossier transition replay with key {key}: {again.status_code} "
                    f"{again.text[:200]}"
                )

    # the change feed --------------------------------------------------------------------------

    async def poll_feed(self) -> None:
        response, _ = await self.request(
            Kind.FEED,
            "events",
            "GET",
            f"{API}/events",
            params={"after": str(self.feed_after), "limit": "100"},
        )
        if response is None or response.status_code != 200:
            return
        page = response.json()
        previous = self.feed_after
        for event in page["items"]:
            if event["position"] <= previous:
                self.stats.feed_problems.append(
                    f"client {self.number}: position {event['position']} after {previous}"
                )
            previous = event["position"]
        if page["next_after"] < previous:
            self.stats.feed_problems.append(
                f"client {self.number}: next_after {page['next_after']} before {previous}"
            )
        self.feed_after = max(self.feed_after, page["next_after"])


# --- the servers --------------------------------------------------------------------------------


@dataclass
class Servers:
    processes: list[subprocess.Popen[bytes]]
    log: Path

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def errors(self, limit: int = 60) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        # JSON lines (app.core.logging): errors and warnings, e.g. "database unavailable".
        wanted = ('"level":"error"', '"level":"critical"', '"level":"warning"', "Traceback")
        return [line[:2000] for line in lines if any(w in line for w in wanted)][-limit:]


def start_servers(args: argparse.Namespace, work: Path, secret: str) -> Servers:
    ntm = str(Path(sys.executable).with_name("ntm"))
    lifetime = str(int(args.duration + SERVER_GRACE_SECONDS))
    env = {
        **os.environ,
        "NTM_DATABASE_URL": POSTGRES_URL,
        "NTM_ENV": "production",
        "NTM_SECRET_KEY": secret,
        "NTM_VAR_DIR": str(work / "var"),
        "NTM_DATA_DIR": str(work / "files"),
        "NTM_LOG_LEVEL": "WARNING",
        "NTM_BOOTSTRAP_ADMIN": "false",
    }
    log = work / "servers.log"
    handle = log.open("ab")
    # `timeout` bounds each process's life even if this script is killed before it stops them.
    serve = [
        "timeout",
        lifetime,
        ntm,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--workers",
        str(args.workers),
    ]
    worker = ["timeout", lifetime, ntm, "worker"]
    processes = [
        subprocess.Popen(command, env=env, stdout=handle, stderr=handle)
        for command in (serve, worker)
    ]
    return Servers(processes, log)


async def wait_ready(base: str, servers: Servers, seconds: float = 120) -> None:
    give_up = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        while time.monotonic() < give_up:
            if any(p.poll() is not None for p in servers.processes):
                raise RuntimeError("a server process ended:\n" + "\n".join(servers.errors()))
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("the server did not become ready")


# --- set-up -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commune:
    unit_id: str
    province_id: str
    name: str


async def rural_communes(database: Database) -> list[Commune]:
    """Rural communes (xã) that existed in ``YEAR`` and still stand unchanged today, so that
    assessments of ``YEAR`` and dossiers opened today both find them."""
    v = UnitVersion.__table__
    day = today()
    async with database.session() as session:
        rows = await session.execute(
            select(v.c.unit_id, v.c.parent_id, v.c.name)
            .where(
                v.c.level == "commune",
                v.c.type == "xa",
                v.c.valid_from <= date(YEAR, 12, 31),
                v.c.valid_to > day,
            )
            .order_by(v.c.unit_id)
        )
        return [Commune(str(r.unit_id), str(r.parent_id), r.name) for r in rows]


async def assessment_ids(database: Database, set_id: str, units: list[str]) -> dict[str, str]:
    a = Assessment.__table__
    async with database.session() as session:
        rows = await session.execute(
            select(a.c.unit_id, a.c.id).where(
                a.c.criteria_set_id == uuid.UUID(set_id),
                a.c.unit_id.in_([uuid.UUID(u) for u in units]),
            )
        )
        return {str(r.unit_id): str(r.id) for r in rows}


async def set_up(
    http: httpx.AsyncClient,
    database: Database,
    clients: int,
    rng: random.Random,
    shared_assessments: int = 60,
) -> World:
    communes = await rural_communes(database)
    rng.shuffle(communes)
    value_pool = communes[:shared_assessments]
    rest = communes[shared_assessments:]
    import_units = [[c.unit_id for c in rest[3 * i : 3 * i + 3]] for i in range(clients)]
    rest = rest[3 * clients :]
    dossier_pool = rest[: max(0, min(len(rest), 4 * clients))]
    if len(dossier_pool) < clients or any(len(u) < 3 for u in import_units):
        raise RuntimeError(f"not enough communes ({len(communes)}) for {clients} clients")

    created = await http.post(f"{API}/criteria-sets", json=bench_set())
    created.raise_for_status()
    set_id = created.json()["id"]
    (await http.post(f"{API}/criteria-sets/{set_id}/publish")).raise_for_status()
    # The value pool starts with every indicator; the dossiers' assessments with one value.
    rows: dict[tuple[str, str], float | bool] = {}
    for commune in value_pool:
        for code in ALL_CODES:
            rows[(commune.unit_id, code)] = random_value(rng, code)
    for commune in dossier_pool:
        rows[(commune.unit_id, ALL_CODES[0])] = random_value(rng, ALL_CODES[0])
    imported = await http.post(
        f"{API}/indicator-values/import",
        params={"criteria_set_id": set_id, "async": "false"},
        content=csv_of(rows),
        headers={"Content-Type": "text/csv"},
    )
    if imported.status_code != 201:
        raise RuntimeError(f"set-up import: {imported.status_code} {imported.text[:500]}")
    ids = await assessment_ids(database, set_id, [c.unit_id for c in (*value_pool, *dossier_pool)])
    head = (await http.get(f"{API}/events", params={"limit": "1"})).json()["head"]
    words = sorted({c.name.split()[-1] for c in communes if c.name.split()})
    return World(
        set_id=set_id,
        value_assessments=[ids[c.unit_id] for c in value_pool],
        import_units=import_units,
        dossier_pool=[(c.unit_id, ids[c.unit_id]) for c in dossier_pool],
        unit_ids=[c.unit_id for c in communes],
        provinces=sorted({c.province_id for c in communes}),
        search_terms=rng.sample(words, min(200, len(words))),
        feed_start=head,
    )


async def read_feed(http: httpx.AsyncClient, after: int) -> list[dict[str, Any]]:
    """The whole feed from ``after`` to its head, page by page."""
    events: list[dict[str, Any]] = []
    while True:
        page = (await http.get(f"{API}/events", params={"after": after, "limit": 500})).json()
        events += page["items"]
        if not page["items"] or page["next_after"] >= page["head"]:
            return events
        after = page["next_after"]


# --- the report -----------------------------------------------------------------------------------


def _rows(stats: Stats, seconds: float) -> Iterator[tuple[str, ...]]:
    by_kind: dict[Kind, list[Sample]] = defaultdict(list)
    for sample in stats.samples:
        by_kind[sample.kind].append(sample)
    for kind in Kind:
        samples = by_kind.get(kind, [])
        if not samples:
            continue
        times = [s.seconds * 1e3 for s in samples]
        statuses = Counter(s.status for s in samples)
        listed = " ".join(f"{code or 'none'}×{n}" for code, n in sorted(statuses.items()))
        yield (
            str(kind),
            f"{len(samples):,}",
            f"{len(samples) / seconds:.1f}",
            f"{percentile(times, 0.5):.0f}",
            f"{percentile(times, 0.99):.0f}",
            listed,
        )


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def report(
    stats: Stats, seconds: float, cpu: float, args: argparse.Namespace, checks: list[CheckResult]
) -> None:
    total = len(stats.samples)
    print(
        f"\nload test: {args.clients} clients for {seconds:.0f} s against `ntm serve --workers "
        f"{args.workers}` + `ntm worker` on PostgreSQL"
    )
    rows = list(_rows(stats, seconds))
    everything = [s.seconds * 1e3 for s in stats.samples]
    rows.append(
        (
            "all",
            f"{total:,}",
            f"{total / seconds:.1f}",
            f"{percentile(everything, 0.5):.0f}",
            f"{percentile(everything, 0.99):.0f}",
            "",
        )
    )
    print_table(("requests", "count", "req/s", "p50 ms", "p99 ms", "statuses"), rows)
    legit = sum(1 for s in stats.samples if s.status in LEGITIMATE)
    print(
        f"409/412/428/429 (contention, legitimate): {legit:,}; 5xx: {len(stats.server_errors)}; "
        f"no answer: {len(stats.transport_errors)}; import jobs: {stats.jobs}; transitions sent "
        f"twice at once: {stats.double_sends}; idempotent replays: {stats.replays} (after "
        f"{stats.replays_in_flight} × 409 in flight)"
    )
    step = 10.0
    buckets: dict[int, list[Sample]] = defaultdict(list)
    for sample in stats.samples:
        buckets[int((sample.ended - stats.started) // step)].append(sample)
    print(
        "answers per 10 s (5xx): "
        + " ".join(
            f"{len(b)}({sum(1 for s in b if s.status >= 500)})" for _, b in sorted(buckets.items())
        )
    )
    watch = stats.database
    waits = ", ".join(f"{name} ×{n}" for name, n in watch.waits.most_common(4)) or "none"
    print(
        f"database ({watch.samples} samples of pg_stat_activity): at most "
        f"{watch.most_connections} connections, {watch.most_waiting} waiting for a lock at once "
        f"(lock waits seen: {waits}); longest transaction {watch.longest:.1f} s "
        f"({watch.longest_query})"
    )
    print(
        f"load generator CPU: {cpu:.1f} s in {seconds:.0f} s = {100 * cpu / seconds:.0f} % of "
        f"one core (of {os.cpu_count()}); the server processes ({args.workers} workers, manager, "
        f"`ntm worker`, set-up and drain included): {stats.server_cpu:.0f} s of CPU in "
        f"{stats.server_wall:.0f} s = {stats.server_cpu / max(stats.server_wall, 1e-9):.2f} cores"
    )
    print()
    print_table(
        ("check", "items", "result"),
        [
            (c.name, f"{c.checked:,}", "passed" if c.passed else f"FAILED ({len(c.failures)})")
            for c in checks
        ],
    )
    for check in checks:
        for failure in check.failures[:10]:
            print(f"  {check.name}: {failure}")


def run_checks(stats: Stats) -> list[CheckResult]:
    out = []
    for name, failures in (
        ("no 5xx answer", stats.server_errors),
        ("every request answered (no timeout, no dropped connection)", stats.transport_errors),
        ("feed polls: positions increase", stats.feed_problems),
        ("one winner per double send; replays equal; jobs succeed", stats.protocol_problems),
    ):
        result = CheckResult(name, checked=len(stats.samples))
        result.failures = list(failures)
        out.append(result)
    return out


async def amain(args: argparse.Namespace) -> int:
    secret = secrets.token_urlsafe(48)
    rng = random.Random(args.seed)
    await recreate_postgres(POSTGRES_URL)
    work = Path(tempfile.mkdtemp(prefix="ntm-load-"))
    servers: Servers | None = None
    settings = Settings(
        database_url=POSTGRES_URL,
        secret_key=secret,  # type: ignore[arg-type]
        var_dir=work / "var",
        data_dir=work / "files",
        log_level="WARNING",
    )
    engine = build_engine(settings)
    try:
        started = time.perf_counter()
        await migrate.upgrade(engine)
        database = Database(engine)
        async with database.session() as session:
            await run_all(session, lambda _message: None)
        headers = await admin_headers(database, settings)
        print(f"database migrated and seeded in {time.perf_counter() - started:.0f} s", flush=True)
        servers = start_servers(args, work, secret)
        servers_started = time.perf_counter()
        base = f"http://127.0.0.1:{args.port}"
        await wait_ready(base, servers)
        # Idle connections are dropped by the client before uvicorn's keep-alive timeout (5 s)
        # closes them: otherwise a request sent on a connection the server is closing fails
        # with no answer, a race of the two timeouts, not an answer of the service.
        limits = httpx.Limits(
            max_connections=args.clients,
            max_keepalive_connections=args.clients,
            keepalive_expiry=2,
        )
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=httpx.Timeout(120), limits=limits
        ) as http:
            world = await set_up(http, database, args.clients, rng)
            print(
                f"set-up: {len(world.value_assessments)} shared assessments, "
                f"{args.clients * 3} communes for imports, {len(world.dossier_pool)} for "
                f"dossiers; running {args.clients} clients for {args.duration:.0f} s",
                flush=True,
            )
            stats = Stats()
            clients = [
                Client(n, http, world, stats, rng.randrange(2**32)) for n in range(args.clients)
            ]
            cpu_before, wall_before = time.process_time(), time.perf_counter()
            deadline = time.monotonic() + args.duration
            watch = asyncio.create_task(watch_database(engine, stats.database))
            try:
                await asyncio.gather(*(c.run(deadline) for c in clients))
            finally:
                watch.cancel()
            stats.started = wall_before
            seconds = time.perf_counter() - wall_before
            cpu = time.process_time() - cpu_before
            events = await read_feed(http, world.feed_start)
        servers.stop()
        # Every server process has been waited for: their CPU is this process's children's.
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        stats.server_cpu = children.ru_utime + children.ru_stime
        stats.server_wall = time.perf_counter() - servers_started
        ledger = Ledger()
        for client in clients:
            ledger.merge(client.ledger)
        async with database.session() as session:
            checks = await check_database(
                session, ledger, criteria_set_id=world.set_id, year=YEAR, kind=KIND
            )
        checks.append(check_feed(events, ledger))
        checks += run_checks(stats)
        report(stats, seconds, cpu, args, checks)
        print(
            f"ledger: {len(ledger.values):,} value writes acknowledged "
            f"({sum(w.changed for w in ledger.values):,} changed something), "
            f"{len(ledger.imports):,} imports, {len(ledger.dossiers):,} dossier writes on "
            f"{len({w.dossier_id for w in ledger.dossiers}):,} dossiers "
            f"({sum(1 for w in ledger.dossiers if w.action == 'recognise')} recognised); "
            f"in doubt: {len(ledger.values_in_doubt) + len(ledger.imports_in_doubt)} writes, "
            f"{len(ledger.dossiers_in_doubt)} dossiers; feed events read: {len(events):,}"
        )
        if stats.server_errors:
            print("\nserver log (errors):")
            print("\n".join(servers.errors()))
        return 0 if all(c.passed for c in checks) else 1
    finally:
        if servers is not None:
            servers.stop()
        await engine.dispose()
        if not args.keep:
            await recreate_postgres(POSTGRES_URL, drop_only=True)
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: database {DATABASE}, files and server log in {work}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (60)")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (200)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--port", type=int, default=PORT, help=f"server port ({PORT})")
    parser.add_argument("--seed", type=int, default=16, help="random seed (16)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the log")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
