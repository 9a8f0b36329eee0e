"""The bulk path of the import: each batch of validated rows goes to a temporary staging table,
then one set-based statement merges it into ``indicator_values`` (the importer parses the next
batch meanwhile, and wraps all batches in one savepoint so that a refused file writes nothing).

What differs between the databases (bulk copy, temporary tables, capabilities) comes from
``app.db.dialect``. Where data-modifying CTEs exist (PostgreSQL: rows arrive by ``COPY``), one
``INSERT … ON CONFLICT DO UPDATE … WHERE values differ`` whose CTEs also append the superseded
versions to the history and bump the touched assessments; created and updated are counted from
``RETURNING (xmax = 0)``. Rows of assessments the import creates skip all that: a plain
``INSERT … SELECT`` writes them. Elsewhere (SQLite: rows arrive by ``executemany``) the same merge
is a few statements, counted by a comparison done before it.
"""

# ruff: noqa: S608 - the only interpolated names are this module's own (a generated stage name)

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import BulkDialect, Column, ColumnKind
from app.db.types import UTCDateTime

COLUMNS = (
    Column("row_no", ColumnKind.INTEGER),
    Column("assessment_id", ColumnKind.UUID),
    Column("indicator_id", ColumnKind.UUID),
    Column("value_number", ColumnKind.FLOAT),
    Column("value_bool", ColumnKind.BOOLEAN),
    Column("judgement", ColumnKind.TEXT),
    Column("judgement_reason", ColumnKind.TEXT),
    Column("note", ColumnKind.TEXT),
    Column("fresh", ColumnKind.BOOLEAN),
)
KEYS = (Column("assessment_id", ColumnKind.UUID), Column("indicator_id", ColumnKind.UUID))
# (row, assessment, indicator, number, yes/no, judgement, reason, note, fresh): ``fresh`` marks
# rows of assessments this import creates, which cannot have stored values to compare with.
Record = tuple[
    int, uuid.UUID, uuid.UUID, float | None, bool | None, str | None, str | None, str | None, bool
]

_HISTORY_COLUMNS = (
    "assessment_id, indicator_id, change, superseded_at, superseded_by, superseded_by_name, "
    "superseded_source, value_number, value_bool, judgement, judgement_reason, note, evidence, "
    "entered_by, entered_by_name, entered_at, source"
)
_HISTORY_FROM = (
    "{v}.assessment_id, {v}.indicator_id, '{change}', :now, :actor, :actor_name, :source, "
    "{v}.value_number, {v}.value_bool, {v}.judgement, {v}.judgement_reason, {v}.note, "
    "{v}.evidence, {v}.entered_by, {v}.entered_by_name, {v}.entered_at, {v}.source"
)


@dataclass(frozen=True)
class MergeCounts:
    created: int
    updated: int
    unchanged: int


def _params(statement: str) -> Any:
    clause = text(statement)
    binds = []
    for name, type_ in (
        ("now", UTCDateTime()),
        ("actor", Uuid()),
        ("actor_name", None),
        ("source", None),
    ):
        if f":{name}" in statement:
            binds.append(bindparam(name, type_=type_) if type_ is not None else bindparam(name))
    return clause.bindparams(*binds) if binds else clause


class Stage:
    def __init__(self, dialect: BulkDialect, keep_notes: bool, remember_keys: bool = False) -> None:
        self.sql = dialect
        suffix = uuid.uuid4().hex[:12]
        self.name = f"ntm_stage_{suffix}"
        # mode=replace needs every (assessment, indicator) of the file once all batches are in.
        self.keys = f"ntm_stage_keys_{suffix}" if remember_keys else None
        self.keep_notes = keep_notes
        self.rows = 0
        self.fresh = 0
        self.total = 0

    def _new(self, v: str, s: str, column: str) -> str:
        """The value a row will hold after the merge (notes kept when the file has none)."""
        if self.keep_notes and column in ("note", "judgement_reason"):
            return f"COALESCE({s}.{column}, {v}.{column})"
        return f"{s}.{column}"

    def differs(self, v: str, s: str) -> str:
        columns = ("value_number", "value_bool", "judgement", "judgement_reason", "note")
        compared = (self.sql.distinct(f"{v}.{c}", self._new(v, s, c)) for c in columns)
        return "(" + " OR ".join(compared) + ")"

    async def create(self, session: AsyncSession) -> None:
        await self.sql.create_temporary(session, self.name, COLUMNS)
        if self.keys is not None:
            await self.sql.create_temporary(
                session, self.keys, KEYS, key="assessment_id, indicator_id"
            )

    async def add(self, session: AsyncSession, records: Sequence[Record]) -> None:
        """Replace the staged batch with ``records``."""
        if self.rows:
            await self.sql.clear(session, self.name)
            self.rows = 0
            self.fresh = 0
        if not records:
            return
        await self.sql.copy(session, self.name, COLUMNS, records)
        self.rows = len(records)
        self.fresh = sum(1 for record in records if record[8])
        self.total += len(records)
        if self.keys is not None:
            await session.execute(
                text(
                    f"INSERT INTO {self.keys} (assessment_id, indicator_id) "
                    f"SELECT assessment_id, indicator_id FROM {self.name}"
                )
            )

    def _current(self, *, outer: bool) -> str:
        """The stage joined with the stored value of each of its rows, found by primary key.

        On PostgreSQL a ``LATERAL`` subquery fenced by ``OFFSET 0`` keeps the planner from
        hash-joining the whole of ``indicator_values`` for every batch: one index probe per staged
        row is what a batch of 20,000 rows against millions of stored values wants.
        """
        if self.sql.lateral:
            join = "LEFT JOIN LATERAL" if outer else "CROSS JOIN LATERAL"
            return (
                f"FROM {self.name} s {join} (SELECT * FROM indicator_values i "
                "WHERE NOT s.fresh AND i.assessment_id = s.assessment_id "
                f"AND i.indicator_id = s.indicator_id OFFSET 0) v{' ON true' if outer else ''}"
            )
        join = "LEFT JOIN" if outer else "JOIN"
        return (
            f"FROM {self.name} s {join} indicator_values v ON NOT s.fresh "
            "AND v.assessment_id = s.assessment_id AND v.indicator_id = s.indicator_id"
        )

    async def compare(self, session: AsyncSession) -> MergeCounts:
        """What a merge would do, without doing it (dry runs; counts on SQLite)."""
        statement = (
            "SELECT "
            "COALESCE(SUM(CASE WHEN v.assessment_id IS NULL THEN 1 ELSE 0 END), 0) AS created, "
            f"COALESCE(SUM(CASE WHEN v.assessment_id IS NOT NULL AND {self.differs('v', 's')} "
            "THEN 1 ELSE 0 END), 0) AS updated, COUNT(*) AS total "
            f"{self._current(outer=True)}"
        )
        row = (await session.execute(text(statement))).one()
        created, updated, total = int(row.created), int(row.updated), int(row.total)
        return MergeCounts(created, updated, total - created - updated)

    async def merge(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        actor: uuid.UUID | None,
        actor_name: str | None,
        source: str,
    ) -> MergeCounts:
        params = {"now": now, "actor": actor, "actor_name": actor_name, "source": source}
        if self.sql.writable_ctes:
            return await self._merge_in_one_statement(session, params)
        return await self._merge_in_steps(session, params)

    def _insert_fresh(self) -> str:
        """The staged rows of assessments this import creates: nothing stored to compare with or
        supersede, and no other transaction can give them a value before this one commits (their
        assessment does not exist outside it), so a plain ``INSERT`` writes them."""
        return (
            "INSERT INTO indicator_values (assessment_id, indicator_id, value_number, value_bool, "
            "judgement, judgement_reason, note, entered_by, entered_by_name, entered_at, source) "
            "SELECT assessment_id, indicator_id, value_number, value_bool, judgement, "
            f"judgement_reason, note, :actor, :actor_name, :now, :source FROM {self.name} "
            "WHERE fresh"
        )

    def _upsert(self, target: str, where: str = "true") -> str:
        assignments = ", ".join(
            f"{c} = {self._new(target, 'EXCLUDED', c)}"
            for c in ("value_number", "value_bool", "judgement", "judgement_reason", "note")
        )
        alias = "" if target == "indicator_values" else f" AS {target}"
        return (
            f"INSERT INTO indicator_values{alias} (assessment_id, indicator_id, value_number, "
            "value_bool, judgement, judgement_reason, note, entered_by, entered_by_name, "
            "entered_at, source) "
            "SELECT assessment_id, indicator_id, value_number, value_bool, judgement, "
            f"judgement_reason, note, :actor, :actor_name, :now, :source FROM {self.name} "
            f"WHERE {where} "
            "ON CONFLICT (assessment_id, indicator_id) DO UPDATE SET "
            f"{assignments}, entered_by = EXCLUDED.entered_by, "
            "entered_by_name = EXCLUDED.entered_by_name, entered_at = EXCLUDED.entered_at, "
            "source = EXCLUDED.source "
            f"WHERE {self.differs(target, 'EXCLUDED')}"
        )

    def _history_of_changed(self) -> str:
        return (
            f"INSERT INTO indicator_value_history ({_HISTORY_COLUMNS}) "
            f"SELECT {_HISTORY_FROM.format(v='v', change='update')} "
            f"{self._current(outer=False)} "
            f"WHERE {self.differs('v', 's')}"
        )

    async def _merge_in_one_statement(
        self, session: AsyncSession, params: dict[str, Any]
    ) -> MergeCounts:
        fresh = self.fresh
        if fresh == self.rows:
            await session.execute(_params(self._insert_fresh()), params)
            return MergeCounts(fresh, 0, 0)
        also = f"fresh AS ({self._insert_fresh()}), " if fresh else ""
        statement = (
            f"WITH {also}old AS ({self._history_of_changed()} RETURNING 1), "
            f"up AS ({self._upsert('iv', 'NOT fresh')} "
            "RETURNING iv.assessment_id, (iv.xmax = 0) AS inserted), "
            "touched AS (UPDATE assessments SET revision = revision + 1, updated_at = :now, "
            "updated_by = :actor, updated_by_name = :actor_name "
            "WHERE id IN (SELECT assessment_id FROM up) RETURNING id) "
            "SELECT (SELECT count(*) FROM up WHERE inserted) AS created, "
            "(SELECT count(*) FROM up WHERE NOT inserted) AS updated, "
            "(SELECT count(*) FROM old) AS superseded, (SELECT count(*) FROM touched) AS touched"
        )
        row = (await session.execute(_params(statement), params)).one()
        created, updated = int(row.created) + fresh, int(row.updated)
        return MergeCounts(created, updated, self.rows - created - updated)

    async def _merge_in_steps(self, session: AsyncSession, params: dict[str, Any]) -> MergeCounts:
        counts = await self.compare(session)
        if counts.created == 0 and counts.updated == 0:
            return counts
        await session.execute(_params(self._history_of_changed()), params)
        await session.execute(
            _params(
                "UPDATE assessments SET revision = revision + 1, updated_at = :now, "
                "updated_by = :actor, updated_by_name = :actor_name WHERE id IN ("
                f"SELECT s.assessment_id {self._current(outer=True)} "
                f"WHERE v.assessment_id IS NULL OR {self.differs('v', 's')})"
            ),
            params,
        )
        await session.execute(_params(self._upsert("indicator_values")), params)
        return counts

    def _unmentioned(self, v: str) -> str:
        assert self.keys is not None, "mode=replace stages with remember_keys=True"
        return (
            f"{v}.assessment_id IN (SELECT DISTINCT assessment_id FROM {self.keys}) AND NOT EXISTS "
            f"(SELECT 1 FROM {self.keys} k WHERE k.assessment_id = {v}.assessment_id "
            f"AND k.indicator_id = {v}.indicator_id)"
        )

    async def count_unmentioned(self, session: AsyncSession) -> int:
        """Values of the touched assessments that the file does not mention (mode=replace)."""
        statement = f"SELECT COUNT(*) FROM indicator_values v WHERE {self._unmentioned('v')}"
        return int((await session.execute(text(statement))).scalar_one())

    async def delete_unmentioned(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        actor: uuid.UUID | None,
        actor_name: str | None,
        source: str,
    ) -> int:
        params = {"now": now, "actor": actor, "actor_name": actor_name, "source": source}
        history = (
            f"INSERT INTO indicator_value_history ({_HISTORY_COLUMNS}) "
            f"SELECT {_HISTORY_FROM.format(v='v', change='delete')} "
            f"FROM indicator_values v WHERE {self._unmentioned('v')}"
        )
        touch = (
            "UPDATE assessments SET revision = revision + 1, updated_at = :now, "
            "updated_by = :actor, updated_by_name = :actor_name WHERE id IN ("
            f"SELECT v.assessment_id FROM indicator_values v WHERE {self._unmentioned('v')})"
        )
        await session.execute(_params(history), params)
        await session.execute(_params(touch), params)
        result = await session.execute(
            text(f"DELETE FROM indicator_values WHERE {self._unmentioned('indicator_values')}")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop(self, session: AsyncSession) -> None:
        await session.execute(text(f"DROP TABLE IF EXISTS {self.name}"))
        if self.keys is not None:
            await session.execute(text(f"DROP TABLE IF EXISTS {self.keys}"))
