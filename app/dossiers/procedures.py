"""Recognition procedures as data: which steps a dossier passes, who acts at each, which
documents each needs and what each checks (``data/procedures.json``, or the file
``NTM_DOSSIER_PROCEDURES_FILE`` names). A procedure version is chosen by the unit's level, the
title and the date (18/2022/QĐ-TTg; from 01/07/2025 the district steps are gone, 131/2025/NĐ-CP).

Pure: no database. The steps become a ``TransitionTable`` whose states are the step codes:

    step i  --<step's action>-->  step i+1  (the last step's action ends in ``recognised``)
    step i  --return-->           step i-1  (any step after the first; reasons required)
    step i  --reject-->           rejected  (steps marked ``reject``; reasons required)
    step i  --withdraw-->         withdrawn (any step; the applying unit's actors)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from app.core.lifecycle import Transition, TransitionTable
from app.core.permissions import Action, Role
from app.models.enums import (
    DossierAction,
    DossierDocumentType,
    DossierStatus,
    PreconditionKind,
    Title,
    UnitLevel,
)

BUNDLED = Path(__file__).parent / "data" / "procedures.json"
NATIONAL = "national"
ENTITY = "dossier"
# A step code plus the procedure code: what an appraiser's role assignment names.
STEP_SEPARATOR = "/"

# The right a role's action at a step needs (app.core.permissions), for the coarse route check
# and the 403 of a caller without it.
_ROLE_ACTION: Mapping[Role, Action] = {
    Role.COMMUNE_OFFICER: Action.DOSSIERS_WRITE,
    Role.DISTRICT_OFFICER: Action.DOSSIERS_WRITE,
    Role.PROVINCE_COORDINATOR: Action.DOSSIERS_WRITE,
    Role.APPRAISER: Action.DOSSIERS_APPRAISE,
    Role.DECISION_MAKER: Action.DOSSIERS_DECIDE,
}
# Actions that need reasons (DOMAIN.md §4: "any step can return the dossier … with reasons").
REASONED = frozenset({DossierAction.RETURN, DossierAction.REJECT})


class ProcedureError(ValueError):
    """The procedures file is not valid."""


@dataclass(frozen=True)
class Actor:
    role: Role
    level: str  # a UnitLevel, or "national"

    def as_dict(self) -> dict[str, str]:
        return {"role": str(self.role), "level": self.level}


@dataclass(frozen=True)
class Step:
    code: DossierStatus
    name: Mapping[str, str]
    action: DossierAction
    actors: tuple[Actor, ...]
    documents: tuple[DossierDocumentType, ...] = ()
    checks: tuple[PreconditionKind, ...] = ()
    votes: bool = False
    override: bool = False
    reject: bool = False
    decision: bool = False
    # Configuration: null unless a province or an administrator enters it with its source.
    duration_days: int | None = None
    duration_note: str | None = None

    @property
    def permission(self) -> Action:
        return _ROLE_ACTION[self.actors[0].role]


@dataclass(frozen=True)
class Procedure:
    code: str
    name: Mapping[str, str]
    level: UnitLevel
    titles: tuple[Title, ...]
    valid_from: date | None
    valid_to: date | None
    legal_basis: tuple[str, ...]
    steps: tuple[Step, ...]
    table: TransitionTable[DossierStatus] = field(repr=False, compare=False)

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )

    def step(self, status: DossierStatus) -> Step | None:
        for step in self.steps:
            if step.code == status:
                return step
        return None

    @property
    def first(self) -> Step:
        return self.steps[0]

    def step_ref(self, step: Step) -> str:
        return f"{self.code}{STEP_SEPARATOR}{step.code}"


def _table(steps: Sequence[Step]) -> TransitionTable[DossierStatus]:
    transitions: list[Transition[DossierStatus]] = []
    for index, step in enumerate(steps):
        following = steps[index + 1].code if index + 1 < len(steps) else DossierStatus.RECOGNISED
        transitions.append(
            Transition(step.code, step.action, following, step.permission, str(step.action))
        )
        if index > 0:
            transitions.append(
                Transition(
                    step.code,
                    DossierAction.RETURN,
                    steps[index - 1].code,
                    step.permission,
                    str(DossierAction.RETURN),
                )
            )
        if step.reject:
            transitions.append(
                Transition(
                    step.code,
                    DossierAction.REJECT,
                    DossierStatus.REJECTED,
                    step.permission,
                    str(DossierAction.REJECT),
                )
            )
        transitions.append(
            Transition(
                step.code,
                DossierAction.WITHDRAW,
                DossierStatus.WITHDRAWN,
                steps[0].permission,
                str(DossierAction.WITHDRAW),
            )
        )
    return TransitionTable(ENTITY, transitions)


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _step(raw: Mapping[str, Any]) -> Step:
    actors = tuple(Actor(Role(a["role"]), str(a["level"])) for a in raw["actors"])
    for actor in actors:
        if actor.level != NATIONAL:
            UnitLevel(actor.level)
        if actor.role not in _ROLE_ACTION:
            raise ProcedureError(f"step {raw['code']}: {actor.role} cannot act on dossiers")
    if not actors:
        raise ProcedureError(f"step {raw['code']}: no actors")
    duration = raw.get("duration_days")
    if duration is not None and (not isinstance(duration, int) or duration < 0):
        raise ProcedureError(f"step {raw['code']}: duration_days must be a whole number of days")
    return Step(
        code=DossierStatus(raw["code"]),
        name=dict(raw.get("name") or {}),
        action=DossierAction(raw["action"]),
        actors=actors,
        documents=tuple(DossierDocumentType(d) for d in raw.get("documents", [])),
        checks=tuple(PreconditionKind(c) for c in raw.get("checks", [])),
        votes=bool(raw.get("votes", False)),
        override=bool(raw.get("override", False)),
        reject=bool(raw.get("reject", False)),
        decision=bool(raw.get("decision", False)),
        duration_days=duration,
        duration_note=raw.get("duration_note"),
    )


@dataclass(frozen=True)
class TitlePrerequisite:
    """A title a unit (``of`` = ``unit``) or every commune under it (``communes``) must hold on
    the day the title is granted."""

    title: Title
    requires: Title
    of: str
    source: str


@dataclass(frozen=True)
class Catalogue:
    procedures: tuple[Procedure, ...]
    prerequisites: tuple[TitlePrerequisite, ...]

    def prerequisites_of(self, title: str) -> tuple[TitlePrerequisite, ...]:
        return tuple(p for p in self.prerequisites if p.title == title)


def parse(document: Mapping[str, Any]) -> Catalogue:
    out: list[Procedure] = []
    for raw in document["procedures"]:
        try:
            steps = tuple(_step(s) for s in raw["steps"])
        except (KeyError, ValueError) as exc:
            raise ProcedureError(f"procedure {raw.get('code')}: {exc}") from exc
        if not steps or steps[0].code != DossierStatus.DRAFT:
            raise ProcedureError(f"procedure {raw['code']}: the first step is draft")
        if steps[-1].action != DossierAction.RECOGNISE or not steps[-1].decision:
            raise ProcedureError(f"procedure {raw['code']}: the last step recognises")
        if len({s.code for s in steps}) != len(steps) or any(s.code.is_final for s in steps):
            raise ProcedureError(f"procedure {raw['code']}: step codes repeat or end it")
        out.append(
            Procedure(
                code=str(raw["code"]),
                name=dict(raw.get("name") or {}),
                level=UnitLevel(raw["level"]),
                titles=tuple(Title(t) for t in raw["titles"]),
                valid_from=_date(raw.get("valid_from")),
                valid_to=_date(raw.get("valid_to")),
                legal_basis=tuple(raw.get("legal_basis", [])),
                steps=steps,
                table=_table(steps),
            )
        )
    if len({p.code for p in out}) != len(out):
        raise ProcedureError("two procedures share a code")
    prerequisites = []
    for raw in document.get("title_prerequisites", []):
        if raw["of"] not in ("unit", "communes"):
            raise ProcedureError(f"title prerequisite of {raw['of']}: unit or communes")
        prerequisites.append(
            TitlePrerequisite(
                Title(raw["title"]), Title(raw["requires"]), raw["of"], str(raw.get("source", ""))
            )
        )
    return Catalogue(tuple(out), tuple(prerequisites))


@cache
def load(path: Path = BUNDLED) -> Catalogue:
    return parse(json.loads(path.read_text(encoding="utf-8")))


def by_code(procedures: Sequence[Procedure], code: str) -> Procedure | None:
    return next((p for p in procedures if p.code == code), None)


def applicable(
    procedures: Sequence[Procedure], level: str, title: str, day: date
) -> Procedure | None:
    """The procedure in force on ``day`` for a title of a unit of ``level``."""
    for procedure in procedures:
        if procedure.level == level and title in procedure.titles and procedure.applies_on(day):
            return procedure
    return None


def step_refs(procedures: Sequence[Procedure]) -> list[str]:
    """Every step an appraisal role assignment may name: ``<procedure>/<step>``."""
    return [p.step_ref(s) for p in procedures for s in p.steps]
