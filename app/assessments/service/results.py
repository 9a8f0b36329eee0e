"""Kept evaluation results: each assessment's criteria statuses, stored under the key that makes
them exact, so that reports over thousands of communes read them instead of evaluating.

A result is computed by the engine (``evaluation.load_many``/``evaluate``, as for
``GET /assessments/{id}/evaluation``) and kept under

- the assessment's ``revision``: bumped in the transaction of every write of the assessment or of
  its values, judgements and conditions (API, imports);
- the criteria set's ``version`` and ``updated_at``: a published set's content (criteria, rules,
  thresholds and a province's overrides in its derived set) never changes under them; drafts
  are never kept;
- the map token (``map_revision``): thresholds depend on the unit's region, classifications and
  commune group on the map, and every committed change of the map draws a new token.

Criteria statuses depend on nothing else (the register of titles only decides prerequisites and
revocation, which reports do not read from here). A result whose key is not the current one is
stale: readers never use it and evaluate that assessment with the engine instead. The key is
read before (or with) the data it is computed from, so a write that lands in between leaves a
key older than the content: stale at once, never wrong.

Reports only read (their sessions are read-only); the worker (``refresh``) keeps results up to
date: one statement finds the assessments whose result is missing or stale — after a write, an
import, a change of the map or a set — and it evaluates and stores them in batches.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import engine
from app.assessments.repository import results as repo
from app.assessments.service import criteria as criteria_port
from app.assessments.service.evaluation import evaluate, load_many
from app.core.errors import ProblemError
from app.db.engine import Database
from app.db.types import utcnow
from app.models.enums import CriterionStatus

# One letter per criterion, in the set's order: 19 criteria fit in 19 characters.
LETTERS: Mapping[CriterionStatus, str] = {
    CriterionStatus.MET: "m",
    CriterionStatus.BASICALLY_MET: "b",
    CriterionStatus.NOT_MET: "n",
    CriterionStatus.UNDETERMINED: "u",
}
STATUSES: Mapping[str, CriterionStatus] = {letter: status for status, letter in LETTERS.items()}
# Assessments evaluated and stored per transaction by the worker.
BATCH = 500


@dataclass(frozen=True, slots=True)
class Kept:
    """A result read back: whether the assessment could be evaluated, and its statuses."""

    evaluable: bool
    criteria_total: int
    criteria_met: int
    statuses: tuple[CriterionStatus, ...]


def encode(result: engine.Evaluation) -> str:
    return "".join(LETTERS[criterion.status] for criterion in result.criteria)


def kept(row: Mapping[Any, Any], content: criteria_port.SetKey | None, size: int) -> Kept | None:
    """The result kept for an assessment row of ``repository.results``, if its key is the
    current one: the row's revision and map token (read in the same statement) and the set's
    content key; None when missing or stale."""
    if (
        content is None
        or row["result_revision"] is None
        or row["result_revision"] != row["revision"]
        or row["result_map_token"] != row["map_token"]
        or (row["result_set_version"], row["result_set_updated_at"]) != content
    ):
        return None
    if not row["result_evaluable"]:
        return Kept(False, 0, 0, ())
    letters = row["result_statuses"]
    if len(letters) != size:  # not the set's shape: never trust it
        return None
    return Kept(
        True,
        row["result_criteria_total"],
        row["result_criteria_met"],
        tuple(STATUSES[letter] for letter in letters),
    )


async def _evaluate_each(
    session: AsyncSession, rows: Sequence[RowMapping]
) -> dict[uuid.UUID, engine.Evaluation | None]:
    """Evaluations by assessment id; None for one that cannot be evaluated (its unit left the
    map of its year, …): a whole batch first, one by one if any of it fails."""
    try:
        loaded = await load_many(session, rows)
    except ProblemError:
        out: dict[uuid.UUID, engine.Evaluation | None] = {}
        for row in rows:
            try:
                (one,) = await load_many(session, [row])
            except ProblemError:
                out[row["id"]] = None
                continue
            out[row["id"]] = evaluate(one).result
        return out
    return {one.row["id"]: evaluate(one).result for one in loaded}


async def _set_keys(
    session: AsyncSession, set_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, criteria_port.SetKey | None]:
    keys: dict[uuid.UUID, criteria_port.SetKey | None] = {}
    for set_id in set_ids:
        _, keys[set_id] = await criteria_port.load_keyed(session, set_id)
    return keys


async def refresh(database: Database, limit: int = BATCH) -> int:
    """Evaluate and store up to ``limit`` missing or stale results; how many were stored. The
    evaluation reads in a read-only transaction (no write lock on SQLite while the engine runs);
    the results are written in a short one of their own."""
    async with database.session(read_only=True) as session:
        keys = await _set_keys(session, await repo.sets_assessed(session))
        rows = await repo.stale(session, keys, limit)
        if not rows:
            return 0
        evaluated = await _evaluate_each(session, rows)
    now = utcnow()
    stored = []
    for row in rows:
        key = keys[row["criteria_set_id"]]
        if key is None:
            continue
        result = evaluated.get(row["id"])
        stored.append(
            {
                "assessment_id": row["id"],
                "revision": row["revision"],
                "set_version": key[0],
                "set_updated_at": key[1],
                "map_token": row["map_token"],
                "evaluable": result is not None,
                "criteria_total": result.summary.criteria_total if result else 0,
                "criteria_met": result.summary.criteria_met if result else 0,
                "statuses": encode(result) if result else "",
                "evaluated_at": now,
            }
        )
    async with database.session() as session:
        await repo.replace(session, stored)
        await session.commit()
    return len(stored)


async def refresh_all(database: Database, batch: int = BATCH) -> int:
    """``refresh`` until nothing is missing or stale (the command line, benchmarks, tests)."""
    total = 0
    while done := await refresh(database, batch):
        total += done
    return total
