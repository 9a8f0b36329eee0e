"""Checking imported rows, a batch at a time, with set-based lookups and per-import caches.

Per batch: the (unit code, year) pairs not seen before are resolved in one query per year (or,
when a batch needs many, the whole level for that year is loaded once), then the assessments of
the new (unit, year) pairs likewise; then one tight loop turns every row into a staging record or
a rejection. Raw spellings (the year "2024", the code "7444", the indicator "17.8") are cached, so
each distinct one is normalised once per import, not once per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.coerce import Rules, ValueProblem, compile_parser
from app.assessments.engine import SetSpec
from app.assessments.imports import parsing
from app.assessments.imports.parsing import HOLDS_NUL, NESTED, NOT_AN_OBJECT
from app.assessments.imports.repository.staging import Record
from app.assessments.repository import assessments as repo
from app.core.spreadsheet import trim
from app.db.intervals import Period
from app.models.assessments import AssessmentStatus, Judgement
from app.units import query as units_query
from app.units.query import code_spellings, padded

MAX_LISTED = 1000
# A batch asking for this many unknown codes (or assessments) of one year loads them all at once.
PRELOAD_AT = 200
# The same limit as a note sent through PUT /assessments/{id}/values (schemas.Text).
MAX_NOTE_LENGTH = 5000
BASICALLY_MET = Judgement.BASICALLY_MET.value
Problem = tuple[str, str]  # (code, message)


@dataclass
class Rejections:
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    total: int = 0

    def add(
        self,
        code: str,
        row: int | None,
        message: str,
        *,
        value: Any = None,
        column: str | None = None,
        field_name: str | None = None,
    ) -> None:
        self.total += 1
        group = self.groups.setdefault(code, {"code": code, "count": 0, "rows": []})
        group["count"] += 1
        if len(group["rows"]) < MAX_LISTED:
            shown = value if value is None or isinstance(value, bool | int | float) else str(value)
            group["rows"].append(
                {
                    "row": row,
                    "column": column,
                    "field": field_name,
                    "value": shown,
                    "message": message,
                }
            )
        else:
            group["truncated"] = True

    def as_list(self) -> list[dict[str, Any]]:
        return sorted(self.groups.values(), key=lambda g: (-g["count"], g["code"]))


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # A leading tab or CR is kept: "\t=1+1" must not become the formula "=1+1".
    text = trim(str(value))
    return text or None


_YEAR_DIGITS = 9
_FAR_YEAR = 10**_YEAR_DIGITS  # stands for any longer run of digits: outside every period


def year_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        # Decimal digits only ("²".isdigit() is true, and int() refuses it), and few enough of
        # them for int() (which refuses over 4,300): a longer run is no year of any set.
        if text.isdecimal():
            return int(text) if len(text) <= _YEAR_DIGITS else _FAR_YEAR
    return None


@dataclass
class Target:
    """The assessment a (unit, year) pair's values go to; ``new`` ones are created on write."""

    id: uuid.UUID
    new: bool
    unit_id: uuid.UUID
    year: int
    used: bool = False  # received a value


# Where a row's value goes: its assessment or why it cannot have one, and (unit number, year) as
# the high bits of the key that finds duplicates.
Placed = tuple["Target | Problem", int]


class RowChecker:
    def __init__(
        self,
        session: AsyncSession,
        spec: SetSpec,
        kind: str,
        as_of: date | None,
        rejections: Rejections,
    ) -> None:
        self.session = session
        self.spec = spec
        self.kind = kind
        self.as_of = as_of
        self.rejections = rejections
        self.wide = False
        self.parsers = {
            i.code: (i, n, compile_parser(Rules(i.kind, i.unit, i.value_min, i.value_max)))
            for n, i in enumerate(spec.indicators)
        }
        self.raw_indicators: dict[Any, Any] = {}
        self.raw_years: dict[Any, int | Problem] = {}
        # (raw unit code or id, year) → unit id or problem
        self.units: dict[tuple[Any, int], uuid.UUID | Problem] = {}
        self.preloaded_years: set[int] = set()
        self.targets: dict[tuple[uuid.UUID, int], Target | Problem] = {}
        self.preloaded_targets: set[int] = set()
        self.unit_numbers: dict[uuid.UUID, int] = {}
        self.seen: dict[int, int] = {}
        self.placed: dict[tuple[Any, Any, Any], Placed] = {}
        self.used: set[uuid.UUID] = set()
        # The assessments that received a value, in the order of their first one.
        self.used_targets: dict[uuid.UUID, Target] = {}
        # The units the caller can see at all (None: every unit). A unit outside them is
        # refused exactly as one that does not exist: same code, same message, and nothing
        # about its assessments (issue 10: out of scope is always the same 404).
        self.visible: set[uuid.UUID] | None = None

    def _seen(self, versions: list[Any]) -> list[Any]:
        visible = self.visible
        if visible is None:
            return versions
        return [version for version in versions if version.unit_id in visible]

    # --- normalising raw spellings (cached) -------------------------------------------------

    def _year(self, raw: Any) -> int | Problem:
        found = self.raw_years.get(raw)
        if found is not None:
            return found
        year = year_of(raw)
        first, last = self.spec.start_year, self.spec.end_year
        result: int | Problem
        if year is None:
            result = (
                ("missing_value", "No year given.")
                if raw is None
                else ("invalid_year", "The year is not a whole number.")
            )
        elif not first <= year <= last:
            shown = str(year) if year < _FAR_YEAR else f"of {len(str(raw).strip())} digits"
            result = (
                "year_outside_period",
                f"Year {shown} is outside the set's period {first}-{last}.",
            )
        else:
            result = year
        if isinstance(raw, str | int | float) or raw is None:
            self.raw_years[raw] = result
        return result

    def _code(self, raw: Any) -> str | None:
        code = text_of(raw)
        return padded(code, self.spec.level) if code is not None else None

    def _period(self, year: int) -> Period:
        """What a unit reference of ``year`` is read against: ``as_of`` if given, else the year."""
        return Period.on(self.as_of) if self.as_of is not None else Period.year(year)

    def _indicator(self, raw: Any) -> Any:
        found = self.raw_indicators.get(raw)
        if found is None:
            code = text_of(raw)
            found = self.parsers.get(code) if code is not None else None
            if found is None:
                found = ("indicator_not_in_set", code) if code else ("missing_value", None)
            self.raw_indicators[raw] = found
        return found

    # --- set-based resolution -------------------------------------------------------------

    async def _resolve_codes(self, year: int, wanted: dict[str, list[Any]]) -> None:
        """``wanted``: normalised code → the raw spellings that produced it."""
        level = self.spec.level
        found: dict[str, set[uuid.UUID]] = {}
        preload = year not in self.preloaded_years and len(wanted) >= PRELOAD_AT
        if preload:
            self.preloaded_years.add(year)
            versions = await units_query.versions_at_level(self.session, level, self._period(year))
        else:
            versions = await units_query.versions_with_codes(
                self.session, wanted, self._period(year), level=level
            )
        versions = self._seen(versions)
        for version in versions:
            found.setdefault(version.code, set()).add(version.unit_id)
        spellings = {v: code for code in set(wanted) - set(found) for v in code_spellings(code)}
        other: dict[str, str] = {}
        if spellings:
            level_of_spelling: dict[str, str] = {}
            for version in self._seen(
                await units_query.versions_with_codes(self.session, spellings, self._period(year))
            ):
                level_of_spelling.setdefault(version.code, version.level)
            for spelling, other_level in level_of_spelling.items():
                other.setdefault(spellings[spelling], other_level)
        when = self.as_of.isoformat() if self.as_of else str(year)
        if preload:
            # Every code of the level is known now: fill the cache for the whole year.
            for code, ids in found.items():
                if len(ids) == 1:
                    self.units[(code, year)] = next(iter(ids))
        for code, raws in wanted.items():
            ids = found.get(code, set())
            result: uuid.UUID | Problem
            if len(ids) == 1:
                result = next(iter(ids))
            elif len(ids) > 1:
                result = (
                    "unit_code_ambiguous",
                    f"{len(ids)} {level} units had code {code} during {year} (the map changed "
                    "that year): give `as_of` or use `unit_id`.",
                )
            elif code in other:
                result = (
                    "unit_level_mismatch",
                    f"Code {code} is a {other[code]} code in {when}; the set applies to a {level}.",
                )
            else:
                result = ("unit_not_found", f"No {level} had code {code} in {when}.")
            for raw in raws:
                self.units[(raw, year)] = result
            self.units[(code, year)] = result

    async def _resolve_ids(self, year: int, wanted: dict[uuid.UUID, list[Any]]) -> None:
        levels = {
            version.unit_id: version.level
            for version in self._seen(
                await units_query.versions_during(self.session, wanted, self._period(year))
            )
        }
        for unit_id, raws in wanted.items():
            level = levels.get(unit_id)
            result: uuid.UUID | Problem
            if level is None:
                result = ("unit_not_found", f"No unit {unit_id} existed in {year}.")
            elif level != self.spec.level:
                result = (
                    "unit_level_mismatch",
                    f"Unit {unit_id} is a {level}; the set applies to a {self.spec.level}.",
                )
            else:
                result = unit_id
            for raw in raws:
                self.units[(raw, year)] = result

    async def _resolve_targets(self, wanted: set[tuple[uuid.UUID, int]]) -> None:
        by_year: dict[int, list[tuple[uuid.UUID, int]]] = {}
        for pair in wanted:
            by_year.setdefault(pair[1], []).append(pair)
        rows = []
        for year, pairs in by_year.items():
            if year in self.preloaded_targets:
                continue
            if len(pairs) >= PRELOAD_AT:
                self.preloaded_targets.add(year)
                rows += await repo.find_for_year(self.session, self.spec.id, self.kind, year)
            else:
                rows += await repo.find_for_units(self.session, self.spec.id, self.kind, pairs)
        found: dict[tuple[uuid.UUID, int], list[Any]] = {}
        for row in rows:
            found.setdefault((row["unit_id"], row["year"]), []).append(row)
        held = await repo.held_by_dossiers(self.session, [row["id"] for row in rows])
        for key, listed in found.items():
            if key in self.targets:
                continue
            if len(listed) > 1:
                self.targets[key] = (
                    "assessment_ambiguous",
                    f"{len(listed)} {self.kind} assessments exist for this unit and year: enter "
                    "these values through PUT /assessments/{id}/values.",
                )
            elif listed[0]["status"] == AssessmentStatus.LOCKED:
                self.targets[key] = (
                    "assessment_locked",
                    f"The {self.kind} assessment of this unit for {key[1]} is locked: its "
                    "values can no longer change.",
                )
            elif listed[0]["id"] in held:
                self.targets[key] = (
                    "assessment_under_review",
                    f"The {self.kind} assessment of this unit for {key[1]} is under review in "
                    f"dossier {held[listed[0]['id']]}: its values are locked.",
                )
            else:
                self.targets[key] = Target(listed[0]["id"], False, *key)
        for key in wanted:
            if key not in self.targets:
                self.targets[key] = Target(uuid.uuid4(), True, *key)

    # --- one batch ----------------------------------------------------------------------------

    def _unit_key(self, row: parsing.RawRow) -> tuple[str, Any] | None:
        raw_id = row.unit_id
        if raw_id is not None and raw_id != "":
            return ("id", raw_id)
        raw_code = row.unit_code
        if raw_code is None or raw_code == "":
            return None
        return ("code", raw_code)

    def wanted_units(
        self, batch: list[parsing.RawRow]
    ) -> tuple[dict[int, dict[str, list[Any]]], dict[int, dict[uuid.UUID, list[Any]]]]:
        """Unit codes and ids of the batch that are not cached yet, by year (no database)."""
        codes: dict[int, dict[str, list[Any]]] = {}
        ids: dict[int, dict[uuid.UUID, list[Any]]] = {}
        units = self.units
        for row in batch:
            year = self._year(row.year)
            if not isinstance(year, int):
                continue
            key = self._unit_key(row)
            if key is None or (key[1], year) in units:
                continue
            if key[0] == "code":
                code = self._code(key[1])
                if code is None:
                    continue
                if (code, year) in units:
                    units[(key[1], year)] = units[(code, year)]
                    continue
                codes.setdefault(year, {}).setdefault(code, []).append(key[1])
            else:
                try:
                    unit_id = uuid.UUID(str(key[1]).strip())
                except ValueError:
                    units[(key[1], year)] = ("unit_not_found", "unit_id is not a UUID.")
                    continue
                ids.setdefault(year, {}).setdefault(unit_id, []).append(key[1])
        return codes, ids

    async def lookup_units(
        self,
        codes: dict[int, dict[str, list[Any]]],
        ids: dict[int, dict[uuid.UUID, list[Any]]],
    ) -> None:
        for year, wanted in codes.items():
            await self._resolve_codes(year, wanted)
        for year, wanted_ids in ids.items():
            await self._resolve_ids(year, wanted_ids)

    def wanted_targets(self, batch: list[parsing.RawRow]) -> set[tuple[uuid.UUID, int]]:
        """(unit, year) pairs of the batch whose assessment is not known yet (no database).

        In a year whose assessments were all loaded already, a pair not known is a new one: it is
        settled here, without asking the database again.
        """
        pairs: set[tuple[uuid.UUID, int]] = set()
        units, targets, preloaded = self.units, self.targets, self.preloaded_targets
        for row in batch:
            year = self._year(row.year)
            key = self._unit_key(row)
            if not isinstance(year, int) or key is None:
                continue
            unit = units.get((key[1], year))
            if isinstance(unit, uuid.UUID) and (unit, year) not in targets:
                if year in preloaded:
                    targets[(unit, year)] = Target(uuid.uuid4(), True, unit, year)
                else:
                    pairs.add((unit, year))
        return pairs

    async def lookup_targets(self, pairs: set[tuple[uuid.UUID, int]]) -> None:
        await self._resolve_targets(pairs)

    def unplaced(self, batch: list[parsing.RawRow]) -> list[parsing.RawRow]:
        """One row of each (unit id, unit code, year) spelling of the batch not placed yet."""
        placed = self.placed
        try:
            spellings = {(row.unit_id, row.unit_code, row.year): row for row in batch}
        except TypeError:  # a JSON list or object where a code or year belongs
            return batch
        return [row for spelling, row in spellings.items() if spelling not in placed]

    def known(self, batch: list[parsing.RawRow]) -> bool:
        """Whether the batch needs nothing from the database (no database: run in a thread)."""
        rows = self.unplaced(batch)
        if not rows:
            return True
        codes, ids = self.wanted_units(rows)
        return not (codes or ids or self.wanted_targets(rows))

    async def resolve(self, batch: list[parsing.RawRow]) -> None:
        """Look up the units and assessments this batch needs that are not cached yet."""
        rows = self.unplaced(batch)
        codes, ids = self.wanted_units(rows)
        if codes or ids:
            await self.lookup_units(codes, ids)
        pairs = self.wanted_targets(rows)
        if pairs:
            await self.lookup_targets(pairs)

    def _place(self, row: parsing.RawRow) -> Placed | None:
        """Where a row's value goes: its assessment (or why it cannot have one) and the unit and
        year part of its duplicate key; ``None`` once a problem with its year or unit is
        rejected."""
        reject = self.rejections.add
        year = self._year(row.year)
        if not isinstance(year, int):
            reject(year[0], row.row, year[1], value=row.year, field_name="year")
            return None
        key = self._unit_key(row)
        if key is None:
            reject(
                "missing_value",
                row.row,
                "No unit_code or unit_id given.",
                field_name="unit_code",
            )
            return None
        unit = self.units.get((key[1], year))
        if not isinstance(unit, uuid.UUID):
            problem = unit or ("unit_not_found", "Unknown unit.")
            name = "unit_code" if key[0] == "code" else "unit_id"
            reject(problem[0], row.row, problem[1], value=key[1], field_name=name)
            return None
        numbers = self.unit_numbers
        number_of_unit = numbers.get(unit)
        if number_of_unit is None:
            number_of_unit = numbers[unit] = len(numbers)
        return self.targets[(unit, year)], (number_of_unit << 32) | ((year - 1900) << 16)

    def records(self, batch: Iterable[parsing.RawRow]) -> list[Record]:
        """The batch's staging records; every refused row is added to the rejections.

        A row's (unit id, unit code, year) spelling, once placed, is remembered with where it
        goes, so that the rows after it cost a dictionary lookup instead of three.
        """
        reject = self.rejections.add
        seen, used, placed, wide = self.seen, self.used, self.placed, self.wide
        indicators, find_indicator = self.raw_indicators, self._indicator
        out: list[Record] = []
        append = out.append
        for row in batch:
            # The long layout (the bulk of every large file) has no column: one test skips the
            # three checks that only rows of the wide layout and of JSON can fail.
            if row.column is not None and self._malformed(row):
                continue
            spelling = (row.unit_id, row.unit_code, row.year)
            try:
                where = placed.get(spelling)
            except TypeError:  # a JSON list or object where a code or year belongs
                where = self._place(row)
                if where is None:
                    continue
            if where is None:
                where = self._place(row)
                if where is None:
                    continue
                placed[spelling] = where
            found = indicators.get(row.indicator_code) or find_indicator(row.indicator_code)
            if len(found) == 2:
                code, shown = found
                reject(
                    code,
                    row.row,
                    f"{shown} is not an indicator code of {self.spec.code}."
                    if shown
                    else "No indicator_code given.",
                    value=row.indicator_code,
                    column=row.column,
                    field_name="indicator_code",
                )
                continue
            indicator, position, parse = found
            try:
                number, flag, judgement = parse(row.value)
            except ValueProblem as problem:
                reject(
                    problem.code,
                    row.row,
                    f"{indicator.code}: {problem.message}.",
                    value=row.value,
                    column=row.column,
                    field_name="value",
                )
                continue
            note = None if wide or row.note is None or row.note == "" else text_of(row.note)
            if note is not None and len(note) > MAX_NOTE_LENGTH:
                reject(
                    "value_out_of_range",
                    row.row,
                    f"{indicator.code}: a note is at most {MAX_NOTE_LENGTH} characters "
                    f"(this one has {len(note)}).",
                    value=note[:80] + "…",
                    column=row.column,
                    field_name="note",
                )
                continue
            if judgement == BASICALLY_MET and not note:
                # Cơ bản đạt only by a recorded judgement with its reasons: the note holds them.
                reject(
                    "judgement_reason_required",
                    row.row,
                    f"{indicator.code}: a judgement of basically_met needs its reasons in `note`.",
                    value=row.value,
                    column=row.column,
                    field_name="note",
                )
                continue
            target, unit_year = where
            dup = unit_year | position
            earlier = seen.get(dup)
            if earlier is not None:
                reject(
                    "duplicate_row",
                    row.row,
                    f"{indicator.code} for this unit and year was already given in row {earlier}.",
                    value=row.value,
                    column=row.column,
                    field_name="indicator_code",
                )
                continue
            seen[dup] = row.row
            if not isinstance(target, Target):
                reject(target[0], row.row, target[1], value=row.value, column=row.column)
                continue
            if not target.used:
                target.used = True
                used.add(target.id)
                self.used_targets[target.id] = target
            append(
                (
                    row.row,
                    target.id,
                    indicator.id,
                    number,
                    flag,
                    judgement,
                    note if judgement is not None else None,
                    note,
                    target.new,
                )
            )
        return out

    def _malformed(self, row: parsing.RawRow) -> bool:
        """Refuse a wide or JSON row that is not a row at all (True: it was refused)."""
        column = row.column
        assert column is not None
        field_name: str | None = None
        value = row.value
        if column == NOT_AN_OBJECT:
            message = "A JSON row must be an object."
        elif column.startswith(NESTED):
            field_name = column.removeprefix(NESTED)
            message = f"`{field_name}` must be a single value, not a list or an object."
        elif column.startswith(HOLDS_NUL):
            field_name = column.removeprefix(HOLDS_NUL)
            message = f"`{field_name}` holds a NUL character (U+0000), which cannot be stored."
            value = value.replace("\x00", "\\u0000")
        else:
            return False
        self.rejections.add("malformed_row", row.row, message, value=value, field_name=field_name)
        return True

    def unit_of(self, assessment_id: uuid.UUID) -> uuid.UUID:
        return self.used_targets[assessment_id].unit_id

    def new_targets(self, ids: Iterable[uuid.UUID] | None = None) -> list[Target]:
        """Assessments to create: the new ones that received at least one value (of ``ids``)."""
        used = self.used_targets
        if ids is None:
            return [t for t in used.values() if t.new]
        return [t for i in dict.fromkeys(ids) if (t := used.get(i)) is not None and t.new]
