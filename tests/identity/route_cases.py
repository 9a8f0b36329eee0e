"""How the route-authorisation test builds a valid call for each write route.

Every feature keeps its cases in ``tests/<feature>/authz_cases*.py`` as

    CASES: dict[tuple[str, str], RouteCase] = {
        ("PATCH", "/api/v1/units/{unit_id}"): RouteCase(
            Kind.UNIT, Action.UNITS_WRITE, build=patch_unit
        ),
    }

where ``build(env, target)`` prepares what the call needs (with ``env.admin``, a system
administrator's client) and returns the call aimed at an object **in** ``target.unit_id``:

- ``Kind.UNIT``: the object belongs to a unit; ``target.unit_id`` is a commune (``env.tree.c1``,
  under ``d1`` and ``p1``; a village ``v1`` below it). The test expects 401 without a token, 403
  for a national viewer, 404 for a holder of the action scoped to another province's commune,
  then success for a holder scoped to ``target.unit_id``.
- ``Kind.NATIONAL``: the object is national (accounts, national criteria sets): 403 also for a
  holder of the action scoped to a unit; success for a national holder.
- ``Kind.SELF``: the caller's own things (``/me/...``): any signed-in principal; ``foreign``
  builds the call another principal would make on ``target.owner``'s things and the status it
  must get.

After the refused calls, no table has changed (row counts, latest ``updated_at``, the audit log);
after the allowed one, the audit log has a record by that principal.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.permissions import Action
from tests.conftest import PrincipalFactory, TestPrincipal
from tests.identity.conftest import Tree


class Kind(StrEnum):
    UNIT = "unit"
    NATIONAL = "national"
    SELF = "self"


@dataclass(frozen=True)
class Env:
    admin: AsyncClient
    client: AsyncClient
    session: AsyncSession
    tree: Tree
    make_principal: PrincipalFactory


@dataclass(frozen=True)
class Target:
    unit_id: uuid.UUID | None = None
    owner: TestPrincipal | None = None


@dataclass(frozen=True)
class Call:
    path: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


Builder = Callable[[Env, Target], Awaitable[Call]]
# For Kind.SELF: (env, owner's target, another principal) -> (call, expected status)
Foreign = Callable[[Env, Target], Awaitable[tuple[Call, TestPrincipal, int]]]


@dataclass(frozen=True)
class RouteCase:
    kind: Kind
    action: Action | None
    build: Builder
    ok: frozenset[int] = frozenset({200, 201, 204})
    foreign: Foreign | None = None
    # Kind.UNIT: the tree units (attributes of ``Tree``) the object lives in and the one the
    # out-of-scope holder is given, e.g. "p1"/"p2" for a province's things.
    home: str = "c1"
    elsewhere: str = "c2"
    # What the out-of-scope holder gets: 404, or for a bulk import 422 whose refused row is
    # `*_not_found`, exactly as for a unit that does not exist (out of scope looks absent).
    hidden_status: int = 404
