"""Carry-over of titles after a merger (267/BNN-VPĐP of 09/01/2024).

When a merge creates a unit (or extends an existing one), the titles its predecessors held the
day before the merger decide what the new unit may receive without a new dossier:

- every predecessor held a title of the level's ladder: the provincial chairman may recognise
  the new unit at the **lowest common** title (model + model → model; model + advanced →
  advanced); where they differed, the title above it must go through the procedure
  (model + advanced → build model; model + NTM → build advanced);
- some predecessor held none: nothing is carried, and the new unit must go through the procedure
  from the first title (model + non-NTM → build NTM).

An extended unit counts among the predecessors with its own titles. A predecessor that gave
only a part of itself (``partly``) counts too, flagged as such: the reviewer sees it. Proposals
are computed on read and become a recognition (source ``carry_over``) only when a provincial
user confirms one with a decision. The predecessors' recognitions stay on them as history.
After the 2025 reform provinces re-assessed rather than inherited (DOMAIN.md §5): a proposal is
never applied on its own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext
from app.core import authz
from app.core.clock import today
from app.core.permissions import Action
from app.core.security import Principal
from app.db.intervals import ONE_DAY, Period
from app.models.enums import CarryOverOutcome, RecognitionSource, Title
from app.recognitions import query as register
from app.recognitions import repository as repo
from app.recognitions.schemas import (
    CarryOverConfirm,
    CarryOverPredecessor,
    CarryOverProposal,
    HeldRecognition,
    RecognitionOut,
)
from app.recognitions.service import Grant, grant, invalid
from app.recognitions.titles import highest, ladder_at
from app.units import query as units


async def proposals(
    session: AsyncSession,
    *,
    principal: Principal | None,
    within: uuid.UUID | None = None,
    effective: date | None = None,
    event_id: uuid.UUID | None = None,
) -> list[CarryOverProposal]:
    """The proposals of the merges (on ``effective`` if given) whose new unit lies under
    ``within``, for the units the caller may read; set-based: one read of links, one of the
    map and one of the register per distinct merger date."""
    links = await units.merge_links(
        session,
        period=Period.on(effective) if effective is not None else None,
        within=within,
        event_id=event_id,
        day=effective or today(),
    )
    visible = (
        await authz.scope(principal, Action.RECOGNITIONS_READ).unit_ids(session)
        if principal is not None
        else None
    )
    merges: dict[tuple[uuid.UUID, uuid.UUID], list[units.MergeLink]] = defaultdict(list)
    for link in links:
        if visible is None or link.successor_id in visible:
            merges[(link.event_id, link.successor_id)].append(link)
    by_day: dict[date, set[uuid.UUID]] = defaultdict(set)
    for (_, successor), parts in merges.items():
        by_day[parts[0].effective_date].update({successor, *(p.predecessor_id for p in parts)})
    found: list[CarryOverProposal] = []
    confirmed = await repo.carried_over(session, list(merges))
    for day, ids in sorted(by_day.items()):
        before = day - ONE_DAY
        existed = await units.versions_on(session, ids, before)
        now = await units.versions_on(session, ids, day)
        held = await register.recognitions_held(session, ids, before)
        held_by_unit: dict[uuid.UUID, list[register.HeldTitle]] = defaultdict(list)
        for item in held:
            held_by_unit[item.unit_id].append(item)
        for (event, successor), parts in merges.items():
            if parts[0].effective_date != day:
                continue
            proposal = _proposal(
                event,
                successor,
                parts,
                existed,
                now,
                held_by_unit,
                confirmed.get((event, successor)),
            )
            if proposal is not None:
                found.append(proposal)
    return found


def _proposal(
    event: uuid.UUID,
    successor: uuid.UUID,
    parts: list[units.MergeLink],
    existed: dict[uuid.UUID, units.DatedUnit],
    now: dict[uuid.UUID, units.DatedUnit],
    held: dict[uuid.UUID, list[register.HeldTitle]],
    confirmed: uuid.UUID | None,
) -> CarryOverProposal | None:
    unit = now.get(successor)
    ladder = ladder_at(unit.level) if unit is not None else None
    if unit is None or ladder is None:
        return None
    members: list[tuple[uuid.UUID, bool]] = [(p.predecessor_id, p.partly) for p in parts]
    extended = successor in existed
    if extended:
        members.insert(0, (successor, False))
    predecessors = []
    tops: list[Title | None] = []
    for member, partly in members:
        titles = held.get(member, [])
        top = highest([t.title for t in titles], ladder)
        tops.append(top)
        version = existed.get(member)
        predecessors.append(
            CarryOverPredecessor(
                unit_id=member,
                code=version.code if version else None,
                name=version.name if version else None,
                partly=partly,
                is_successor=member == successor,
                highest_title=top,
                recognitions=[
                    HeldRecognition(
                        id=t.recognition_id,
                        title=t.title,
                        year_for=t.year_for,
                        decision_number=t.decision_number,
                        decision_date=t.decision_date,
                    )
                    for t in titles
                    if t.title in ladder
                ],
            )
        )
    if all(top is None for top in tops):
        return None
    ranks = [ladder.index(top) for top in tops if top is not None]
    if len(ranks) == len(tops):
        carried: Title | None = ladder[min(ranks)]
        outcome = CarryOverOutcome.CARRY_OVER
        mixed = max(ranks) > min(ranks)
        procedure = ladder[min(ranks) + 1] if mixed else None
    else:
        carried = None
        outcome = CarryOverOutcome.PROCEDURE_REQUIRED
        procedure = ladder[0]
    first = parts[0]
    return CarryOverProposal(
        unit_event_id=event,
        effective_date=first.effective_date,
        legal_basis_number=first.legal_basis_number,
        unit_id=successor,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        extended=extended,
        outcome=outcome,
        title=carried,
        procedure_title=procedure,
        predecessors=predecessors,
        confirmed_recognition_id=confirmed,
    )


async def confirm(
    session: AsyncSession,
    context: AuditContext,
    principal: Principal | None,
    body: CarryOverConfirm,
) -> RecognitionOut:
    """Record the provincial decision that confirms a proposal: a recognition with source
    ``carry_over`` resting on the predecessors' recognitions."""
    if principal is not None:
        await authz.require(
            session,
            principal,
            Action.RECOGNITIONS_WRITE,
            unit_id=body.unit_id,
            entity_id=body.unit_id,
        )
    found = [
        p
        for p in await proposals(session, principal=None, event_id=body.unit_event_id)
        if p.unit_id == body.unit_id
    ]
    if not found or found[0].outcome != CarryOverOutcome.CARRY_OVER or found[0].title is None:
        raise invalid(
            ("body", "unit_event_id"),
            "carry_over_not_proposed",
            f"The merge {body.unit_event_id} proposes no title to carry over to unit "
            f"{body.unit_id}: the predecessors did not all hold one.",
        )
    proposal = found[0]
    if body.title != proposal.title:
        raise invalid(
            ("body", "title"),
            "carry_over_title_mismatch",
            f"The merge proposes {proposal.title}, the lowest title every predecessor held.",
        )
    if body.decision_date < proposal.effective_date:
        raise invalid(
            ("body", "decision_date"),
            "decision_before_merger",
            f"The decision cannot precede the merger of {proposal.effective_date.isoformat()}.",
        )
    rank = {title: i for i, title in enumerate(ladder_at(proposal.level) or ())}
    basis = tuple(
        recognition.id
        for predecessor in proposal.predecessors
        for recognition in predecessor.recognitions
        if rank[recognition.title] >= rank[proposal.title]
    )
    recognition, _ = await grant(
        session,
        context=context,
        principal=None,
        grant=Grant(
            unit_id=body.unit_id,
            title=body.title,
            year_for=body.year_for,
            decision_number=body.decision_number,
            decision_date=body.decision_date,
            signer=body.signer,
            issuing_unit_id=body.issuing_unit_id,
            issuing_body=body.issuing_body,
            note=body.note,
            source=RecognitionSource.CARRY_OVER,
            unit_event_id=body.unit_event_id,
            carried_from=basis,
        ),
    )
    return recognition
