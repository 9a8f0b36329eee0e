"""``GET /events``: the outbox as the caller may see it, by position.

A reader keeps ``next_after`` and asks again: positions are handed out in commit order
(app/outbox), so a position at or below the head is final and no later commit can take a
smaller one. A page is read up to the head observed first, so a reader that got fewer than
``limit`` events may safely jump to that head."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import authz
from app.core.errors import ProblemError, Unprocessable, field_error
from app.core.permissions import Action
from app.core.security import Principal
from app.integration import catalogue
from app.integration.schemas import FeedEvent, FeedPage
from app.outbox import service as outbox


def to_event(item: outbox.Event) -> FeedEvent:
    return FeedEvent(
        position=item.position,
        type=catalogue.event_type(item.entity, item.action),
        occurred_at=item.occurred_at,
        entity=item.entity,
        entity_id=item.entity_id,
        resource=catalogue.resource(item.entity),
        action=item.action,
        version=item.version,
        etag=item.etag,
        unit_id=item.unit_id,
        effective_date=item.effective_date,
        tombstone=item.tombstone,
        link=catalogue.link(item.entity, item.entity_id, item.unit_id),
        detail=item.detail,
    )


def type_filter(types: list[str] | None, loc: list[str | int]) -> catalogue.TypeFilter | None:
    if not types:
        return None
    parsed = catalogue.parse_types([t for part in types for t in part.split(",") if t.strip()])
    if isinstance(parsed, str):
        msg = (
            f"{parsed!r} is not an event type: give an entity (`unit`) or `<entity>.<verb>` with "
            f"a verb among {', '.join(sorted(catalogue.ACTIONS))}."
        )
        raise Unprocessable(
            msg,
            code="feed_type_unknown",
            errors=[field_error(loc, msg, "feed_type_unknown")],
            params={"type": parsed},
        )
    return parsed


def visible_filter(
    principal: Principal | None,
    types: catalogue.TypeFilter | None,
    subtree: uuid.UUID | None,
    national: bool,
    *,
    with_national: bool = False,
) -> outbox.FeedFilter:
    """Events of the types asked for, about units the principal may read events of (national
    events, which have no unit, for everyone), or in ``subtree`` when given; never the private
    entities (accounts, tokens, webhook secrets)."""
    column = outbox.UNIT_COLUMN
    where: list[ColumnElement[bool]] = [
        outbox.ENTITY_COLUMN.not_in(sorted(catalogue.PRIVATE_ENTITIES))
    ]
    if principal is not None:
        scope = authz.scope(principal, Action.EVENTS_READ)
        where.append(or_(column.is_(None), scope.clause(column)))
    if subtree is not None:
        inside = column.in_(authz.subtree_select([subtree]))
        where.append(or_(column.is_(None), inside) if with_national else inside)
    elif not national:
        where.append(column.is_not(None))
    entities = pairs = None
    if types is not None:
        entities = types.entities if types.entities and not types.pairs else None
        pairs = types.pairs if types.pairs and not types.entities else None
        if types.entities and types.pairs:
            # Both kinds asked for: whole entities as (entity, every verb) pairs.
            pairs = types.pairs | {
                (entity, action) for entity in types.entities for action in catalogue.VERBS
            }
    return outbox.FeedFilter(entities=entities, pairs=pairs, where=where)


async def read(
    session: AsyncSession,
    principal: Principal,
    *,
    after: int | None,
    limit: int,
    types: list[str] | None,
    unit_id: uuid.UUID | None,
) -> FeedPage:
    parsed = type_filter(types, ["query", "types"])
    if unit_id is not None:
        await authz.require(session, principal, Action.EVENTS_READ, unit_id=unit_id)
    oldest = await outbox.pruned_through(session)
    # Retention may have removed every event: the head is then the last removed position.
    head = max(await outbox.head(session), oldest)
    start = oldest if after is None else after
    if start < oldest:
        raise ProblemError(
            f"Events after position {start} are no longer kept (retention); the oldest position "
            f"still served is {oldest}. Start again from a sync bundle or `after={oldest}`.",
            code="feed_position_expired",
            status=410,
            params={"after": start, "oldest": oldest},
            extra={"oldest_after": oldest},
        )
    if start > head:
        msg = f"Position {start} is beyond the newest event ({head})."
        raise Unprocessable(
            msg,
            code="feed_position_beyond_head",
            errors=[field_error(["query", "after"], msg, "feed_position_beyond_head")],
            params={"after": start, "head": head},
        )
    where = visible_filter(principal, parsed, unit_id, national=unit_id is None)
    found = await outbox.read_feed(session, start, limit, where, through=head)
    items = [to_event(item) for item in found]
    next_after = items[-1].position if len(items) == limit else head
    return FeedPage(items=items, next_after=next_after, head=head, oldest_after=oldest)


async def prune(session: AsyncSession, retention_days: int) -> int:
    return await outbox.prune(session, timedelta(days=retention_days))
