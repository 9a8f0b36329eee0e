"""``POST /auth/token`` and ``POST /auth/revoke``."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request, Response

from app.audit.service import AuditContextDep
from app.core.errors import ProblemError, problem_responses
from app.core.security import PUBLIC, CurrentPrincipal, SettingsDep
from app.core.types import SingleLine
from app.db.session import SessionDep
from app.identity.schemas import TokenResponse
from app.identity.service import auth

router = APIRouter(prefix="/auth", tags=["identity"])

# Secrets (password, client_secret) are never stored, only compared: any character may be part
# of one, so they are plain ``str``, not ``SingleLine``.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise auth.invalid_client()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise auth.invalid_client() from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise auth.invalid_client()
    # RFC 6749 §2.3.1: both parts are form-urlencoded before joining.
    client_id, secret = unquote(client_id), unquote(secret)
    if "\x00" in client_id or "\x00" in secret:
        # No client has such an id, and it could not even be counted as a failed attempt.
        raise auth.invalid_client()
    return client_id, secret


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Get an access token (OAuth2 password or client-credentials grant)",
    description=(
        "Form-encoded (`application/x-www-form-urlencoded`). People: `grant_type=password` with "
        "`username` and `password`. Integration clients: `grant_type=client_credentials` with "
        "`client_id` and `client_secret` in the form or as HTTP Basic. Errors follow RFC 6749 "
        "(`error`: `invalid_request`, `invalid_grant`, `invalid_client`, "
        "`unsupported_grant_type`); repeated failures answer 429 for a while."
    ),
    responses=problem_responses(400, 401, 429),
    openapi_extra=PUBLIC,
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[
        SingleLine | None,
        Form(max_length=4096, description="`password` (people) or `client_credentials`."),
    ] = None,
    username: Annotated[
        SingleLine | None, Form(max_length=4096, description="Grant `password`: the username.")
    ] = None,
    password: Annotated[
        str | None, Form(max_length=4096, description="Grant `password`: the password.")
    ] = None,
    client_id: Annotated[
        SingleLine | None,
        Form(max_length=4096, description="Grant `client_credentials`, or use HTTP Basic."),
    ] = None,
    client_secret: Annotated[
        str | None,
        Form(max_length=4096, description="Grant `client_credentials`, or use HTTP Basic."),
    ] = None,
    scope: Annotated[
        SingleLine | None,
        Form(max_length=4096, description="Ignored: what a token allows follows its roles."),
    ] = None,
) -> TokenResponse:
    basic = _basic_credentials(request)
    if basic is not None:
        if client_id is not None and client_id != basic[0]:
            raise auth.oauth_error("invalid_request", "Two different client ids were sent.")
        client_id, client_secret = basic
    form = auth.TokenRequest(
        grant_type=grant_type,
        username=username,
        password=password,
        client_id=client_id,
        client_secret=client_secret,
        address=request.client.host if request.client else "unknown",
    )
    try:
        issued = await auth.issue_token(session, settings, form)
    except ProblemError:
        await session.commit()  # keep the failed attempt: it counts towards the limit
        raise
    await session.commit()
    response.headers.update(NO_STORE)
    return issued


@router.post(
    "/revoke",
    status_code=200,
    response_class=Response,
    summary="Revoke an access token or a personal access token (RFC 7009)",
    description=(
        "Form field `token`. The caller's own tokens (a system administrator's: anyone's). "
        "Answers 200 whether or not the token was known, as RFC 7009 §2.2 asks."
    ),
    responses={200: {"description": "Revoked (or nothing to revoke)."}, **problem_responses(401)},
)
async def revoke(
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    audit: AuditContextDep,
    token: Annotated[
        SingleLine,
        Form(max_length=4096, description="An access token or a personal access token."),
    ],
    token_type_hint: Annotated[
        SingleLine | None,
        Form(max_length=4096, description="Ignored (RFC 7009 §2.1 lets a server do so)."),
    ] = None,
) -> Response:
    await auth.revoke_token(session, settings, principal, audit, token)
    await session.commit()
    return Response(status_code=200, headers=NO_STORE)
