"""What the load test's clients were told, and the checks of it against the database.

Every client of ``bench.load`` writes down each write the server acknowledged (a 2xx) and each
write whose outcome it cannot know (the connection failed before an answer: *in doubt*). After
the run, :func:`analyse` turns the ledger into expectations (pure: no database, so the rules are
unit-tested on their own) and :func:`check_database` compares them with the rows, by direct SQL
(SQLAlchemy Core: the same checks run on SQLite and PostgreSQL).

The order of acknowledged writes of one resource is the server's own: each write of an
assessment's values or of a dossier carries ``If-Match`` and is answered with the resource's new
revision (``"<id>.<revision>"``), so the last acknowledged value of a key is the one of the
highest acknowledged revision, and two acknowledged writes claiming the same new revision are a
lost update. Imports carry no revision: each client imports only its own communes, one import
at a time, so the client's own order is the order of its imports.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.assessments import Assessment, IndicatorValue
from app.models.criteria import Indicator
from app.models.dossiers import Dossier, DossierTransition
from app.models.system import AuditRecord

Value = float | bool
ValueKey = tuple[str, str]  # (assessment id, indicator code)
ImportKey = tuple[str, str]  # (unit id, indicator code)


def parse_etag(etag: str | None) -> tuple[str, int] | None:
    """``"<id>.<revision>"`` (``app.core.http.revision_etag``) → (id, revision)."""
    if not etag:
        return None
    tag = etag.strip().strip('"')
    resource, _, revision = tag.rpartition(".")
    if not resource or not revision.isdigit():
        return None
    return resource, int(revision)


@dataclass(frozen=True)
class ValueWrite:
    """``PUT /assessments/{id}/values`` sent with ``If-Match: "<id>.<base_revision>"``."""

    assessment_id: str
    base_revision: int
    values: Mapping[str, Value]
    request_id: str
    # The revision the answer's ETag names; None while in doubt.
    revision: int | None = None

    @property
    def changed(self) -> bool:
        """The write changed something: the server bumped the revision (an unchanged write keeps
        it and leaves no audit record)."""
        return self.revision is not None and self.revision > self.base_revision


@dataclass(frozen=True)
class ImportWrite:
    """One import of a client's own communes; ``seq`` is its place in the client's order."""

    client: int
    seq: int
    rows: Mapping[ImportKey, Value]
    request_id: str
    import_id: str | None = None  # None while in doubt
    written: bool = True


@dataclass(frozen=True)
class DossierWrite:
    """A dossier created, a document added or a transition, answered with the dossier's new
    revision and status."""

    dossier_id: str
    revision: int
    status: str
    request_id: str
    kind: str = "transition"  # "create", "document" or "transition"
    action: str | None = None  # the transition's action

    @property
    def audit_entity(self) -> str:
        return "dossier_document" if self.kind == "document" else "dossier"


@dataclass
class Ledger:
    values: list[ValueWrite] = field(default_factory=list)
    values_in_doubt: list[ValueWrite] = field(default_factory=list)
    imports: list[ImportWrite] = field(default_factory=list)
    imports_in_doubt: list[ImportWrite] = field(default_factory=list)
    dossiers: list[DossierWrite] = field(default_factory=list)
    dossiers_in_doubt: set[str] = field(default_factory=set)
    # Request ids of answers replayed from an Idempotency-Key: they must have written nothing.
    replays: list[str] = field(default_factory=list)

    def merge(self, other: Ledger) -> None:
        self.values += other.values
        self.values_in_doubt += other.values_in_doubt
        self.imports += other.imports
        self.imports_in_doubt += other.imports_in_doubt
        self.dossiers += other.dossiers
        self.dossiers_in_doubt |= other.dossiers_in_doubt
        self.replays += other.replays


# --- expectations (pure) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the database must hold for one key: one of ``allowed`` (the last acknowledged value,
    and the values of in-doubt writes that could have come after it)."""

    allowed: tuple[Value, ...]
    source: str | None = None  # imports: ``import:<id>`` of the last acknowledged import


@dataclass(frozen=True)
class DossierExpected:
    revision: int
    status: str
    actions: tuple[str, ...]  # the acknowledged transitions, in revision order
    in_doubt: bool


@dataclass
class Expectations:
    values: dict[ValueKey, Expected] = field(default_factory=dict)
    # assessment id → (lowest, highest) revision the database may hold
    revisions: dict[str, tuple[int, int]] = field(default_factory=dict)
    imports: dict[ImportKey, Expected] = field(default_factory=dict)
    dossiers: dict[str, DossierExpected] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def same_value(a: Value | None, b: Value | None) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)


def _value_expectations(ledger: Ledger, out: Expectations) -> None:
    by_assessment: dict[str, list[ValueWrite]] = defaultdict(list)
    for write in ledger.values:
        by_assessment[write.assessment_id].append(write)
    doubt: dict[str, list[ValueWrite]] = defaultdict(list)
    for write in ledger.values_in_doubt:
        doubt[write.assessment_id].append(write)
    for assessment_id in by_assessment.keys() | doubt.keys():
        acked = by_assessment.get(assessment_id, [])
        claims = Counter(w.revision for w in acked if w.changed)
        for revision, count in sorted(claims.items(), key=lambda item: item[0] or 0):
            if count > 1:
                out.problems.append(
                    f"lost update: {count} acknowledged writes of assessment {assessment_id} "
                    f"were each answered revision {revision}"
                )
        top = max((w.revision or 0 for w in acked), default=0)
        pending = doubt.get(assessment_id, [])
        low = top or min((w.base_revision for w in pending), default=0)
        out.revisions[assessment_id] = (low, max(low, top) + len(pending))
        last: dict[str, ValueWrite] = {}
        for write in sorted(acked, key=lambda w: w.revision or 0):
            for code, value in write.values.items():
                before = last.get(code)
                if (
                    before is not None
                    and before.revision == write.revision
                    and not same_value(before.values[code], value)
                ):
                    out.problems.append(
                        f"assessment {assessment_id} {code}: two acknowledged writes at revision "
                        f"{write.revision} with different values {before.values[code]!r} and "
                        f"{value!r}"
                    )
                last[code] = write
        # A key only an in-doubt write touched has no acknowledged value to check.
        for code, final in last.items():
            allowed: list[Value] = [final.values[code]]
            floor = final.revision or 0
            # An in-doubt write applied only if its If-Match was current, i.e. after every
            # acknowledged revision up to its base: it can only win if its base is not older.
            allowed += [
                w.values[code] for w in pending if code in w.values and w.base_revision >= floor
            ]
            out.values[(assessment_id, code)] = Expected(tuple(allowed))


def _import_expectations(ledger: Ledger, out: Expectations) -> None:
    owner: dict[ImportKey, int] = {}
    for write in [*ledger.imports, *ledger.imports_in_doubt]:
        for key in write.rows:
            if owner.setdefault(key, write.client) != write.client:
                out.problems.append(
                    f"import key {key} was written by two clients (the ledger cannot order them)"
                )
    ordered = sorted(ledger.imports, key=lambda w: (w.client, w.seq))
    last: dict[ImportKey, ImportWrite] = {}
    # The import whose value a row holds: a row sent again with the value it already had is
    # "unchanged" and keeps the source of the import that set it.
    setter: dict[ImportKey, ImportWrite] = {}
    for write in ordered:
        for key, value in write.rows.items():
            before = last.get(key)
            if before is None or not same_value(before.rows[key], value):
                setter[key] = write
            last[key] = write
    doubtful = {key for w in ledger.imports_in_doubt for key in w.rows}
    for key, write in last.items():
        allowed: list[Value] = [write.rows[key]]
        allowed += [
            w.rows[key]
            for w in ledger.imports_in_doubt
            if key in w.rows and w.client == write.client and w.seq > write.seq
        ]
        # With a write in doubt anywhere on the key, the value that set it is not known.
        source = None if key in doubtful else f"import:{setter[key].import_id}"
        out.imports[key] = Expected(tuple(allowed), source)


def _dossier_expectations(ledger: Ledger, out: Expectations) -> None:
    by_dossier: dict[str, list[DossierWrite]] = defaultdict(list)
    for write in ledger.dossiers:
        by_dossier[write.dossier_id].append(write)
    for dossier_id, writes in by_dossier.items():
        claims = Counter(w.revision for w in writes)
        for revision, count in sorted(claims.items()):
            if count > 1:
                out.problems.append(
                    f"dossier {dossier_id}: {count} acknowledged writes each answered revision "
                    f"{revision}"
                )
        ordered = sorted(writes, key=lambda w: w.revision)
        out.dossiers[dossier_id] = DossierExpected(
            revision=ordered[-1].revision,
            status=ordered[-1].status,
            actions=tuple(w.action for w in ordered if w.kind == "transition" and w.action),
            in_doubt=dossier_id in ledger.dossiers_in_doubt,
        )


def analyse(ledger: Ledger) -> Expectations:
    out = Expectations()
    _value_expectations(ledger, out)
    _import_expectations(ledger, out)
    _dossier_expectations(ledger, out)
    return out


# --- the database ------------------------------------------------------------------------------


@dataclass
class CheckResult:
    name: str
    checked: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def fail(self, message: str) -> None:
        self.failures.append(message)


def _typed(number: float | None, flag: bool | None) -> Value | None:
    return flag if flag is not None else number


def _uuids(ids: Iterable[str]) -> list[uuid.UUID]:
    return sorted({uuid.UUID(i) for i in ids}, key=str)


async def _chunked_rows(
    session: AsyncSession, build: Any, ids: Sequence[uuid.UUID], size: int = 500
) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), size):
        rows += list((await session.execute(build(ids[start : start + size]))).all())
    return rows


async def check_values(session: AsyncSession, expected: Expectations) -> list[CheckResult]:
    """Each acknowledged value write: the key is there exactly once with the last acknowledged
    value; each assessment's revision is the last acknowledged one."""
    values = CheckResult("value writes: last acknowledged value, once")
    revisions = CheckResult("value writes: assessment revision = last acknowledged")
    ids = _uuids(a for a, _ in expected.values)
    v, i, a = IndicatorValue.__table__, Indicator.__table__, Assessment.__table__
    rows = await _chunked_rows(
        session,
        lambda chunk: (
            select(v.c.assessment_id, i.c.code, v.c.value_number, v.c.value_bool, func.count())
            .join(i, i.c.id == v.c.indicator_id)
            .where(v.c.assessment_id.in_(chunk))
            .group_by(v.c.assessment_id, i.c.code, v.c.value_number, v.c.value_bool)
        ),
        ids,
    )
    found: dict[ValueKey, list[tuple[Value | None, int]]] = defaultdict(list)
    for row in rows:
        found[(str(row[0]), row[1])].append((_typed(row[2], row[3]), row[4]))
    for key, want in sorted(expected.values.items()):
        values.checked += 1
        held = found.get(key, [])
        if len(held) != 1 or held[0][1] != 1:
            values.fail(f"assessment {key[0]} indicator {key[1]}: {len(held)} rows {held}")
            continue
        if not any(same_value(held[0][0], allowed) for allowed in want.allowed):
            values.fail(
                f"assessment {key[0]} indicator {key[1]}: holds {held[0][0]!r}, acknowledged "
                f"{want.allowed[0] if want.allowed else None!r}"
            )
    held_revisions = {
        str(row[0]): row[1]
        for row in await _chunked_rows(
            session,
            lambda chunk: select(a.c.id, a.c.revision).where(a.c.id.in_(chunk)),
            _uuids(expected.revisions),
        )
    }
    for assessment_id, (low, high) in sorted(expected.revisions.items()):
        revisions.checked += 1
        revision = held_revisions.get(assessment_id)
        if revision is None or not low <= revision <= high:
            wanted = f"{low}" if low == high else f"{low}..{high}"
            revisions.fail(f"assessment {assessment_id}: revision {revision}, expected {wanted}")
    return [values, revisions]


async def check_imports(
    session: AsyncSession, expected: Expectations, criteria_set_id: str, year: int, kind: str
) -> CheckResult:
    """Every acknowledged import's rows: there once, with the value and the source of the last
    acknowledged import of the key."""
    result = CheckResult("imports: every acknowledged row there once, last value and source")
    v, i, a = IndicatorValue.__table__, Indicator.__table__, Assessment.__table__
    set_id = uuid.UUID(criteria_set_id)
    rows = await _chunked_rows(
        session,
        lambda chunk: (
            select(
                a.c.unit_id,
                i.c.code,
                v.c.value_number,
                v.c.value_bool,
                v.c.source,
                func.count(),
            )
            .join(v, v.c.assessment_id == a.c.id)
            .join(i, i.c.id == v.c.indicator_id)
            .where(
                a.c.unit_id.in_(chunk),
                a.c.criteria_set_id == set_id,
                a.c.year == year,
                a.c.kind == kind,
            )
            .group_by(a.c.unit_id, i.c.code, v.c.value_number, v.c.value_bool, v.c.source)
        ),
        _uuids(u for u, _ in expected.imports),
    )
    found: dict[ImportKey, list[tuple[Value | None, str | None, int]]] = defaultdict(list)
    for row in rows:
        found[(str(row[0]), row[1])].append((_typed(row[2], row[3]), row[4], row[5]))
    for key, want in sorted(expected.imports.items()):
        result.checked += 1
        held = found.get(key, [])
        if len(held) != 1 or held[0][2] != 1:
            result.fail(f"unit {key[0]} indicator {key[1]}: {len(held)} rows {held}")
            continue
        value, source, _count = held[0]
        if not any(same_value(value, allowed) for allowed in want.allowed):
            result.fail(
                f"unit {key[0]} indicator {key[1]}: holds {value!r}, acknowledged "
                f"{want.allowed[0]!r}"
            )
        elif want.source is not None and source != want.source:
            result.fail(
                f"unit {key[0]} indicator {key[1]}: source {source}, acknowledged {want.source}"
            )
    return result


async def check_dossiers(session: AsyncSession, expected: Expectations) -> CheckResult:
    """Each dossier's state and revision are those of its last acknowledged write, and its
    history holds exactly the acknowledged transitions, in order."""
    result = CheckResult("dossiers: state = last acknowledged transition, history exactly once")
    d, t = Dossier.__table__, DossierTransition.__table__
    ids = _uuids(expected.dossiers)
    heads = {
        str(row[0]): (row[1], row[2])
        for row in await _chunked_rows(
            session,
            lambda chunk: select(d.c.id, d.c.status, d.c.revision).where(d.c.id.in_(chunk)),
            ids,
        )
    }
    history: dict[str, list[str]] = defaultdict(list)
    for row in await _chunked_rows(
        session,
        lambda chunk: (
            select(t.c.dossier_id, t.c.action)
            .where(t.c.dossier_id.in_(chunk))
            .order_by(t.c.dossier_id, t.c.seq)
        ),
        ids,
    ):
        history[str(row[0])].append(row[1])
    for dossier_id, want in sorted(expected.dossiers.items()):
        result.checked += 1
        head = heads.get(dossier_id)
        if head is None:
            result.fail(f"dossier {dossier_id}: missing")
            continue
        actions = tuple(history.get(dossier_id, []))
        if want.in_doubt:
            # A write in doubt may have landed after the acknowledged ones, never before.
            if head[1] < want.revision or actions[: len(want.actions)] != want.actions:
                result.fail(
                    f"dossier {dossier_id}: revision {head[1]} history {actions}, acknowledged "
                    f"at least revision {want.revision} history {want.actions}"
                )
            continue
        if head != (want.status, want.revision):
            result.fail(
                f"dossier {dossier_id}: {head[0]} at revision {head[1]}, acknowledged "
                f"{want.status} at revision {want.revision}"
            )
        if actions != want.actions:
            result.fail(
                f"dossier {dossier_id}: history {actions}, acknowledged transitions {want.actions}"
            )
    return result


async def check_audit(session: AsyncSession, ledger: Ledger) -> CheckResult:
    """Exactly one audit record per acknowledged change (so exactly one write behind it): a
    value write that changed something, a dossier write, an import that wrote; none for an
    unchanged write or a replayed answer."""
    result = CheckResult("audit: one record per acknowledged change, none for replays")
    r = AuditRecord.__table__
    wanted: dict[str, tuple[str, int]] = {}
    for write in ledger.values:
        wanted[write.request_id] = ("assessment_values", 1 if write.changed else 0)
    for dossier in ledger.dossiers:
        wanted[dossier.request_id] = (dossier.audit_entity, 1)
    for replay in ledger.replays:
        wanted[replay] = ("*", 0)
    counts: Counter[tuple[str, str]] = Counter()
    request_ids = sorted(wanted)
    for start in range(0, len(request_ids), 500):
        chunk = request_ids[start : start + 500]
        for row in await session.execute(
            select(r.c.request_id, r.c.entity, func.count())
            .where(r.c.request_id.in_(chunk))
            .group_by(r.c.request_id, r.c.entity)
        ):
            counts[(row[0], row[1])] += row[2]
            counts[(row[0], "*")] += row[2]
    for request_id, (entity, count) in sorted(wanted.items()):
        result.checked += 1
        if counts[(request_id, entity)] != count:
            result.fail(
                f"request {request_id}: {counts[(request_id, entity)]} audit records of "
                f"{entity}, expected {count}"
            )
    imports = {w.import_id: w for w in ledger.imports if w.import_id and w.written}
    ids = sorted(imports)
    found: Counter[str] = Counter()
    for start in range(0, len(ids), 500):
        for row in await session.execute(
            select(r.c.entity_id, func.count())
            .where(
                r.c.entity == "indicator_value_import", r.c.entity_id.in_(ids[start : start + 500])
            )
            .group_by(r.c.entity_id)
        ):
            found[row[0]] = row[1]
    for import_id in ids:
        result.checked += 1
        if found[import_id] != 1:
            result.fail(f"import {import_id}: {found[import_id]} audit records, expected 1")
    return result


def check_feed(events: Sequence[Mapping[str, Any]], ledger: Ledger) -> CheckResult:
    """The feed read from the load's start to its head: positions increase, none twice, and
    every acknowledged change of an assessment's values or of a dossier's state is in it
    exactly once (by entity, id and the version it was answered)."""
    result = CheckResult("feed: positions increase, every acknowledged change once")
    previous = -1
    seen: Counter[tuple[str, str, int | None]] = Counter()
    for event in events:
        if event["position"] <= previous:
            result.fail(f"position {event['position']} after {previous}")
        previous = event["position"]
        seen[(event["entity"], event["entity_id"], event.get("version"))] += 1
    wanted = [
        ("assessment_values", w.assessment_id, w.revision) for w in ledger.values if w.changed
    ]
    # A document's record names the document, not the dossier's revision: not matched here.
    wanted += [
        ("dossier", w.dossier_id, w.revision) for w in ledger.dossiers if w.kind != "document"
    ]
    for key in wanted:
        result.checked += 1
        if seen[key] != 1:
            result.fail(f"{key[0]} {key[1]} version {key[2]}: {seen[key]} events, expected 1")
    return result


async def check_database(
    session: AsyncSession,
    ledger: Ledger,
    *,
    criteria_set_id: str,
    year: int,
    kind: str = "self_assessment",
) -> list[CheckResult]:
    expected = analyse(ledger)
    ledger_check = CheckResult("ledger: no lost update, no conflicting acknowledgements")
    ledger_check.checked = len(ledger.values) + len(ledger.dossiers) + len(ledger.imports)
    ledger_check.failures = list(expected.problems)
    return [
        ledger_check,
        *await check_values(session, expected),
        await check_imports(session, expected, criteria_set_id, year, kind),
        await check_dossiers(session, expected),
        await check_audit(session, ledger),
    ]
