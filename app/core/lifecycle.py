"""Lifecycle transition tables: which action leads from which state to which, with the right it
needs and the audit action it records.

One table per lifecycle (assessments, criteria sets; dossiers and plans next), declared as data
next to the feature's service. The service loads the row ``FOR UPDATE``, authorises the caller
for the entity, asks the table for the transition (409 when the action is not allowed from the
current state, listing the ones that are), checks the transition's own permission, writes and
records ``transition.audit_action``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.core.errors import Conflict, ProblemError
from app.core.permissions import Action

# A lifecycle's states: a StrEnum of the domain (plain strings work too).
S = TypeVar("S", bound=str)


@dataclass(frozen=True)
class Transition(Generic[S]):
    source: S
    action: str
    target: S
    permission: Action
    audit_action: str


# (state, attempted action, actions allowed from that state, label of the entity or None) → the
# error to raise; for codes a feature already promised its clients (``criteria_set_published``).
Refusal = Callable[[S, str, list[str], str | None], ProblemError]


class TransitionTable(Generic[S]):
    """The transitions of one lifecycle. ``entity`` names the default error code:
    409 ``<entity>_transition_not_allowed`` with ``allowed`` (the actions possible from the
    current state)."""

    def __init__(
        self,
        entity: str,
        transitions: Iterable[Transition[S]],
        *,
        refuse: Refusal[S] | None = None,
    ) -> None:
        self.entity = entity
        self.transitions: tuple[Transition[S], ...] = tuple(transitions)
        keys = [(t.source, t.action) for t in self.transitions]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{entity}: two transitions share a state and an action")
        self._refuse = refuse

    def actions_from(self, state: S) -> list[str]:
        return [t.action for t in self.transitions if t.source == state]

    def targets_from(self, state: S) -> list[S]:
        return [t.target for t in self.transitions if t.source == state]

    def find(self, state: S, action: str, *, label: str | None = None) -> Transition[S]:
        """The transition ``action`` makes from ``state``; 409 when there is none. ``label``
        names the entity in the error (e.g. its code)."""
        for transition in self.transitions:
            if transition.source == state and transition.action == action:
                return transition
        raise self._refusal(state, action, self.actions_from(state), label)

    def leading_to(self, state: S, target: S, *, label: str | None = None) -> Transition[S]:
        """The transition from ``state`` to ``target`` (for APIs that send the new state rather
        than an action); 409 listing the states reachable from ``state``."""
        for transition in self.transitions:
            if transition.source == state and transition.target == target:
                return transition
        raise self._refusal(state, str(target), [str(t) for t in self.targets_from(state)], label)

    async def allowed_actions(
        self, state: S, may: Callable[[Action], Awaitable[bool]]
    ) -> list[str]:
        """The actions from ``state`` the caller may take: ``may(permission)`` answers for the
        entity at hand (e.g. ``authz.allows`` over its unit)."""
        return [t.action for t in self.transitions if t.source == state and await may(t.permission)]

    def _refusal(
        self, state: S, attempted: str, allowed: list[str], label: str | None
    ) -> ProblemError:
        if self._refuse is not None:
            return self._refuse(state, attempted, allowed, label)
        subject = label or f"The {self.entity.replace('_', ' ')}"
        return Conflict(
            f"{subject} is {state} and does not allow {attempted}; "
            f"allowed: {', '.join(allowed) or 'nothing'}.",
            code=f"{self.entity}_transition_not_allowed",
            extra={"allowed": sorted(allowed)},
        )
