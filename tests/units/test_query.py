"""The units read API other features use (``app.units.query``), on the seeded national map.

Province code 24 is Bắc Giang until 30/06/2025 and Bắc Ninh from 01/07/2025 (202/2025/QH15);
commune code 07444 is Thị trấn Đồi Ngô (district Lục Nam, 218) before and Xã Lục Nam after.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.chunking import CHUNK
from app.db.intervals import Period
from app.units import query

BEFORE = date(2024, 6, 1)
AFTER = date(2026, 1, 1)
REFORM = date(2025, 7, 1)


@pytest.fixture
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    """The SQL statements the test's session sends, in order."""
    sent: list[str] = []

    def on_statement(_conn: object, _cursor: object, statement: str, *_args: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            sent.append(statement)

    event.listen(connection.sync_connection, "before_cursor_execute", on_statement)
    yield sent
    event.remove(connection.sync_connection, "before_cursor_execute", on_statement)


async def _only(session: AsyncSession, level: str, code: str, day: date) -> query.DatedUnit:
    ids = await query.ids_by_code(session, [code], day, level=level)
    assert len(ids[code]) == 1, ids
    found = await query.version_on(session, next(iter(ids[code])), day)
    assert found is not None
    return found


async def test_code_24_is_bac_giang_before_the_reform_and_bac_ninh_after(
    session: AsyncSession,
) -> None:
    bac_giang = await _only(session, "province", "24", BEFORE)
    bac_ninh = await _only(session, "province", "24", AFTER)
    assert bac_giang.name == "Tỉnh Bắc Giang"
    assert "Bắc Ninh" in bac_ninh.name
    assert bac_giang.unit_id != bac_ninh.unit_id
    assert (bac_giang.valid_to, bac_ninh.valid_from) == (REFORM, REFORM)
    assert bac_giang.level == bac_ninh.level == "province"
    # The day before the reform the code is still Bắc Giang; Bắc Giang no longer exists after.
    assert (await _only(session, "province", "24", REFORM.replace(day=1, month=6))) == bac_giang
    assert await query.version_on(session, bac_giang.unit_id, AFTER) is None
    # Over the whole of 2025 both held the code: an ambiguity a year-based reader must report.
    during_2025 = await query.versions_with_codes(
        session, ["24"], Period.year(2025), level="province"
    )
    assert {version.unit_id for version in during_2025} == {bac_giang.unit_id, bac_ninh.unit_id}


async def test_codes_are_read_with_their_spellings_at_a_level(session: AsyncSession) -> None:
    found = await query.ids_by_code(
        session, ["7444", "07444", " 218 ", "99999"], BEFORE, level="commune"
    )
    assert found["7444"] == found["07444"]
    assert len(found["7444"]) == 1
    assert found[" 218 "] == frozenset()  # 00218 is no commune code
    assert found["99999"] == frozenset()
    doi_ngo = await query.version_on(session, next(iter(found["7444"])), BEFORE)
    assert doi_ngo is not None
    assert doi_ngo.name == "Thị trấn Đồi Ngô"

    after = await query.ids_by_code(session, ["7444"], AFTER, level="commune")
    luc_nam = await query.version_on(session, next(iter(after["7444"])), AFTER)
    assert luc_nam is not None
    assert luc_nam.name == "Xã Lục Nam"
    assert after["7444"] != found["7444"]

    district = await query.ids_by_code(session, ["218"], BEFORE, level="district")
    assert len(district["218"]) == 1
    # Without a level a code is taken as stored.
    as_stored = await query.ids_by_code(session, ["7444", "218"], BEFORE)
    assert as_stored == {"7444": frozenset(), "218": district["218"]}


async def test_units_of_a_level_in_a_subtree_on_a_date(session: AsyncSession) -> None:
    bac_giang = await _only(session, "province", "24", BEFORE)
    luc_nam = await _only(session, "district", "218", BEFORE)

    districts = await query.units_in_subtree(session, [bac_giang.unit_id], BEFORE, level="district")
    assert len(districts) == 10
    assert luc_nam in districts
    assert {district.parent_id for district in districts} == {bac_giang.unit_id}

    communes = await query.units_in_subtree(session, [luc_nam.unit_id], BEFORE, level="commune")
    assert len(communes) == 25  # Xã Vũ Xá until 2025-01-01 (the old snapshot missed it)
    assert communes == sorted(communes, key=lambda commune: commune.code)
    assert {commune.code for commune in communes} >= {"07444", "07522"}
    assert {commune.parent_id for commune in communes} == {luc_nam.unit_id}
    in_province = await query.units_in_subtree(
        session, [bac_giang.unit_id], BEFORE, level="commune"
    )
    assert set(communes) <= set(in_province)
    # Nested roots: each unit once.
    both = await query.units_in_subtree(session, [bac_giang.unit_id, luc_nam.unit_id], BEFORE)
    assert len(both) == len({unit.unit_id for unit in both}) == 1 + 10 + len(in_province)

    # After the reform: no districts, the province's communes hang from it directly.
    assert await query.units_in_subtree(session, [bac_giang.unit_id], AFTER) == []
    bac_ninh = await _only(session, "province", "24", AFTER)
    assert await query.units_in_subtree(session, [bac_ninh.unit_id], AFTER, level="district") == []
    after = await query.units_in_subtree(session, [bac_ninh.unit_id], AFTER, level="commune")
    assert len(after) == 99
    assert "Xã Lục Nam" in {commune.name for commune in after}
    assert {commune.parent_id for commune in after} == {bac_ninh.unit_id}


async def test_ancestors_on_a_date(session: AsyncSession) -> None:
    doi_ngo = await _only(session, "commune", "07444", BEFORE)
    chain = await query.chain_on(session, doi_ngo.unit_id, BEFORE)
    assert [(unit.level, unit.code) for unit in chain] == [
        ("commune", "07444"),
        ("district", "218"),
        ("province", "24"),
    ]
    assert chain[-1].name == "Tỉnh Bắc Giang"
    assert await query.chain_on(session, doi_ngo.unit_id, AFTER) == []

    # For scopes an ended unit stays where it last was (its history stays with its holders).
    placed = set(await session.scalars(query.ancestors_select(doi_ngo.unit_id, AFTER)))
    assert placed == {unit.unit_id for unit in chain}
    under_bac_giang = set(await session.scalars(query.subtree_select([chain[-1].unit_id], AFTER)))
    assert doi_ngo.unit_id in under_bac_giang
    luc_nam_commune = await _only(session, "commune", "07444", AFTER)
    assert luc_nam_commune.unit_id not in under_bac_giang


async def test_last_versions_label_ended_units(session: AsyncSession) -> None:
    doi_ngo = await _only(session, "commune", "07444", BEFORE)
    labels = await query.last_versions(session, [doi_ngo.unit_id, uuid.uuid4()], AFTER)
    assert list(labels) == [doi_ngo.unit_id]
    assert labels[doi_ngo.unit_id] == doi_ngo
    luc_nam = await _only(session, "commune", "07444", AFTER)
    assert await query.last_versions(session, [luc_nam.unit_id], BEFORE) == {}


async def test_classifications_on_a_date(session: AsyncSession) -> None:
    bac_giang = await _only(session, "province", "24", BEFORE)
    held = await query.classifications(
        session, [bac_giang.unit_id], on=BEFORE, kinds=["ntm_region"]
    )
    assert [(entry.kind, entry.value) for entry in held] == [("ntm_region", "TDMNPB")]
    assert held[0].valid_to == REFORM
    assert held[0].legal_basis_number == "318/QĐ-TTg"
    assert await query.classifications(session, [bac_giang.unit_id], on=AFTER) == []
    every = await query.classifications(session, [bac_giang.unit_id])
    assert held[0] in every


async def test_lineage_of_a_merged_commune(session: AsyncSession) -> None:
    luc_nam = await _only(session, "commune", "07444", AFTER)
    doi_ngo = await _only(session, "commune", "07444", BEFORE)
    found = await query.lineage(session, luc_nam.unit_id)
    assert found.successors == ()
    step = next(step for step in found.predecessors if step.unit_id == doi_ngo.unit_id)
    assert (step.via_id, step.depth, step.effective_date) == (luc_nam.unit_id, 1, REFORM)
    back = await query.lineage(session, doi_ngo.unit_id)
    assert [step.unit_id for step in back.successors] == [luc_nam.unit_id]


async def test_reads_are_set_based_and_typed(session: AsyncSession, statements: list[str]) -> None:
    communes = await query.versions_at_level(session, "commune", Period.on(AFTER))
    assert len(communes) > CHUNK
    assert len(statements) == 1
    ids = [commune.unit_id for commune in communes][: 2 * CHUNK + 1]
    statements.clear()
    found = await query.versions_on(session, ids, AFTER)
    assert len(found) == len(ids)
    assert len(statements) == 3  # one per chunk of ids, not one per id
    statements.clear()
    codes = [commune.code for commune in communes[:500]]
    by_code = await query.ids_by_code(session, codes, AFTER, level="commune")
    assert all(len(by_code[code]) == 1 for code in codes)
    assert len(statements) == 1
    version = next(iter(found.values()))
    assert isinstance(version, query.DatedUnit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        version.name = "changed"  # type: ignore[misc]
