"""The shared lifecycle table (app.core.lifecycle), as the assessment lifecycle declares it."""

from __future__ import annotations

import pytest

from app.assessments.service.assessments import LIFECYCLE
from app.core.errors import Conflict
from app.core.lifecycle import Transition, TransitionTable
from app.core.permissions import Action
from app.models.assessments import AssessmentStatus as S


def test_find_and_leading_to_name_the_same_transition() -> None:
    lock = LIFECYCLE.find(S.SUBMITTED, "lock")
    assert lock == LIFECYCLE.leading_to(S.SUBMITTED, S.LOCKED)
    assert (lock.target, lock.permission) == (S.LOCKED, Action.ASSESSMENTS_REVIEW)
    assert LIFECYCLE.actions_from(S.SUBMITTED) == ["return", "lock"]
    assert LIFECYCLE.actions_from(S.LOCKED) == []


def test_a_refused_transition_is_409_listing_what_is_allowed() -> None:
    with pytest.raises(Conflict) as skipped:
        LIFECYCLE.leading_to(S.DRAFT, S.LOCKED)
    assert skipped.value.code == "assessment_transition_not_allowed"
    assert skipped.value.extra == {"allowed": ["submitted"]}
    with pytest.raises(Conflict) as locked:
        LIFECYCLE.find(S.LOCKED, "return")
    assert locked.value.code == "assessment_locked"


async def test_allowed_actions_follow_the_callers_rights() -> None:
    async def writer_only(action: Action) -> bool:
        return action == Action.ASSESSMENTS_WRITE

    async def reviewer(_action: Action) -> bool:
        return True

    assert await LIFECYCLE.allowed_actions(S.SUBMITTED, writer_only) == ["return"]
    assert await LIFECYCLE.allowed_actions(S.SUBMITTED, reviewer) == ["return", "lock"]


def test_the_default_refusal_and_a_table_without_duplicates() -> None:
    table = TransitionTable(
        "dossier",
        [Transition("draft", "submit", "submitted", Action.DOSSIERS_WRITE, "update")],
    )
    with pytest.raises(Conflict) as refused:
        table.find("submitted", "submit", label="Dossier X")
    assert refused.value.code == "dossier_transition_not_allowed"
    assert refused.value.extra == {"allowed": []}
    assert "Dossier X" in refused.value.detail
    with pytest.raises(ValueError, match="share a state and an action"):
        TransitionTable(
            "dossier",
            [
                Transition("draft", "submit", "submitted", Action.DOSSIERS_WRITE, "update"),
                Transition("draft", "submit", "withdrawn", Action.DOSSIERS_WRITE, "update"),
            ],
        )
