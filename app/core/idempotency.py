"""``Idempotency-Key`` on POST: the same key and body replay the first response (API.md).

A pure-ASGI middleware: it reserves the key in its own short transaction (a pending row), lets
the request run, then stores the response (never one marked ``Cache-Control: no-store``, which
carries a secret). The same key with another body is 422; a key whose first request is still
running is 409 ``idempotency_key_in_flight``. Responses of 5xx are not kept, so the client may
retry them. Keys are scoped to the principal (the user or client id the token resolves to), not
to the token: a retry under a refreshed token replays the first response, and two principals
never see each other's responses.
The body is hashed as it arrives and kept on disk past 1 MiB; its size is bounded by
``BodyLimitMiddleware``, outside this one.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from datetime import timedelta
from typing import IO, Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import Unauthorized, problem_body, raw_problem_headers, scope_language
from app.core.http import dumps
from app.core.security import resolve_token
from app.db.engine import Database
from app.db.types import utcnow
from app.models.system import IdempotencyRecord

logger = logging.getLogger("app.idempotency")

MAX_KEY_LENGTH = 255
_IN_MEMORY = 1024 * 1024
_CHUNK = 1024 * 1024
RETENTION = timedelta(days=1)
_REPLAYED_HEADERS = {"content-type", "location", "etag", "link"}


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, prefix: str = "/api/v1") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        key = headers.get("idempotency-key")
        if key is None or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            await _send_problem(
                scope,
                send,
                400,
                "invalid_idempotency_key",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            )
            return

        spooled = await _spool_body(receive)
        if spooled is None:
            return  # the client left before sending its body: nothing to answer
        body_file, body_hash = spooled
        database: Database = scope["app"].state.database
        with body_file:
            key_scope = await _principal_scope(scope["app"], database, headers)
            if key_scope is None:
                # A token that does not resolve: the route answers 401 itself, and a refusal
                # is nothing to replay.
                await self._run_unkeyed(scope, receive, send, body_file)
                return
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope["path"] + (f"?{query}" if query else "")
            existing = await _reserve(database, key_scope, key, path, body_hash)
            if existing is not None:
                await _answer_existing(scope, send, existing, path, body_hash)
                return
            await self._run(scope, receive, send, body_file, (database, key_scope, key))

    async def _run_unkeyed(
        self, scope: Scope, receive: Receive, send: Send, body_file: IO[bytes]
    ) -> None:
        await self.app(scope, _replaying(body_file, receive), send)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        body_file: IO[bytes],
        reservation: tuple[Database, str, str],
    ) -> None:
        """Run the request with the spooled body, keeping its response for replays."""
        database, key_scope, key = reservation
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": bytearray()}
        replay_receive = _replaying(body_file, receive)

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            await _finish(database, key_scope, key, captured)


def _replaying(body_file: IO[bytes], receive: Receive) -> Receive:
    """A ``receive`` that hands the spooled body to the app, then the client's own messages."""
    body_size = body_file.seek(0, 2)
    body_file.seek(0)
    replayed = False

    async def replay_receive() -> Message:
        nonlocal replayed
        if not replayed:
            chunk = body_file.read(_CHUNK)
            more = body_file.tell() < body_size
            replayed = not more
            return {"type": "http.request", "body": chunk, "more_body": more}
        return await receive()

    return replay_receive


# Why resolve the principal here rather than move the step into a dependency after
# authentication: the replay must stand in front of the whole route (its body parsing, its
# dependencies and its own transaction), and a pure-ASGI middleware is the one place that sees
# the raw body and the finished response of every POST, including responses from error handlers.
# Resolving costs one read of the token's principal (the same read the route makes next), and a
# full resolution means a revoked or expired token never gets a stored response replayed.
ANONYMOUS_SCOPE = "anonymous"


async def _principal_scope(app: Any, database: Database, headers: dict[str, str]) -> str | None:
    """``principal:<id>`` of the caller, ``anonymous`` without a token, None for a bad token."""
    header = headers.get("authorization")
    if header is None:
        return ANONYMOUS_SCOPE
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        async with database.session(read_only=True) as session:
            principal = await resolve_token(session, app.state.settings, token, database)
    except Unauthorized:
        return None
    return f"principal:{principal.id}"


async def _spool_body(receive: Receive) -> tuple[IO[bytes], str] | None:
    """The body, spooled to disk past ``_IN_MEMORY`` bytes (its size is bounded by the body limit
    outside this middleware), and its SHA-256; None if the client disconnected."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    try:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                spooled.close()
                return None
            chunk = message.get("body", b"")
            digest.update(chunk)
            spooled.write(chunk)
            if not message.get("more_body", False):
                return spooled, digest.hexdigest()
    except BaseException:
        spooled.close()
        raise


async def _reserve(
    database: Database, key_scope: str, key: str, path: str, body_hash: str
) -> IdempotencyRecord | None:
    """Insert a placeholder for the key; return the existing record if there is one."""
    async with database.session() as session:
        await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - RETENTION)
        )
        found = await session.get(IdempotencyRecord, (key_scope, key))
        if found is not None:
            await session.commit()
            return found
        session.add(
            IdempotencyRecord(
                scope=key_scope, key=key, method="POST", path=path, body_hash=body_hash
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            found = await session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.scope == key_scope, IdempotencyRecord.key == key
                )
            )
            return found
    return None


async def _finish(database: Database, key_scope: str, key: str, captured: dict[str, Any]) -> None:
    status = int(captured["status"])
    where = (IdempotencyRecord.scope == key_scope, IdempotencyRecord.key == key)
    try:
        async with database.session() as session:
            if status >= 500 or _carries_secret(captured["headers"]):
                # A response that carries a secret (a token, a client secret) is never stored:
                # a retry runs again rather than replaying the secret from the database.
                await session.execute(delete(IdempotencyRecord).where(*where))
            else:
                kept = {
                    k.decode("latin-1"): v.decode("latin-1")
                    for k, v in captured["headers"]
                    if k.decode("latin-1").lower() in _REPLAYED_HEADERS
                }
                await session.execute(
                    update(IdempotencyRecord)
                    .where(*where)
                    .values(status=status, headers=kept, body=bytes(captured["body"]))
                )
            await session.commit()
    except Exception:
        logger.exception("could not store the idempotent response")


def _carries_secret(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"cache-control" and b"no-store" in v.lower() for k, v in headers)


async def _answer_existing(
    scope: Scope, send: Send, record: IdempotencyRecord, path: str, body_hash: str
) -> None:
    if record.path != path or record.body_hash != body_hash:
        await _send_problem(
            scope,
            send,
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with another request body or path.",
        )
        return
    if record.status is None:
        await _send_problem(
            scope,
            send,
            409,
            "idempotency_key_in_flight",
            "The first request with this Idempotency-Key is still being processed.",
            retry_after=True,
        )
        return
    headers = [
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in (record.headers or {}).items()
    ]
    headers.append((b"idempotent-replayed", b"true"))
    body = record.body or b""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": record.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    *,
    retry_after: bool = False,
) -> None:
    language = scope_language(scope)
    body = dumps(problem_body(status, code, detail, language=language))
    headers = raw_problem_headers(language, len(body))
    if retry_after:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
