"""The XLSX template of a set for a unit's subtree: one row per unit, one column per indicator.

It is the wide layout the import reads back unchanged: the first sheet (``values``) has
``unit_code``, ``unit_name``, ``year`` and the indicator codes; the current values of existing
assessments of the kind are filled in, so that importing the untouched file changes nothing.
The ``meta`` sheet names the set, kind and year; ``indicators`` explains each column. Every text
cell (unit names, indicator names and codes of derived sets) is written as neutralised text
(``app.core.spreadsheet``): the import removes that apostrophe again, so the file round-trips.
"""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.imports import parsing
from app.assessments.repository import assessments as repo
from app.assessments.repository import values as values_repo
from app.assessments.schemas import TemplateQuery
from app.assessments.service import criteria as criteria_port
from app.assessments.service.common import invalid, unit_in_year
from app.core import authz
from app.core.http import timestamp
from app.core.permissions import Action
from app.core.security import Principal
from app.core.spreadsheet import xlsx_row
from app.db.types import utcnow
from app.units.service import tree

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _flatten(nodes: list[dict[str, Any]], level: str, out: list[dict[str, Any]]) -> None:
    for node in nodes:
        if node["level"] == level:
            out.append(node)
        _flatten(node.get("children", []), level, out)


async def build(
    session: AsyncSession, query: TemplateQuery, principal: Principal | None = None
) -> tuple[bytes, str]:
    """(workbook bytes, file name). Needs assessments:read over the unit (its subtree)."""
    if principal is not None:
        await authz.require(
            session,
            principal,
            Action.ASSESSMENTS_READ,
            unit_id=query.unit_id,
            entity="unit",
            entity_id=query.unit_id,
        )
    from openpyxl import Workbook  # imported lazily: only this endpoint and XLSX imports use it

    spec = await criteria_port.load_set(session, query.criteria_set_id)
    if not spec.start_year <= query.year <= spec.end_year:
        raise invalid(
            ["query", "year"],
            "year_outside_period",
            f"Year {query.year} is outside the set's period {spec.start_year}-{spec.end_year}.",
        )
    root = await unit_in_year(session, query.unit_id, query.year)
    if root is None:
        raise invalid(
            ["query", "unit_id"], "unit_not_found", f"No unit {query.unit_id} in {query.year}."
        )
    as_of = query.as_of or root.as_of
    found = await tree(session, query.unit_id, 4, as_of)
    units: list[dict[str, Any]] = []
    _flatten(found["items"], spec.level, units)
    units.sort(key=lambda node: node["code"])

    pairs = [(node["id"], query.year) for node in units]
    existing = await repo.find_for_units(session, spec.id, query.kind.value, pairs)
    by_unit: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in existing:
        by_unit[row["unit_id"]].append(row)
    # Values are filled in only where exactly one assessment of the kind exists (the import
    # would refuse an ambiguous one anyway).
    single = {unit: rows[0]["id"] for unit, rows in by_unit.items() if len(rows) == 1}
    values: dict[uuid.UUID, dict[uuid.UUID, Any]] = defaultdict(dict)
    for row in await values_repo.values_of(session, list(single.values())):
        value: Any = row["value_number"]
        if value is None:
            value = row["value_bool"] if row["value_bool"] is not None else row["judgement"]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        values[row["assessment_id"]][row["indicator_id"]] = value

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(parsing.XLSX_DATA_SHEET)
    codes = [indicator.code for indicator in spec.indicators]
    sheet.append(xlsx_row(sheet, [parsing.UNIT_CODE, parsing.UNIT_NAME, parsing.YEAR, *codes]))
    for node in units:
        held = values.get(single.get(node["id"], uuid.UUID(int=0)), {})
        sheet.append(
            xlsx_row(
                sheet,
                [
                    node["code"],
                    node["name"],
                    query.year,
                    *(held.get(i.id) for i in spec.indicators),
                ],
            )
        )
    legend = workbook.create_sheet("indicators")
    legend.append(
        xlsx_row(legend, ["code", "criterion", "name", "kind", "unit", "comparator", "accepts"])
    )
    numbers = {c.id: c.number for c in spec.criteria}
    for indicator in spec.indicators:
        accepts = {
            "number": "a number ('.' as decimal separator)",
            "boolean": "true/false (có/không, 1/0)",
            "judgement": "met / basically_met / not_met (đạt / cơ bản đạt / chưa đạt)",
        }.get(indicator.kind, "")
        legend.append(
            xlsx_row(
                legend,
                [
                    indicator.code,
                    numbers.get(indicator.criterion_id),
                    indicator.name,
                    indicator.kind,
                    indicator.unit,
                    indicator.comparator,
                    accepts,
                ],
            )
        )
    meta = workbook.create_sheet(parsing.XLSX_META_SHEET)
    for key, value in (
        ("criteria_set_id", str(spec.id)),
        ("criteria_set_code", spec.code),
        ("kind", query.kind.value),
        ("year", query.year),
        ("unit_id", str(query.unit_id)),
        ("as_of", as_of.isoformat()),
        ("generated_at", timestamp(utcnow())),
    ):
        meta.append(xlsx_row(meta, [key, value]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    name = f"{spec.code}-{root.code}-{query.year}.xlsx"
    return buffer.getvalue(), name
