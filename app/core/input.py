"""Input no route can store, refused in one place before any handler or database sees it.

PostgreSQL cannot store a NUL character in text (SQLite can, and would hand it to every client),
no column or JSON document here holds an integer beyond 64 bits (nor can the JSON encoder write
one back), and JSON has no ``NaN`` or ``Infinity`` (Python's parser accepts them, and ``1e400``
silently becomes infinity). This pure-ASGI middleware answers such requests with a 422
``validation_error`` naming each offending field, as the request validation does:

- query parameters and the path: any NUL character (``%00``);
- form bodies (``application/x-www-form-urlencoded``): any NUL character in a name or value;
- JSON bodies: NUL characters in strings or keys, integers outside the signed 64-bit range,
  ``NaN``, ``Infinity`` and numbers too large for a float.

File uploads (multipart, CSV, XLSX) are left to the feature that reads them. A JSON body is
parsed here only when a cheap scan of its bytes finds something suspicious, so ordinary bodies
cost one pass of substring searches.

``BodyLimitMiddleware``, outside every middleware that reads a body and before any
authentication, bounds what the others may buffer: a body over its limit is refused with 413
``payload_too_large`` as soon as its ``Content-Length`` says so, or while it streams in. Uploads
(multipart forms, and any body sent to an ``…/import`` path) have a larger limit than the JSON and
form bodies of every other route.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from email.message import Message as EmailMessage
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import field_error, problem_body, raw_problem_headers, scope_language
from app.core.http import dumps
from app.core.types import INT64_MAX

INT64_MIN = -INT64_MAX - 1
_MAX_INT_DIGITS = 19  # every int64 has at most 19 digits
# Bytes that may announce a value to refuse: an escaped NUL, a non-finite constant, a long run of
# digits (a huge integer) or a three-digit exponent (a float that may overflow).
_SUSPECT = re.compile(rb"\\u0000|NaN|Infinity|\d{19}|[eE][+-]?\d{3}")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

NUL_MSG = "must not contain the NUL character (U+0000)"


class _Refused:
    """Stands in for a JSON number that cannot be accepted; ``msg``/``type`` say why."""

    __slots__ = ("msg", "type")

    def __init__(self, msg: str, type_: str) -> None:
        self.msg = msg
        self.type = type_


def _parse_int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return _Refused("integer out of range (signed 64-bit)", "int_out_of_range")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        return _Refused("integer out of range (signed 64-bit)", "int_out_of_range")
    return value


def _parse_float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value):
        return _Refused("number too large", "finite_number")
    return value


def _parse_constant(text: str) -> _Refused:
    return _Refused(f"{text} is not a JSON number", "finite_number")


def _walk(value: Any, loc: list[str | int]) -> Iterator[dict[str, Any]]:
    if isinstance(value, str):
        if "\x00" in value:
            yield field_error(loc, NUL_MSG, "string_nul")
    elif isinstance(value, _Refused):
        yield field_error(loc, value.msg, value.type)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, [*loc, index])
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield field_error([*loc, key], "keys " + NUL_MSG, "string_nul")
            yield from _walk(item, [*loc, key])


def json_errors(body: bytes) -> list[dict[str, Any]]:
    """Fields of a JSON body that cannot be accepted. A body that is not JSON is no concern here:
    the request validation answers it."""
    if not _SUSPECT.search(body):
        return []
    try:
        document = json.loads(
            body,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except (ValueError, RecursionError):
        return []
    return list(_walk(document, ["body"]))


def pairs_errors(raw: bytes, where: str) -> list[dict[str, Any]]:
    """NUL characters in the names or values of a query string or a form body."""
    if b"%00" not in raw and b"\x00" not in raw:
        return []
    errors = []
    text = raw.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if "\x00" in name or "\x00" in value:
            errors.append(field_error([where, name.replace("\x00", "")], NUL_MSG, "string_nul"))
    return errors


def _body_kind(content_type: str | None) -> str | None:
    """``json`` or ``form`` for the bodies checked here (FastAPI reads a body without a
    content type as JSON), else None."""
    if not content_type:
        return "json"
    message = EmailMessage()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return None
    subtype = message.get_content_subtype()
    if subtype == "json" or subtype.endswith("+json"):
        return "json"
    if subtype == "x-www-form-urlencoded":
        return "form"
    return None


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = pairs_errors(scope.get("query_string", b""), "query")
        if "\x00" in scope["path"]:
            errors.append(field_error(["path"], NUL_MSG, "string_nul"))
        kind = None
        if scope["method"] in _BODY_METHODS:
            headers = dict(scope["headers"])
            content_type = headers.get(b"content-type")
            kind = _body_kind(content_type.decode("latin-1") if content_type else None)
        if kind is not None:
            body, receive = await _buffer(receive)
            errors += json_errors(body) if kind == "json" else pairs_errors(body, "body")
        if errors:
            await _refuse(scope, send, errors)
            return
        await self.app(scope, receive, send)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, and a ``receive`` that hands it on again, then the real channel."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            # The client left; let the app see it.
            pending: list[Message] = [message]
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            pending = []
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            if pending:
                return pending.pop()
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _refuse(scope: Scope, send: Send, errors: list[dict[str, Any]]) -> None:
    fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors[:5])
    language = scope_language(scope)
    body = dumps(
        problem_body(
            422,
            "validation_error",
            f"The request is not valid: {fields}.",
            errors=errors,
            instance=scope["path"].replace("\x00", ""),
            language=language,
            params={"fields": fields},
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": raw_problem_headers(language, len(body)),
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- body size ---------------------------------------------------------------------------------


class PayloadTooLarge(HTTPException):
    """Raised by the limited ``receive`` once a body passes its limit. An HTTPException, so that
    FastAPI's body parsing lets it through (it turns any other error into a 400) and the error
    handlers answer it as 413 ``payload_too_large``."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_detail(limit))


def too_large_detail(limit: int) -> str:
    mib = limit >= 1024 * 1024
    size = f"{limit / 1024 / 1024:g} MiB" if mib else f"{limit / 1024:g} KiB"
    return f"The request body is larger than the limit of {size} for this request."


def is_upload(scope: Scope, content_type: str | None) -> bool:
    return scope["path"].rstrip("/").endswith("/import") or (content_type or "").lower().startswith(
        "multipart/form-data"
    )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = self.upload_limit if is_upload(scope, content_type) else self.json_limit
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except PayloadTooLarge:
            # Raised outside the routes (a middleware that reads the body first).
            if started:
                raise
            await _too_large(scope, send, limit)


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    language = scope_language(scope)
    body = dumps(
        problem_body(
            413,
            "payload_too_large",
            too_large_detail(limit),
            instance=scope["path"],
            language=language,
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                *raw_problem_headers(language, len(body)),
                # The rest of the body is not read: the client must not reuse the connection.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
