"""The national dataset: loaded once per run by the root conftest; idempotent; differences only."""

from __future__ import annotations

import gzip
import json
import shutil
import time
import uuid
from datetime import UTC, date, datetime
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
    assert await count(session, UnitVersion) == 17578
    assert await count(session, UnitLink) == 10834
    assert await count(session, UnitEvent) == 8041
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


PREVIOUS = Path(__file__).resolve().parent / "data" / "previous_release"


def _previous_release(folder: Path) -> None:
    """The dataset of the previous release (units.csv.gz and lineage_2025.csv.gz as shipped,
    kept under tests/units/data/previous_release), in the loader's current file format: the
    same rows, no event keys or flags on versions, and the one `merge` event per successor
    (``reform-2025:<key>``) that the previous loader made from the lineage."""

    def body(path: Path) -> list[list[str]]:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            lines = [line for line in handle if not line.startswith("# ")]
        return [line.rstrip("\n").split(",") for line in lines[1:]]

    def write(name: str, header: str, rows: list[str]) -> None:
        with gzip.open(folder / name, "wt", encoding="utf-8", newline="") as handle:
            handle.write("\n".join(["# previous release", header, *rows]) + "\n")

    units = body(PREVIOUS / "units.csv.gz")
    lineage = body(PREVIOUS / "lineage_2025.csv.gz")
    successors = sorted({row[3] for row in lineage})
    starts = {row[0] for row in units if row[6] == "2025-07-01"}
    write(
        UNITS_FILE,
        "key,level,code,name,type,parent_key,valid_from,valid_to,event_key,flags",
        [
            ",".join(
                [
                    *row[:8],
                    f"reform-2025:{row[0]}"
                    if row[0] in successors and row[6] == "2025-07-01" and row[0] in starts
                    else "",
                    "",
                ]
            )
            for row in units
        ],
    )
    write(
        EVENTS_FILE,
        "event_key,date,kind,subject_key,legal_basis_number,legal_basis_date,legal_basis_title,"
        "date_basis,basis_source,source,note",
        [
            f"reform-2025:{key},2025-07-01,merge,{key},,,,effective,unknown,previous,previous"
            for key in successors
        ],
    )
    write(
        LINEAGE_FILE,
        "date,level,from_key,to_key,partly,confidence,rule,event_key",
        [",".join([*row, "stated", "", f"reform-2025:{row[3]}"]) for row in lineage],
    )
    shutil.copy(DATA_DIR / REGIONS_FILE, folder / REGIONS_FILE)


async def test_upgrade_from_the_previous_release_keeps_what_users_added(
    session: AsyncSession, tmp_path: Path
) -> None:
    """A database seeded by the previous release (map of 2025-01-04 with open-start versions,
    no history), with rows users added, upgraded to this dataset: only the differences are
    applied, within 30 s, and nothing users added is lost (issue #12, item 6)."""
    _previous_release(tmp_path)
    await seed_units(session, lambda _m: None, data_dir=tmp_path)
    # the previous release's shape: one open-start version until the reform
    old_versions = (
        await session.execute(
            select(UnitVersion.valid_from, UnitVersion.valid_to).where(
                UnitVersion.unit_id == unit_id_for("commune:07468:pre2025")
            )
        )
    ).all()
    assert [tuple(v) for v in old_versions] == [(date(1, 1, 1), date(2025, 7, 1))]

    # what users added through the API: a village under an old commune, a classification, an
    # event with a link between two units, an ntm_region changed locally
    now = datetime.now(UTC)
    old_commune = unit_id_for("commune:07468:pre2025")  # Xã Tiên Nha (Lục Nam)
    village = uuid.uuid4()
    session.add(Unit(id=village, level="village", source_key=None, created_at=now, updated_at=now))
    await session.flush()
    session.add(
        UnitVersion(
            id=uuid.uuid4(),
            unit_id=village,
            valid_from=date(2020, 1, 1),
            valid_to=date(2025, 7, 1),
            level="village",
            code="07468-001",
            name="Thôn Thử",
            name_folded="thon thu",
            type="thon",
            parent_id=old_commune,
        )
    )
    classification = uuid.uuid4()
    session.add(
        UnitClassification(
            id=classification,
            unit_id=old_commune,
            kind="especially_difficult",
            value="true",
            valid_from=date(2021, 1, 1),
            valid_to=date(2025, 7, 1),
        )
    )
    user_event = uuid.uuid4()
    session.add(
        UnitEvent(id=user_event, kind="merge", effective_date=date(2023, 1, 1), source_key=None)
    )
    await session.flush()
    user_link = uuid.uuid4()
    session.add(
        UnitLink(
            id=user_link,
            event_id=user_event,
            effective_date=date(2023, 1, 1),
            predecessor_id=village,
            successor_id=old_commune,
            partly=True,
        )
    )
    await session.flush()

    started = time.perf_counter()
    result = await seed_units(session, lambda _m: None)
    took = time.perf_counter() - started
    assert not result.skipped
    assert took < 30, took
    assert result.counts["versions updated"] > 10000  # open-start versions now dated
    # the dataset now matches a fresh load; what users added is still there
    assert await count(session, Unit) == 15197 + 1
    assert await count(session, UnitVersion) == 17578 + 1
    assert await count(session, UnitEvent) == 8041 + 1
    assert await count(session, UnitLink) == 10834 + 1
    assert await count(session, UnitClassification) == 3379 + 1
    kept = await session.scalar(select(UnitVersion.name).where(UnitVersion.unit_id == village))
    assert kept == "Thôn Thử"
    assert await session.get(UnitClassification, classification) is not None
    link = await session.get(UnitLink, user_link)
    assert link is not None
    assert link.confidence == "stated"
    assert await session.get(UnitEvent, user_event) is not None
    first = await session.scalar(
        select(UnitVersion.valid_from).where(
            UnitVersion.id == version_id_for("commune:07468:pre2025", 0)
        )
    )
    assert first == date(2004, 8, 31)
