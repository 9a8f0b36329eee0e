"""The national dataset: loaded once per run by the root conftest; idempotent; differences only."""

from __future__ import annotations

import gzip
import json
import shutil
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import AuditRecord, ReferenceDataset
from app.models.units import Unit, UnitClassification, UnitEvent, UnitLink, UnitVersion
from app.units.seed import (
    DATA_DIR,
    EVENTS_FILE,
    LINEAGE_FILE,
    REGIONS_FILE,
    UNITS_FILE,
    seed_units,
    unit_id_for,
    version_id_for,
)


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_national_dataset_is_loaded(session: AsyncSession) -> None:
    # the dated lists from 2004-08-31, the map of 2025-07-01 and the 2026 changes
    assert await count(session, Unit) == 15197
    assert await count(session, UnitVersion) == 17577
    assert await count(session, UnitLink) == 10834
    assert await count(session, UnitEvent) == 8040
    # 63 provinces (2021-2025 regions) + post-reform communes inheriting their region
    assert await count(session, UnitClassification) == 3379
    dataset = await session.get(ReferenceDataset, "units")
    assert dataset is not None
    assert dataset.version == "d88580f+eaddcea+vietnam-provinces 2026.9.0"
    partly = await session.scalar(select(func.count()).where(UnitLink.partly.is_(True)))
    assert partly == 1035
    inferred = await session.scalar(select(func.count()).where(UnitLink.confidence == "inferred"))
    assert inferred == 347


async def test_ids_are_the_same_on_every_install(session: AsyncSession) -> None:
    assert unit_id_for("commune:07444:2025") == uuid.UUID("11d5746d-f8ca-5351-bb67-b29f12ba008f")
    name = await session.scalar(
        select(UnitVersion.name).where(
            UnitVersion.id == version_id_for("commune:07444:2025", 0),
            UnitVersion.unit_id == unit_id_for("commune:07444:2025"),
        )
    )
    assert name == "Xã Lục Nam"


async def test_an_unchanged_dataset_is_skipped(session: AsyncSession) -> None:
    started = time.perf_counter()
    result = await seed_units(session, lambda _m: None)
    assert result.skipped
    assert time.perf_counter() - started < 1.0
    assert result.describe() == "units: up to date"


def _rewrite(source: Path, target: Path, edit: object) -> None:
    with gzip.open(source, "rt", encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines(keepends=True)
    lines = edit(lines)  # type: ignore[operator]
    with gzip.open(target, "wt", encoding="utf-8", newline="") as handle:
        handle.write("".join(lines))


def _changed_dataset(folder: Path) -> None:
    def units(lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            if line.startswith("commune:11948:2025,"):
                continue  # Bạch Long Vĩ disappears from the data
            line = line.replace(
                ",Xã Lục Nam,xa,province:24:2025,", ",Xã Lục Nam Mới,xa,province:24:2025,"
            )
            line = line.replace(",Thị trấn Đồi Ngô,thi_tran,", ",Thị trấn Đồi Ngô Cũ,thi_tran,")
            out.append(line)
        out.append(
            "commune:99990:2025,commune,99990,Xã Thử Nghiệm,xa,province:24:2025,2025-07-01,,"
            "reform-2025:commune:99990:2025,\n"
        )
        return out

    def lineage(lines: list[str]) -> list[str]:
        return [
            *lines,
            "2025-07-01,commune,commune:07501:pre2025,commune:99990:2025,1,stated,"
            "conversion_table_2025,reform-2025:commune:99990:2025\n",
        ]

    def events(lines: list[str]) -> list[str]:
        return [
            *lines,
            "reform-2025:commune:99990:2025,2025-07-01,merge,commune:99990:2025,,,,effective,"
            "unknown,test,test\n",
        ]

    _rewrite(DATA_DIR / UNITS_FILE, folder / UNITS_FILE, units)
    _rewrite(DATA_DIR / LINEAGE_FILE, folder / LINEAGE_FILE, lineage)
    _rewrite(DATA_DIR / EVENTS_FILE, folder / EVENTS_FILE, events)
    regions = json.loads((DATA_DIR / REGIONS_FILE).read_text(encoding="utf-8"))
    for region in regions["regions"]:
        if "27" in region["province_codes"]:
            region["province_codes"].remove("27")
        if region["code"] == "TDMNPB":
            region["province_codes"].append("27")
    (folder / REGIONS_FILE).write_text(json.dumps(regions, ensure_ascii=False), encoding="utf-8")


async def test_a_changed_dataset_applies_only_the_differences(
    session: AsyncSession, tmp_path: Path
) -> None:
    _changed_dataset(tmp_path)
    units_before = await count(session, Unit)
    # A version changed through the API since it was loaded is left alone.
    doi_ngo = version_id_for("commune:07444:pre2025", 0)
    await session.execute(
        update(UnitVersion)
        .where(UnitVersion.id == doi_ngo)
        .values(note="corrected locally", updated_at=func.now())
    )
    messages: list[str] = []
    result = await seed_units(
        session, messages.append, data_dir=tmp_path, clock=lambda: date(2026, 3, 1)
    )
    assert not result.skipped
    assert result.counts == {
        "units inserted": 1,
        "events inserted": 1,
        "versions kept (changed locally)": 1,
        "versions updated": 1,
        "versions inserted": 1,
        "units closed": 1,
        "links written": 1,
        # Bắc Ninh (27) moved to TDMNPB: the province, and the 42 post-reform communes whose
        # predecessors now all lie in TDMNPB inherit it (item 5 of issue #12)
        "classifications written": 43,
    }
    assert any("done in" in m for m in messages)
    assert await count(session, Unit) == units_before + 1

    lucnam = await session.scalar(
        select(UnitVersion.name).where(
            UnitVersion.unit_id == unit_id_for("commune:07444:2025"),
            UnitVersion.valid_from == date(2025, 7, 1),
        )
    )
    assert lucnam == "Xã Lục Nam Mới"
    kept = await session.scalar(select(UnitVersion.name).where(UnitVersion.id == doi_ngo))
    assert kept == "Thị trấn Đồi Ngô"
    closed = await session.scalar(
        select(UnitVersion.valid_to).where(UnitVersion.unit_id == unit_id_for("commune:11948:2025"))
    )
    assert closed == date(2026, 3, 1)
    link = await session.scalar(
        select(UnitLink.partly).where(UnitLink.successor_id == unit_id_for("commune:99990:2025"))
    )
    assert link is True
    region = await session.scalar(
        select(UnitClassification.value).where(
            UnitClassification.unit_id == unit_id_for("province:27:pre2025")
        )
    )
    assert region == "TDMNPB"
    audit = await session.scalar(
        select(AuditRecord.after)
        .where(AuditRecord.entity == "reference_dataset")
        .order_by(AuditRecord.seq.desc())
    )
    assert audit is not None
    assert audit["units inserted"] == 1

    again = await seed_units(session, lambda _m: None, data_dir=tmp_path)
    assert again.skipped
    # Back to the bundled files: the differences are undone, the closed unit stays closed.
    shutil.rmtree(tmp_path)
    back = await seed_units(session, lambda _m: None, clock=lambda: date(2026, 3, 2))
    assert back.counts == {
        "events removed": 1,
        "versions kept (changed locally)": 1,
        "versions updated": 2,
        "units closed": 1,
        "links removed": 1,
        "classifications written": 42,  # the province and the communes given DBSH again
    }
    reopened = await session.scalar(
        select(UnitVersion.valid_to).where(UnitVersion.unit_id == unit_id_for("commune:11948:2025"))
    )
    assert reopened == date(9999, 12, 31)
