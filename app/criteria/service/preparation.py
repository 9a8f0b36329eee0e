"""Everything checked before a document is written: the invariants that need the database.

``prepare`` validates and resolves (scope, parent, amended set, inherited thresholds, what is
missing) without writing; ``write`` stores the result. A dry-run import stops after ``prepare``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Unprocessable, field_error
from app.criteria import repository
from app.criteria.document import CriteriaSetDocument, ProvinceScope, stored
from app.criteria.service.persistence import OwnFlags, classify, parent_index, write_tree
from app.criteria.service.reading import build_tree
from app.criteria.thresholds import missing_items
from app.criteria.validation import (
    FieldError,
    document_errors,
    duplicate_threshold_errors,
    raise_if,
)
from app.models.enums import ClassificationKind, CriteriaSetStatus, UnitLevel

Row = dict[str, Any]


@dataclass
class Prepared:
    doc: CriteriaSetDocument
    scope_unit_id: uuid.UUID | None
    scope_unit_code: str | None
    scope_as_of: date | None
    parent: Row | None
    parent_index: dict[str, dict[str, Any]] | None
    amends: Row | None
    own: OwnFlags
    missing: list[dict[str, Any]]

    @property
    def complete(self) -> bool:
        return self.doc.complete and not self.missing


def parse_document(data: dict[str, Any]) -> CriteriaSetDocument:
    """A document built by merging (PATCH, derive): validation errors are 422, never 500."""
    try:
        return CriteriaSetDocument.model_validate(data)
    except ValidationError as exc:
        errors = [
            field_error(["body", *err["loc"]], err["msg"], err["type"]) for err in exc.errors()
        ]
        raise Unprocessable("The resulting criteria set is not valid.", errors=errors) from exc


async def resolve_scope(
    session: AsyncSession,
    scope: ProvinceScope,
    default_as_of: date,
    loc: list[str | int],
    *,
    derived: bool = False,
) -> tuple[uuid.UUID, str, date]:
    """A province by code as of a date (portable between installations), or else by id."""
    when = scope.as_of or default_as_of
    if scope.unit_code is not None:
        rows = await repository.units_by_code(session, UnitLevel.PROVINCE, scope.unit_code, when)
        if not rows:
            raise Unprocessable(
                f"No province has code {scope.unit_code} on {when.isoformat()}.",
                code="scope_unit_not_found",
                errors=[
                    field_error([*loc, "unit_code"], "no such province", "scope_unit_not_found")
                ],
            )
        if len(rows) > 1:
            raise Unprocessable(
                f"Several provinces have code {scope.unit_code} on {when.isoformat()}; "
                "give unit_id.",
                code="ambiguous_unit_code",
                errors=[field_error([*loc, "unit_code"], "ambiguous", "ambiguous_unit_code")],
            )
        row = rows[0]
        # An id from another installation is ignored: the code and date are what is portable.
        if (
            scope.unit_id is not None
            and scope.unit_id != row["unit_id"]
            and await repository.unit_at(session, scope.unit_id, when) is not None
        ):
            raise Unprocessable(
                "unit_id and unit_code name different units.",
                code="scope_unit_mismatch",
                errors=[field_error([*loc, "unit_id"], "does not match", "scope_unit_mismatch")],
            )
        return row["unit_id"], row["code"], when
    assert scope.unit_id is not None
    found = await repository.unit_at(session, scope.unit_id, when)
    if found is None:
        raise Unprocessable(
            f"No unit {scope.unit_id} existed on {when.isoformat()}.",
            code="scope_unit_not_found",
            errors=[field_error([*loc, "unit_id"], "no such unit", "scope_unit_not_found")],
        )
    if found["level"] != UnitLevel.PROVINCE:
        code = "derived_scope_outside_parent" if derived else "scope_not_a_province"
        raise Unprocessable(
            f"A set's scope is national or a province; {found['name']} is a {found['level']}.",
            code=code,
            errors=[field_error([*loc, "unit_id"], "not a province", code)],
        )
    return found["unit_id"], found["code"], when


async def _reference(session: AsyncSession, code: str | None, field: str) -> Row | None:
    if code is None:
        return None
    row = await repository.get_by_code(session, code)
    if row is None:
        raise Unprocessable(
            f"No criteria set has code {code!r}.",
            code="unknown_criteria_set",
            errors=[field_error(["body", field], "no such criteria set", "unknown_criteria_set")],
        )
    return row


def derivation_errors(
    doc: CriteriaSetDocument, parent: Row, scope_unit_id: uuid.UUID | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if parent["scope_unit_id"] is None and scope_unit_id is None:
        errors.append(
            field_error(
                ["body", "scope"],
                f"a set derived from the national set {parent['code']} must be a province's",
                "derived_scope_outside_parent",
            )
        )
    elif parent["scope_unit_id"] is not None and scope_unit_id != parent["scope_unit_id"]:
        errors.append(
            field_error(
                ["body", "scope"],
                f"{parent['code']} belongs to province {parent['scope_unit_code']}: "
                "only that province can derive from it",
                "derived_scope_outside_parent",
            )
        )
    if doc.title != parent["title"] or doc.level != parent["level"]:
        errors.append(
            field_error(
                ["body", "title"],
                f"a derived set grants the title of its parent ({parent['title']})",
                "derived_set_mismatch",
            )
        )
    if not (
        parent["period_start_year"] <= doc.period.start_year
        and doc.period.end_year <= parent["period_end_year"]
    ):
        errors.append(
            field_error(
                ["body", "period"],
                f"a derived set's period lies within its parent's "
                f"({parent['period_start_year']}-{parent['period_end_year']})",
                "derived_set_mismatch",
            )
        )
    return errors


async def _regions_in_scope(
    session: AsyncSession, doc: CriteriaSetDocument, unit_id: uuid.UUID | None, when: date | None
) -> frozenset[str] | None:
    if unit_id is None or when is None:
        return None
    rows = await repository.classifications_at(
        session, [unit_id], [ClassificationKind.NTM_REGION], when
    )
    if not rows:
        return None
    return frozenset({rows[0]["value"], *(rule.use_region for rule in doc.applicability_rules)})


async def prepare(
    session: AsyncSession,
    doc: CriteriaSetDocument,
    *,
    head: Row | None = None,
    own: OwnFlags | None = None,
) -> Prepared:
    """Check ``doc`` as the new content of ``head`` (or of a new set); nothing is written."""
    raise_if(document_errors(doc))
    other = await repository.get_by_code(session, doc.code)
    if other is not None and (head is None or other["id"] != head["id"]):
        raise Conflict(
            f"A criteria set with code {doc.code!r} already exists.",
            code="duplicate_criteria_set_code",
            errors=[field_error(["body", "code"], "already taken", "duplicate_criteria_set_code")],
        )
    parent = await _reference(session, doc.derived_from, "derived_from")
    amends = await _reference(session, doc.amends, "amends")
    if parent is not None and parent["status"] == CriteriaSetStatus.DRAFT:
        raise Unprocessable(
            f"{parent['code']} is a draft: only a published set can be derived from.",
            code="parent_not_published",
            errors=[field_error(["body", "derived_from"], "a draft", "parent_not_published")],
        )
    if head is not None and doc.code in (doc.derived_from, doc.amends):
        raise Unprocessable(
            "A set cannot derive from or amend itself.",
            code="invalid_reference",
            errors=[field_error(["body", "amends"], "refers to itself", "invalid_reference")],
        )

    scope_unit_id = scope_code = scope_as_of = None
    if isinstance(doc.scope, ProvinceScope):
        scope_unit_id, scope_code, scope_as_of = await resolve_scope(
            session,
            doc.scope,
            date(doc.period.start_year, 1, 1),
            ["body", "scope"],
            derived=parent is not None,
        )
    index = None
    if parent is not None:
        raise_if(derivation_errors(doc, parent, scope_unit_id))
        index = parent_index(await build_tree(session, parent))
        if own is None:
            own = classify(doc, index)
    flags = own or {}
    errors: list[FieldError] = []
    for i, criterion in enumerate(doc.criteria):
        for j, indicator in enumerate(criterion.indicators):
            mine = flags.get(indicator.code) or [True] * len(indicator.thresholds)
            errors += duplicate_threshold_errors(
                indicator.thresholds, mine, ["body", "criteria", i, "indicators", j, "thresholds"]
            )
    raise_if(errors)
    regions = await _regions_in_scope(session, doc, scope_unit_id, scope_as_of)
    return Prepared(
        doc=doc,
        scope_unit_id=scope_unit_id,
        scope_unit_code=scope_code,
        scope_as_of=scope_as_of,
        parent=parent,
        parent_index=index,
        amends=amends,
        own=flags,
        missing=missing_items(doc, regions),
    )


def _head_values(prepared: Prepared) -> dict[str, Any]:
    doc = prepared.doc
    basis = doc.legal_basis
    return {
        "code": doc.code,
        "name_vi": doc.name.vi,
        "name_en": doc.name.en,
        "title": doc.title.value,
        "level": doc.level.value,
        "period_start_year": doc.period.start_year,
        "period_end_year": doc.period.end_year,
        "legal_basis_number": basis.number,
        "legal_basis_date": basis.date,
        "legal_basis_issuer": basis.issuer,
        "legal_basis_signer": basis.signer,
        "legal_basis_title": basis.title,
        "legal_basis_url": basis.url,
        "scope_unit_id": prepared.scope_unit_id,
        "scope_unit_code": prepared.scope_unit_code,
        "scope_as_of": prepared.scope_as_of,
        "derived_from_id": prepared.parent["id"] if prepared.parent else None,
        "derived_from_version": prepared.parent["version"] if prepared.parent else None,
        "amends_id": prepared.amends["id"] if prepared.amends else None,
        "declared_complete": doc.complete,
        "complete": prepared.complete,
        "missing": prepared.missing,
        "applicability_rules": stored(doc.applicability_rules),
        "conditions": stored(doc.conditions),
        "prerequisites": stored(doc.prerequisites),
        "revocation": (
            doc.revocation.model_dump(mode="json", exclude_unset=True) if doc.revocation else None
        ),
        "sources": stored(doc.sources),
    }


async def write(
    session: AsyncSession,
    prepared: Prepared,
    *,
    now: datetime,
    head: Row | None = None,
    new_id: uuid.UUID | None = None,
    status: str = CriteriaSetStatus.DRAFT,
    bundled_checksum: str | None = None,
) -> uuid.UUID:
    """Store a prepared document as a new set, or as the new content of ``head``."""
    values = _head_values(prepared)
    if head is None:
        set_id = new_id or uuid.uuid4()
        values.update(
            id=set_id,
            status=status,
            version=1,
            created_at=now,
            updated_at=now,
            published_at=now if status == CriteriaSetStatus.PUBLISHED else None,
            retired_at=None,
            bundled_checksum=bundled_checksum,
        )
        await repository.insert_set(session, values)
    else:
        set_id = head["id"]
        values.update(version=head["version"] + 1, updated_at=now)
        if bundled_checksum is not None:
            values["bundled_checksum"] = bundled_checksum
        await repository.update_set(session, set_id, values)
    await write_tree(session, set_id, prepared.doc, prepared.own, prepared.parent_index)
    return set_id
