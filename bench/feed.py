"""Change feed and webhooks: ``python -m bench.feed [--events N] [--deliveries N] [--no-postgres]``.

On a throwaway SQLite file and on PostgreSQL (``ntm_bench_feed``, created and dropped):

- **feed**: ``--events`` changes (default 20,000) are written through the audit trail (which
  publishes each to the outbox), then one client reads ``GET /api/v1/events`` page after page
  (``limit=500``) through the app (httpx ASGI transport, in process) until it reaches the head.
  Baseline in the same run: the outbox read by position in the same pages, without HTTP,
  authorisation or serialisation (``app.outbox.service.read_after``).
- **webhooks**: one subscription to a receiver on 127.0.0.1 (``python -m bench.feed
  --receiver``, its own process so that it does not share the sender's event loop; it exits by
  itself after ``--lifetime`` seconds and is stopped by its pid at the end of the run),
  ``--deliveries`` changes (default 2,000), then the worker's rounds (``dispatch`` +
  ``send_due``, signed per Standard Webhooks) until every delivery is acknowledged. Baseline
  in the same run: as many plain POSTs of small bodies to the same receiver, with the same
  client and concurrency, no database, no signing.

Targets (issue 15): the feed sustains ≥ 1,000 events/s read by one client; a webhook receiver
on loopback gets ≥ 200 deliveries/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.audit.service import AuditContext, entry, record_many
from app.config import Settings
from app.db import migrate
from app.db.engine import Database, build_engine
from app.integration.service import delivery
from app.main import create_app
from app.models.integration import WebhookDelivery
from app.outbox import service as outbox
from bench.assessments import admin_headers, recreate_postgres

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ntm_bench_feed"
PAGE = 500
FEED_TARGET = 1000.0
WEBHOOK_TARGET = 200.0
DEADLINE_SECONDS = 300.0


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer 200 to every request; keep the connection alive like a real receiver."""
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        return
    finally:
        writer.close()


async def serve_receiver(lifetime: float) -> int:
    """The receiver process: 127.0.0.1 only, its port on the first line of stdout, bounded."""
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await asyncio.sleep(lifetime)
    return 0


class Receiver:
    """The receiver process, started and stopped (by pid) by the run."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.feed",
            "--receiver",
            "--lifetime",
            str(self.lifetime),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.port = int((await self.process.stdout.readline()).decode())

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGTERM)
            await self.process.wait()


async def _write_events(database: Database, count: int, tag: str) -> None:
    context = AuditContext.system("bench", reason="feed")
    for start in range(0, count, 1000):
        rows = [
            entry(
                context,
                entity="unit",
                entity_id=uuid.uuid4(),
                action="update",
                after={"revision": 2, "valid_from": "2026-01-01"},
            )
            for _ in range(min(1000, count - start))
        ]
        for row in rows:
            row["request_id"] = tag
        async with database.session() as session:
            await record_many(session, rows)
            await session.commit()


async def bench_feed(database: Database, client: AsyncClient, events: int) -> dict[str, float]:
    async with database.session() as session:
        start = await outbox.head(session)
    await _write_events(database, events, "bench-feed")
    # Baseline: the outbox by position, no HTTP.
    began = time.perf_counter()
    read = 0
    mark = start
    async with database.session(read_only=True) as session:
        while True:
            page = await outbox.read_after(session, mark, PAGE)
            if not page:
                break
            read += len(page)
            mark = page[-1].position
    baseline = read / (time.perf_counter() - began)
    # The feed through the API, one client.
    began = time.perf_counter()
    got = 0
    after = start
    while True:
        response = await client.get("/api/v1/events", params={"after": after, "limit": PAGE})
        response.raise_for_status()
        body = response.json()
        got += len(body["items"])
        if body["next_after"] == after:
            break
        after = body["next_after"]
    rate = got / (time.perf_counter() - began)
    return {"events": float(got), "rate": rate, "baseline": baseline}


async def _delivered(database: Database) -> int:
    async with database.session(read_only=True) as session:
        found = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "delivered")
        )
    return int(found or 0)


async def bench_webhooks(
    database: Database, client: AsyncClient, settings: Settings, count: int
) -> dict[str, float]:
    receiver = Receiver(lifetime=DEADLINE_SECONDS * 2)
    await receiver.start()
    try:
        url = f"http://127.0.0.1:{receiver.port}/hook"
        created = await client.post("/api/v1/webhooks", json={"url": url})
        created.raise_for_status()
        await _write_events(database, count, "bench-webhooks")
        deadline = time.perf_counter() + DEADLINE_SECONDS
        async with delivery.http_client() as http:
            began = time.perf_counter()
            delivered = 0
            while delivered < count and time.perf_counter() < deadline:
                await delivery.run_once(database, http, settings, "bench")
                delivered = await _delivered(database)
            rate = delivered / (time.perf_counter() - began)
            async with database.session(read_only=True) as session:
                unique = await session.scalar(
                    select(func.count(func.distinct(WebhookDelivery.message_id))).where(
                        WebhookDelivery.status == "delivered"
                    )
                )
            # Baseline: the same number of bodies POSTed straight, with the worker's concurrency.
            bodies = [json.dumps({"n": i}) for i in range(count)]
            acknowledged = 0
            began = time.perf_counter()
            for start in range(0, count, settings.webhook_batch_size):
                batch = bodies[start : start + settings.webhook_batch_size]
                answers = await asyncio.gather(
                    *(
                        http.post(url, content=b, headers={"content-type": "application/json"})
                        for b in batch
                    )
                )
                acknowledged += sum(a.status_code == 200 for a in answers)
            baseline = acknowledged / (time.perf_counter() - began)
        return {
            "deliveries": float(delivered or 0),
            "unique": float(unique or 0),
            "rate": rate,
            "baseline": baseline,
        }
    finally:
        await receiver.stop()


async def run_backend(name: str, url: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        var_dir=work / name,
        data_dir=work / name / "files",
        log_level="ERROR",
        worker_in_process=False,
        webhook_allow_http=True,
        webhook_allowed_networks=["127.0.0.0/8"],
    )
    engine = build_engine(settings)
    try:
        await migrate.upgrade(engine)
        database = Database(engine)
        headers = await admin_headers(database, settings)
        app = create_app(settings, database=database)
        async with AsyncClient(
            transport=ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://bench",
            headers=headers,
            timeout=120,
        ) as client:
            feed = await bench_feed(database, client, args.events)
            hooks = await bench_webhooks(database, client, settings, args.deliveries)
    finally:
        await engine.dispose()
    return {"backend": name, "feed": feed, "webhooks": hooks}


def report(result: dict[str, Any]) -> int:
    feed, hooks = result["feed"], result["webhooks"]
    name = result["backend"]
    print(
        f"{name:>10}: feed {feed['events']:.0f} events read by one client at "
        f"{feed['rate']:,.0f} events/s (outbox by position without HTTP, same run: "
        f"{feed['baseline']:,.0f} events/s; target ≥ {FEED_TARGET:,.0f})"
    )
    print(
        f"{'':>10}  webhooks {hooks['deliveries']:.0f} deliveries acknowledged "
        f"({hooks['unique']:.0f} distinct webhook-id) at {hooks['rate']:,.0f} deliveries/s "
        f"(plain POSTs to the same receiver, same run: {hooks['baseline']:,.0f}/s; "
        f"target ≥ {WEBHOOK_TARGET:,.0f})"
    )
    missed = feed["rate"] < FEED_TARGET or hooks["rate"] < WEBHOOK_TARGET
    if missed:
        print("  target missed")
    return int(missed)


async def amain(args: argparse.Namespace) -> int:
    status = 0
    with tempfile.TemporaryDirectory(prefix="ntm-bench-feed-") as tmp:
        work = Path(tmp)
        backends = [("sqlite", f"sqlite+aiosqlite:///{work}/bench.db")]
        if not args.no_postgres:
            backends.append(("postgresql", POSTGRES_URL))
        for name, url in backends:
            if name == "postgresql":
                await recreate_postgres(url)
            try:
                result = await run_backend(name, url, work, args)
            finally:
                if name == "postgresql":
                    await recreate_postgres(url, drop_only=True)
            status |= report(result)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--receiver", action="store_true", help="run as the receiver process")
    parser.add_argument("--lifetime", type=float, default=DEADLINE_SECONDS * 2)
    args = parser.parse_args(argv)
    if args.receiver:
        return asyncio.run(serve_receiver(args.lifetime))
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
