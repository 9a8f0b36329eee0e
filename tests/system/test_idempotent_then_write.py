"""Issue 10, item 16: on SQLite, a write right after an idempotent POST used to fail with 503
(the idempotent response was stored after sending it, in a deferred transaction that collided
with the next request). Write sessions begin IMMEDIATE and wait for the lock, so the storing
transaction and the next request's write queue up instead of failing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from starlette.types import Message, Scope

from app.audit.service import AuditContext, record
from app.config import Settings
from app.core.permissions import Role
from app.core.security import PrincipalKind, issue_access_token
from app.db import migrate
from app.db.engine import build_engine
from app.db.session import SessionDep
from app.main import create_app
from app.models.identity import RoleAssignment, User
from app.models.system import AuditRecord, IdempotencyRecord

SEQUENCES = 1000


def _post_scope(path: str, headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("t", 80),
    }


async def test_a_write_right_after_an_idempotent_post_never_fails_on_sqlite(
    settings: Settings, tmp_path: Path
) -> None:
    """1,000 sequences on a SQLite file (the embedded default, whatever database the rest of
    the suite runs on), in one process through the ASGI app: a POST with an Idempotency-Key
    immediately followed by another write. Every one of the 2,000 writes succeeds. The write is a
    cheap audited insert through the app's own session and middleware stack, so that the test
    measures the idempotency step and the write lock, not the cost of a business rule."""
    url = f"sqlite+aiosqlite:///{tmp_path}/ntm.db"
    own = settings.model_copy(update={"database_url": url})
    engine = build_engine(own)
    await migrate.upgrade(engine)
    await engine.dispose()
    app: FastAPI = create_app(own)

    @app.post("/api/v1/_write", status_code=201)
    async def write(session: SessionDep, payload: dict[str, Any] = Body()) -> dict[str, Any]:
        await record(
            session,
            AuditContext.system("test"),
            entity="sequence",
            entity_id=str(payload["n"]),
            action="create",
            after=payload,
        )
        await session.commit()
        return payload

    admin = uuid.uuid4()
    async with app.state.database.session() as session:
        session.add(User(id=admin, username="admin", display_name="admin", password_hash="x"))
        await session.flush()
        session.add(RoleAssignment(user_id=admin, role=str(Role.SYSTEM_ADMIN), unit_id=None))
        await session.commit()
    token = issue_access_token(own, subject=admin, kind=PrincipalKind.USER).token
    headers = {"Authorization": f"Bearer {token}"}
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    statuses: Counter[tuple[str, int]] = Counter()
    async with AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
        for i in range(SEQUENCES):
            # The keyed POST is called as a server would: its client has the whole response
            # (and sends the next write) while the middleware is still storing it.
            sent = asyncio.Event()
            keyed_status: list[int] = []
            body = json.dumps({"n": i}).encode()

            async def receive(body: bytes = body) -> Message:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(
                message: Message, sent: asyncio.Event = sent, statuses: list[int] = keyed_status
            ) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
                elif not message.get("more_body", False):
                    sent.set()

            scope = _post_scope("/api/v1/_write", {**headers, "Idempotency-Key": f"seq-{i}"})
            first = asyncio.create_task(app(scope, receive, send))
            await sent.wait()
            after = await client.post("/api/v1/_write", json={"n": -i})
            await first
            statuses["keyed", keyed_status[0]] += 1
            statuses["next", after.status_code] += 1
    assert statuses == Counter({("keyed", 201): SEQUENCES, ("next", 201): SEQUENCES})
    async with app.state.database.session(read_only=True) as session:
        writes = await session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.entity == "sequence")
        )
        stored = await session.scalar(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.status == 201)
        )
    assert writes == 2 * SEQUENCES
    assert stored == SEQUENCES
    await app.state.database.dispose()
