"""Writes: create and import documents, edit drafts, publish, retire, derive, add indicators and
replace thresholds. Each write follows the write pattern (CONTRIBUTING.md): the set is locked,
the caller authorised over its scope and ``If-Match`` checked against its ``version`` before
anything is written; then the write bumps the version and appends an audit record. Nothing here
commits.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core import authz
from app.core.errors import Conflict, NotFound, Unprocessable, field_error
from app.core.http import require_match
from app.core.lifecycle import Transition, TransitionTable
from app.core.permissions import Action
from app.core.security import Principal
from app.criteria import repository
from app.criteria.document import (
    CriteriaSetDocument,
    IndicatorDocument,
    LegalBasis,
    Name,
    Period,
    ProvinceScope,
    Threshold,
)
from app.criteria.service import reading
from app.criteria.service.persistence import current_flags, document_of
from app.criteria.service.preparation import Prepared, parse_document, prepare, write
from app.criteria.service.reading import build_tree, etag, may_read, not_found
from app.criteria.thresholds import unpublishable
from app.criteria.tree import Row, Tree, export_document, indicator_document
from app.criteria.validation import raise_if, threshold_errors
from app.db.types import utcnow
from app.models.enums import AuditAction, CriteriaSetAction, CriteriaSetStatus

ENTITY = "criteria_set"


def _not_editable(head: Row) -> Conflict:
    if head["status"] == CriteriaSetStatus.PUBLISHED:
        return Conflict(
            f"{head['code']} is published and can no longer change; derive a new set or "
            "create a new version instead.",
            code="criteria_set_published",
            params={"code": head["code"]},
        )
    return Conflict(
        f"{head['code']} is retired and can no longer change.", code="criteria_set_retired"
    )


def _refuse(state: str, action: str, allowed: list[str], label: str | None) -> Conflict:
    if action == CriteriaSetAction.RETIRE and state == CriteriaSetStatus.DRAFT:
        return Conflict(
            f"{label} is a draft: only a published set can be retired.",
            code="criteria_set_not_published",
        )
    if action == CriteriaSetAction.RETIRE and state == CriteriaSetStatus.RETIRED:
        return Conflict(f"{label} is already retired.", code="criteria_set_retired")
    return _not_editable({"status": state, "code": label})


# draft → published (immutable from then on) → retired.
LIFECYCLE: TransitionTable[str] = TransitionTable(
    ENTITY,
    [
        Transition(
            CriteriaSetStatus.DRAFT,
            CriteriaSetAction.PUBLISH,
            CriteriaSetStatus.PUBLISHED,
            Action.CRITERIA_WRITE,
            AuditAction.PUBLISH,
        ),
        Transition(
            CriteriaSetStatus.PUBLISHED,
            CriteriaSetAction.RETIRE,
            CriteriaSetStatus.RETIRED,
            Action.CRITERIA_WRITE,
            AuditAction.RETIRE,
        ),
    ],
    refuse=_refuse,
)


async def _authorise(
    session: AsyncSession,
    principal: Principal | None,
    scope_unit_id: uuid.UUID | None,
    set_id: uuid.UUID | None = None,
) -> None:
    """``criteria:write`` over the set's scope (a province's subtree; None: national). An
    existing set outside every scope of the caller is 404, as if absent; a new one names its
    scope unit. ``principal`` None: the system itself (seeding)."""
    if principal is None:
        return
    if set_id is not None:
        await authz.require(
            session,
            principal,
            Action.CRITERIA_WRITE,
            unit_id=scope_unit_id,
            missing=not_found(set_id),
        )
        return
    await authz.require(
        session,
        principal,
        Action.CRITERIA_WRITE,
        unit_id=scope_unit_id,
        entity="unit",
        entity_id=scope_unit_id,
    )


async def _locked(session: AsyncSession, set_id: uuid.UUID, principal: Principal | None) -> Row:
    """The write pattern's first steps: the head locked ``FOR UPDATE``, then the caller
    authorised over its scope, before anything is written."""
    reading.forget(set_id)
    head = await repository.lock_head(session, set_id)
    if head is None:
        raise not_found(set_id)
    await _authorise(session, principal, head["scope_unit_id"], set_id)
    return head


def _match(if_match: str | None, head: Row) -> None:
    require_match(if_match, etag(head), what=f"Criteria set {head['code']}")


async def _draft(
    session: AsyncSession, set_id: uuid.UUID, principal: Principal | None, if_match: str | None
) -> Tree:
    head = await _locked(session, set_id, principal)
    if head["status"] != CriteriaSetStatus.DRAFT:
        raise _not_editable(head)
    _match(if_match, head)
    return await build_tree(session, head)


async def _reload(session: AsyncSession, set_id: uuid.UUID) -> Tree:
    head = await repository.get_head(session, set_id)
    assert head is not None
    return await build_tree(session, head)


async def _audit(
    session: AsyncSession,
    context: AuditContext,
    tree: Tree,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await record(
        session,
        context,
        entity=ENTITY,
        entity_id=tree.head["id"],
        action=action,
        before=before,
        after=after,
        unit_id=tree.head["scope_unit_id"],
    )


async def create(
    session: AsyncSession,
    context: AuditContext,
    doc: CriteriaSetDocument,
    *,
    set_id: uuid.UUID | None = None,
    action: str = AuditAction.CREATE,
    principal: Principal | None = None,
) -> tuple[Tree, bool]:
    """A new draft from a whole document; ``(tree, created)``. Repeating a create is no error."""
    if set_id is not None:
        existing = await repository.get_head(session, set_id)
        if existing is not None:
            await _authorise(session, principal, existing["scope_unit_id"], set_id)
            tree = await build_tree(session, existing)
            if _same_content(document_of(tree), doc):
                return tree, False
            raise Conflict(
                f"A criteria set with id {set_id} already exists with other content.",
                code="criteria_set_exists",
            )
    prepared = await prepare(session, doc)
    await _authorise(session, principal, prepared.scope_unit_id)
    new_id = await write(session, prepared, now=utcnow(), new_id=set_id)
    tree = await _reload(session, new_id)
    await _audit(session, context, tree, action, after=export_document(tree))
    return tree, True


def _same_content(current: CriteriaSetDocument, doc: CriteriaSetDocument) -> bool:
    exclude = {"scope"}
    return (
        current.model_dump(mode="json", exclude=exclude)
        == doc.model_dump(mode="json", exclude=exclude)
        and current.scope.kind == doc.scope.kind
    )


async def check_import(
    session: AsyncSession, doc: CriteriaSetDocument, principal: Principal | None = None
) -> Prepared:
    """Every check of an import, without writing (``dry_run``), authorisation included: a dry
    run is refused exactly as the real run would be."""
    prepared = await prepare(session, doc)
    await _authorise(session, principal, prepared.scope_unit_id)
    return prepared


async def update(
    session: AsyncSession,
    context: AuditContext,
    set_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None,
    principal: Principal | None = None,
) -> Tree:
    """PATCH: each top-level key given replaces that part of the draft's document."""
    tree = await _draft(session, set_id, principal, if_match)
    before = export_document(tree)
    doc = parse_document({**before, **changes})
    own = None if "criteria" in changes else current_flags(tree)
    prepared = await prepare(session, doc, head=tree.head, own=own)
    await write(session, prepared, now=utcnow(), head=tree.head)
    updated = await _reload(session, set_id)
    await _audit(session, context, updated, AuditAction.UPDATE, before=before, after=changes)
    return updated


async def _transition(
    session: AsyncSession,
    context: AuditContext,
    set_id: uuid.UUID,
    action: str,
    if_match: str | None,
    principal: Principal | None,
) -> Tree:
    """Publish or retire: the lifecycle table decides; the set's content does not change."""
    head = await _locked(session, set_id, principal)
    transition = LIFECYCLE.find(head["status"], action, label=head["code"])
    if transition.permission != Action.CRITERIA_WRITE and principal is not None:
        await authz.require(
            session,
            principal,
            transition.permission,
            unit_id=head["scope_unit_id"],
            missing=not_found(set_id),
        )
    _match(if_match, head)
    tree = await build_tree(session, head)
    now = utcnow()
    changes: dict[str, Any] = {"status": transition.target, "updated_at": now}
    if transition.target == CriteriaSetStatus.PUBLISHED:
        doc = document_of(tree)
        own = (
            {row["code"] for row in tree.indicators() if not row["inherited"]}
            if tree.derived
            else None
        )
        raise_if(unpublishable(doc, own))
        changes["published_at"] = now
    else:
        changes["retired_at"] = now
    changes["version"] = head["version"] + 1
    await repository.update_set(session, set_id, changes)
    changed = await _reload(session, set_id)
    await _audit(
        session,
        context,
        changed,
        transition.audit_action,
        before={"status": transition.source},
        after={"status": transition.target, "version": changed.head["version"]},
    )
    return changed


async def publish(
    session: AsyncSession,
    context: AuditContext,
    set_id: uuid.UUID,
    if_match: str | None,
    principal: Principal | None = None,
) -> Tree:
    return await _transition(session, context, set_id, "publish", if_match, principal)


async def retire(
    session: AsyncSession,
    context: AuditContext,
    set_id: uuid.UUID,
    if_match: str | None,
    principal: Principal | None = None,
) -> Tree:
    return await _transition(session, context, set_id, "retire", if_match, principal)


async def derive(
    session: AsyncSession,
    context: AuditContext,
    parent_id: uuid.UUID,
    *,
    code: str,
    name: Name,
    legal_basis: LegalBasis,
    unit_id: uuid.UUID | None,
    unit_code: str | None,
    as_of: date | None,
    period: Period | None,
    set_id: uuid.UUID | None = None,
    principal: Principal | None = None,
) -> tuple[Tree, bool]:
    """A province's draft specification of a published set: a copy that inherits everything."""
    parent_head = await repository.get_head(session, parent_id)
    # A draft the caller may not read does not exist for them: the same 404 as GET, never a
    # 409 that names it.
    if parent_head is None or not await may_read(session, principal, parent_head):
        raise not_found(parent_id)
    if parent_head["status"] != CriteriaSetStatus.PUBLISHED:
        raise Conflict(
            f"{parent_head['code']} is {parent_head['status']}: only a published set can be "
            "derived from.",
            code="criteria_set_not_published",
        )
    parent = await build_tree(session, parent_head)
    base = export_document(parent)
    scope = ProvinceScope(kind="province", unit_id=unit_id, unit_code=unit_code, as_of=as_of)
    doc = parse_document(
        {
            **base,
            "code": code,
            "name": name.model_dump(mode="json"),
            "legal_basis": legal_basis.model_dump(mode="json"),
            "scope": scope.model_dump(mode="json", exclude_none=True),
            "period": period.model_dump(mode="json") if period else base["period"],
            "derived_from": parent_head["code"],
            "amends": None,
        }
    )
    if set_id is not None:
        existing = await repository.get_head(session, set_id)
        if existing is not None:
            await _authorise(session, principal, existing["scope_unit_id"], set_id)
            tree = await build_tree(session, existing)
            if tree.head["derived_from_id"] == parent_id and tree.head["code"] == code:
                return tree, False
            raise Conflict(
                f"A criteria set with id {set_id} already exists with other content.",
                code="criteria_set_exists",
            )
    inherited = {row["code"]: [False] * len(row["thresholds"]) for row in parent.indicators()}
    prepared = await prepare(session, doc, own=inherited)
    await _authorise(session, principal, prepared.scope_unit_id)
    new_id = await write(session, prepared, now=utcnow(), new_id=set_id)
    tree = await _reload(session, new_id)
    await _audit(
        session,
        context,
        tree,
        AuditAction.CREATE,
        after={
            "derived_from": parent_head["code"],
            "code": code,
            "scope": doc.scope.model_dump(mode="json"),
        },
    )
    return tree, True


def _find_indicator(doc: CriteriaSetDocument, code: str) -> tuple[int, int] | None:
    for i, criterion in enumerate(doc.criteria):
        for j, indicator in enumerate(criterion.indicators):
            if indicator.code == code:
                return i, j
    return None


async def add_indicator(
    session: AsyncSession,
    context: AuditContext,
    set_id: uuid.UUID,
    criterion_number: int,
    indicator: IndicatorDocument,
    if_match: str | None,
    principal: Principal | None = None,
) -> Tree:
    tree = await _draft(session, set_id, principal, if_match)
    doc = document_of(tree)
    position = next((i for i, c in enumerate(doc.criteria) if c.number == criterion_number), None)
    if position is None:
        raise Unprocessable(
            f"Criterion {criterion_number} is not in {doc.code}.",
            code="unknown_criterion",
            errors=[field_error(["body", "criterion"], "no such criterion", "unknown_criterion")],
        )
    if _find_indicator(doc, indicator.code) is not None:
        raise Conflict(
            f"Indicator {indicator.code} is already in {doc.code}.",
            code="duplicate_indicator_code",
            errors=[
                field_error(["body", "code"], "already in the set", "duplicate_indicator_code")
            ],
        )
    criterion = doc.criteria[position]
    criteria = list(doc.criteria)
    criteria[position] = criterion.model_copy(
        update={"indicators": [*criterion.indicators, indicator]}
    )
    own = current_flags(tree)
    own[indicator.code] = [True] * len(indicator.thresholds)
    changed = doc.model_copy(update={"criteria": criteria})
    prepared = await prepare(session, changed, head=tree.head, own=own)
    await write(session, prepared, now=utcnow(), head=tree.head)
    updated = await _reload(session, set_id)
    await _audit(
        session,
        context,
        updated,
        AuditAction.UPDATE,
        after={"indicator_added": indicator.model_dump(mode="json"), "criterion": criterion_number},
    )
    return updated


async def replace_thresholds(
    session: AsyncSession,
    context: AuditContext,
    set_id: uuid.UUID,
    code: str,
    thresholds: list[Threshold],
    if_match: str | None,
    principal: Principal | None = None,
) -> Tree:
    """The set's own thresholds of one indicator. In a derived set these are the province's
    values; the inherited ones stay underneath and still apply where no own value matches."""
    tree = await _draft(session, set_id, principal, if_match)
    doc = document_of(tree)
    found = _find_indicator(doc, code)
    if found is None:
        raise NotFound(f"Indicator {code} is not in {doc.code}.", code="indicator_not_found")
    i, j = found
    indicator = doc.criteria[i].indicators[j]
    raise_if(
        threshold_errors(
            indicator,
            thresholds,
            ["body", "thresholds"],
            period=(doc.period.start_year, doc.period.end_year),
            sources={s.id for s in doc.sources},
        )
    )
    row = next(r for r in tree.indicators() if r["code"] == code)
    before = indicator_document(row)["thresholds"]
    own = current_flags(tree)
    kept = [t for t, mine in zip(indicator.thresholds, own[code], strict=True) if not mine]
    if not tree.derived:
        kept = []
    own[code] = [False] * len(kept) + [True] * len(thresholds)
    criteria = list(doc.criteria)
    indicators = list(criteria[i].indicators)
    indicators[j] = indicator.model_copy(update={"thresholds": [*kept, *thresholds]})
    criteria[i] = criteria[i].model_copy(update={"indicators": indicators})
    prepared = await prepare(
        session, doc.model_copy(update={"criteria": criteria}), head=tree.head, own=own
    )
    await write(session, prepared, now=utcnow(), head=tree.head)
    updated = await _reload(session, set_id)
    await _audit(
        session,
        context,
        updated,
        AuditAction.UPDATE,
        before={"indicator": code, "thresholds": before},
        after={
            "indicator": code,
            "thresholds": [t.model_dump(mode="json", exclude_none=True) for t in thresholds],
        },
    )
    return updated


async def store_bundled(
    session: AsyncSession, context: AuditContext, doc: CriteriaSetDocument, checksum: str
) -> str:
    """Load a bundled reference document as a published national set: ``created``,
    ``updated`` (the bundle was re-issued) or ``unchanged``.

    Bundled documents record what public sources say, gaps included; they are not held to the
    publication check (their gaps are listed in ``missing``).
    """
    if doc.scope.kind != "national":
        raise ValueError(f"bundled criteria set {doc.code} is not national")
    head = await repository.get_by_code(session, doc.code)
    if head is None:
        prepared = await prepare(session, doc)
        new_id = await write(
            session,
            prepared,
            now=utcnow(),
            status=CriteriaSetStatus.PUBLISHED,
            bundled_checksum=checksum,
        )
        tree = await _reload(session, new_id)
        await _audit(session, context, tree, AuditAction.CREATE, after=export_document(tree))
        return "created"
    if head["bundled_checksum"] is None:
        raise ValueError(
            f"criteria set {doc.code} exists and was not loaded from the bundle; rename one of them"
        )
    if head["bundled_checksum"] == checksum:
        return "unchanged"
    reading.forget(head["id"])
    before = export_document(await build_tree(session, head))
    prepared = await prepare(session, doc, head=head)
    await write(session, prepared, now=utcnow(), head=head, bundled_checksum=checksum)
    tree = await _reload(session, head["id"])
    after = export_document(tree)
    await _audit(session, context, tree, AuditAction.UPDATE, before=before, after=after)
    return "updated"
