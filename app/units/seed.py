"""`ntm seed` for units: the bundled national dataset, its 2025 lineage and the NTM regions.

Identities are deterministic (UUID 5 of a fixed namespace and the dataset key), so every install
gives the same ids. A run whose files are unchanged is skipped on their checksum; a changed
dataset applies only its differences: missing rows are inserted, changed versions, events, links
and classifications are replaced, versions no longer in the data are removed, and units no longer
in the data have their open version closed on the day of the run. Rows that the API has changed
since they were loaded (``updated_at`` later than ``created_at``; the loader writes both with the
same instant) are left alone: local changes win, and the run reports how many it kept.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext, record
from app.core.clock import today
from app.db import dialect as bulk_dialect
from app.db.chunking import chunks
from app.db.seeding import Progress, SeedResult, dataset_is_current, files_checksum, mark_dataset
from app.db.types import utcnow
from app.models.enums import AuditAction, ClassificationKind, LinkConfidence, UnitEventKind
from app.units import repository as repo
from app.units.repository import CLASSIFICATIONS, EVENTS, LINKS, UNITS, VERSIONS
from app.units.temporal import FIRST_KNOWN_DATE, ONE_DAY, OPEN_END, OPEN_START
from app.units.text import fold

DATA_DIR = Path(__file__).resolve().parent / "data"
UNITS_FILE = "units.csv.gz"
LINEAGE_FILE = "lineage.csv.gz"
EVENTS_FILE = "events.csv.gz"
REGIONS_FILE = "ntm_regions_2021_2025.json"
DATASET_NAME = "units"
# Bump when the way the files are turned into rows changes, so that installs reapply them.
LOADER_REVISION = "units-loader-2"

NAMESPACE = uuid.UUID("20a40e6f-73b0-5621-924b-2a2f35daba33")


def unit_id_for(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"unit:{key}")


def version_id_for(key: str, ordinal: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"version:{key}:{ordinal}")


def event_id_for(source_key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"event:{source_key}")


def link_id_for(from_key: str, to_key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"link:{from_key}>{to_key}")


def classification_id_for(key: str, kind: str, valid_from: date) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"classification:{key}:{kind}:{valid_from.isoformat()}")


REGIONS_NOTE = f"bundled dataset ({REGIONS_FILE})"
INHERITED_REGION_NOTE = (
    f"bundled dataset ({REGIONS_FILE}): inherited from the predecessors (lineage of 2025-07-01), "
    "all in one region"
)
MAY_BE_OLDER_NOTE = (
    f"may be older: first known in the statistics office list of {FIRST_KNOWN_DATE.isoformat()}"
)
REFORM_DATE = date(2025, 7, 1)
# Decision 51/2025/QĐ-TTg (signed 29/12/2025) takes effect on 15/02/2026: the 2021-2025 sets,
# and so the regions, apply until then (map-history-sources.md, criteria periods).
SETS_2026_START = date(2026, 2, 15)

VERSION_FIELDS = (
    "unit_id",
    "valid_from",
    "valid_to",
    "level",
    "code",
    "name",
    "name_folded",
    "type",
    "parent_id",
    "event_id",
)
EVENT_FIELDS = (
    "kind",
    "effective_date",
    "note",
    "payload",
    "source_key",
    "legal_basis_number",
    "legal_basis_date",
    "legal_basis_issuer",
    "legal_basis_title",
)
LINK_FIELDS = (
    "event_id",
    "effective_date",
    "predecessor_id",
    "successor_id",
    "partly",
    "confidence",
    "rule",
)
CLASSIFICATION_FIELDS = (
    "unit_id",
    "kind",
    "value",
    "valid_from",
    "valid_to",
    "note",
    "legal_basis_number",
    "legal_basis_date",
    "legal_basis_issuer",
    "legal_basis_title",
)


class SeedError(Exception):
    """The bundled files are inconsistent; nothing is written."""


@dataclass
class Dataset:
    version: str
    units: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    versions: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    events: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    links: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    classifications: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        content = handle.read()
    lines = content.splitlines(keepends=True)
    provenance = [line[2:].strip() for line in lines if line.startswith("# ")]
    body = io.StringIO("".join(line for line in lines if not line.startswith("# ")))
    return provenance, list(csv.DictReader(body))


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _package_version(provenance: Sequence[str]) -> str:
    for line in provenance:
        found = re.search(r"vietnam-provinces (\S+)", line)
        if found:
            return f"vietnam-provinces {found.group(1)}"
    return "bundled"


def _issuer(number: str | None) -> str | None:
    """The issuing body, read from the number's suffix (QH = National Assembly, ...)."""
    if not number:
        return None
    for suffix, issuer in _ISSUERS:
        if suffix in number:
            return issuer
    return None


_ISSUERS = (
    ("UBTVQH", "Ủy ban Thường vụ Quốc hội"),
    ("/QH", "Quốc hội"),
    ("NĐ-CP", "Chính phủ"),
    ("QĐ-TTg", "Thủ tướng Chính phủ"),
)


def read_dataset(data_dir: Path, now: datetime) -> Dataset:
    provenance, unit_rows = _read_csv(data_dir / UNITS_FILE)
    _, event_rows = _read_csv(data_dir / EVENTS_FILE)
    _, lineage_rows = _read_csv(data_dir / LINEAGE_FILE)
    dataset = Dataset(version=_dataset_version(provenance))
    stamp = {"created_at": now, "updated_at": now}

    events_by_key: dict[str, uuid.UUID] = {}
    for row in event_rows:
        event_id = event_id_for(row["event_key"])
        events_by_key[row["event_key"]] = event_id
        number = row["legal_basis_number"] or None
        dataset.events[event_id] = {
            "id": event_id,
            "kind": UnitEventKind(row["kind"]).value,
            "effective_date": date.fromisoformat(row["date"]),
            "note": row["note"] or None,
            "payload": {
                "subject_key": row["subject_key"],
                "date_basis": row["date_basis"],
                "basis_source": row["basis_source"],
                "source": row["source"],
            },
            "source_key": row["event_key"],
            "legal_basis_number": number,
            "legal_basis_date": _date(row["legal_basis_date"]),
            "legal_basis_issuer": _issuer(number),
            "legal_basis_title": row["legal_basis_title"] or None,
            "created_at": now,
        }

    by_key: dict[str, list[dict[str, str]]] = {}
    for row in unit_rows:
        by_key.setdefault(row["key"], []).append(row)
    for key, rows in by_key.items():
        unit_id = unit_id_for(key)
        dataset.units[unit_id] = {
            "id": unit_id,
            "level": rows[0]["level"],
            "source_key": key,
            **stamp,
        }
        rows.sort(key=lambda row: row["valid_from"])
        for ordinal, row in enumerate(rows):
            parent_key = row["parent_key"]
            if parent_key and parent_key not in by_key:
                raise SeedError(f"{UNITS_FILE}: {key} names unknown parent {parent_key}")
            event_key = row.get("event_key") or ""
            if event_key and event_key not in events_by_key:
                raise SeedError(f"{UNITS_FILE}: {key} names unknown event {event_key}")
            version_id = version_id_for(key, ordinal)
            dataset.versions[version_id] = {
                "id": version_id,
                "unit_id": unit_id,
                "valid_from": _date(row["valid_from"]) or OPEN_START,
                "valid_to": _date(row["valid_to"]) or OPEN_END,
                "level": row["level"],
                "code": row["code"],
                "name": row["name"],
                "name_folded": fold(row["name"]),
                "type": row["type"],
                "parent_id": unit_id_for(parent_key) if parent_key else None,
                "event_id": events_by_key[event_key] if event_key else None,
                "note": MAY_BE_OLDER_NOTE if "may_be_older" in row.get("flags", "") else None,
                **stamp,
            }

    for row in lineage_rows:
        for key in (row["from_key"], row["to_key"]):
            if key not in by_key:
                raise SeedError(f"{LINEAGE_FILE}: unknown unit key {key}")
        if row["event_key"] and row["event_key"] not in events_by_key:
            raise SeedError(f"{LINEAGE_FILE}: unknown event {row['event_key']}")
        link_id = link_id_for(row["from_key"], row["to_key"])
        dataset.links[link_id] = {
            "id": link_id,
            "event_id": events_by_key.get(row["event_key"]),
            "effective_date": date.fromisoformat(row["date"]),
            "predecessor_id": unit_id_for(row["from_key"]),
            "successor_id": unit_id_for(row["to_key"]),
            "partly": row["partly"] == "1",
            "confidence": LinkConfidence(row["confidence"]).value,
            "rule": row["rule"] or None,
        }

    _read_regions(data_dir / REGIONS_FILE, dataset, stamp, by_key, lineage_rows)
    return dataset


def _dataset_version(provenance: Sequence[str]) -> str:
    """The last commits of the dated lists and the package version, e.g. ``d88580f+eaddcea+
    vietnam-provinces 2026.9.0``: what changes when the sources are refreshed."""
    commits = []
    for line in provenance:
        commits += re.findall(r"last commit ([0-9a-f]{7})", line)
    package = _package_version(provenance)
    return "+".join([*commits, package]) if commits else package


def regions_after_reform(
    regions: dict[str, str],
    by_key: dict[str, list[dict[str, str]]],
    lineage_rows: Sequence[dict[str, str]],
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The NTM region of each post-reform commune for the 2021-2025 sets, from its
    predecessors' pre-reform provinces: (commune key -> region when they all lie in one region,
    commune key -> the regions found when they do not: for the province to decide)."""
    day = REFORM_DATE.isoformat()

    def province_before(key: str) -> str | None:
        for _ in range(3):
            rows = [
                r for r in by_key.get(key, []) if r["valid_from"] < day <= (r["valid_to"] or "9")
            ]
            rows = [r for r in rows if r["valid_to"] == day] or rows
            if not rows:
                return None
            row = rows[-1]
            if row["level"] == "province":
                return row["code"]
            key = row["parent_key"]
        return None

    sources: dict[str, set[str]] = {}
    for row in lineage_rows:
        if row["date"] == day and row["level"] == "commune":
            sources.setdefault(row["to_key"], set()).add(row["from_key"])
    for key, rows in by_key.items():  # continuing communes are their own source
        starts = any(r["valid_from"] == day for r in rows)
        if rows[0]["level"] == "commune" and starts and any(r["valid_to"] == day for r in rows):
            sources.setdefault(key, set()).add(key)
    inherited: dict[str, str] = {}
    mixed: dict[str, list[str]] = {}
    for key, froms in sorted(sources.items()):
        found = {regions.get(province_before(f) or "", "?") for f in froms}
        if len(found) == 1 and "?" not in found:
            inherited[key] = found.pop()
        else:
            mixed[key] = sorted(found)
    return inherited, mixed


def _read_regions(
    path: Path,
    dataset: Dataset,
    stamp: dict[str, Any],
    by_key: dict[str, list[dict[str, str]]],
    lineage_rows: Sequence[dict[str, str]],
) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    kind = ClassificationKind(document["kind"]).value
    valid_from = date.fromisoformat(document["valid_from"])
    valid_to = date.fromisoformat(document["valid_to"])
    basis = document["legal_basis"]
    regions: dict[str, str] = {}

    def add(key: str, value: str, start: date, end: date, note: str) -> None:
        classification_id = classification_id_for(key, kind, start)
        dataset.classifications[classification_id] = {
            "id": classification_id,
            "unit_id": unit_id_for(key),
            "kind": kind,
            "value": value,
            "valid_from": start,
            "valid_to": end,
            "note": note,
            "legal_basis_number": basis["number"],
            "legal_basis_date": date.fromisoformat(basis["date"]),
            "legal_basis_issuer": basis["issuer"],
            "legal_basis_title": basis["title"],
            **stamp,
        }

    for region in document["regions"]:
        for code in region["province_codes"]:
            key = f"province:{code}:pre2025"
            if unit_id_for(key) not in dataset.units:
                raise SeedError(f"{REGIONS_FILE}: unknown province {key}")
            regions[code] = region["code"]
            add(key, region["code"], valid_from, valid_to, REGIONS_NOTE)
    # After the reform the 2021-2025 sets still apply until 51/2025/QĐ-TTg takes effect: a
    # post-reform commune inherits its predecessors' region when they all lie in one region.
    inherited, _ = regions_after_reform(regions, by_key, lineage_rows)
    for key, value in inherited.items():
        add(key, value, REFORM_DATE, SETS_2026_START, INHERITED_REGION_NOTE)


def _differs(wanted: dict[str, Any], stored: Any, fields: Iterable[str]) -> bool:
    return any(wanted[name] != stored[name] for name in fields)


def _touched(stored: Any) -> bool:
    return bool(stored["updated_at"] != stored["created_at"])


@dataclass
class Plan:
    units: list[dict[str, Any]] = field(default_factory=list)
    events_insert: list[dict[str, Any]] = field(default_factory=list)
    events_update: list[dict[str, Any]] = field(default_factory=list)
    events_delete: list[uuid.UUID] = field(default_factory=list)
    versions_insert: list[dict[str, Any]] = field(default_factory=list)
    versions_delete: list[uuid.UUID] = field(default_factory=list)
    versions_close: list[uuid.UUID] = field(default_factory=list)
    links_insert: list[dict[str, Any]] = field(default_factory=list)
    links_delete: list[uuid.UUID] = field(default_factory=list)
    classifications_insert: list[dict[str, Any]] = field(default_factory=list)
    classifications_delete: list[uuid.UUID] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    touched_units: set[uuid.UUID] = field(default_factory=set)

    def count(self, name: str, amount: int = 1) -> None:
        if amount:
            self.counts[name] = self.counts.get(name, 0) + amount


async def _stored(session: AsyncSession) -> dict[str, list[Any]]:
    owned = select(UNITS.c.id).where(UNITS.c.source_key.is_not(None))
    events = select(EVENTS.c.id).where(EVENTS.c.source_key.is_not(None))
    return {
        "units": list(
            await repo.fetch_mappings(
                session,
                select(UNITS.c.id, UNITS.c.source_key).where(UNITS.c.source_key.is_not(None)),
            )
        ),
        "versions": list(
            await repo.fetch_mappings(
                session, select(VERSIONS).where(VERSIONS.c.unit_id.in_(owned))
            )
        ),
        "events": list(
            await repo.fetch_mappings(session, select(EVENTS).where(EVENTS.c.id.in_(events)))
        ),
        "links": list(await repo.fetch_mappings(session, select(LINKS))),
        "classifications": list(
            await repo.fetch_mappings(
                session, select(CLASSIFICATIONS).where(CLASSIFICATIONS.c.unit_id.in_(owned))
            )
        ),
    }


def plan_changes(dataset: Dataset, stored: dict[str, list[Any]]) -> Plan:
    plan = Plan()
    stored_units = {row["id"]: row for row in stored["units"]}
    plan.units = [row for uid, row in dataset.units.items() if uid not in stored_units]
    plan.count("units inserted", len(plan.units))

    stored_events = {row["id"]: row for row in stored["events"]}
    for event_id, wanted in dataset.events.items():
        have = stored_events.get(event_id)
        if have is None:
            plan.events_insert.append(wanted)
        elif _differs(wanted, have, EVENT_FIELDS):
            plan.events_update.append(wanted)
    plan.events_delete.extend(eid for eid in stored_events if eid not in dataset.events)
    plan.count("events inserted", len(plan.events_insert))
    plan.count("events updated", len(plan.events_update))
    plan.count("events removed", len(plan.events_delete))

    # Dataset versions are recognised by their deterministic id; others were made through the API.
    versions_per_unit: dict[uuid.UUID, list[Any]] = {}
    for row in stored["versions"]:
        versions_per_unit.setdefault(row["unit_id"], []).append(row)
    dataset_ids: dict[uuid.UUID, Any] = {}
    for unit_id, rows in versions_per_unit.items():
        key = stored_units[unit_id]["source_key"]
        possible = {version_id_for(key, n) for n in range(len(rows) + 1)}
        dataset_ids.update({row["id"]: row for row in rows if row["id"] in possible})
    api_starts = {
        (row["unit_id"], row["valid_from"])
        for row in stored["versions"]
        if row["id"] not in dataset_ids
    }
    for version_id, wanted in dataset.versions.items():
        have = dataset_ids.get(version_id)
        if have is not None and _touched(have):
            plan.count("versions kept (changed locally)")
            continue
        if have is not None and not _differs(wanted, have, VERSION_FIELDS):
            continue
        if have is None and (wanted["unit_id"], wanted["valid_from"]) in api_starts:
            plan.count("versions kept (changed locally)")
            continue
        if have is not None:
            plan.versions_delete.append(version_id)
            plan.count("versions updated")
        else:
            plan.count("versions inserted")
        plan.versions_insert.append(wanted)
        plan.touched_units.add(wanted["unit_id"])
    for version_id, have in dataset_ids.items():
        if version_id in dataset.versions or _touched(have):
            continue
        if have["unit_id"] in dataset.units:
            plan.versions_delete.append(version_id)
            plan.count("versions removed")
        elif have["valid_to"] == OPEN_END:
            plan.versions_close.append(version_id)
            plan.count("units closed")
        else:
            continue
        plan.touched_units.add(have["unit_id"])

    stored_links = {row["id"]: row for row in stored["links"]}
    taken_pairs = {
        (row["predecessor_id"], row["successor_id"])
        for row in stored["links"]
        if row["id"] not in dataset.links and row["event_id"] not in stored_events
    }
    for link_id, wanted in dataset.links.items():
        have = stored_links.get(link_id)
        if have is not None and not _differs(wanted, have, LINK_FIELDS):
            continue
        if (wanted["predecessor_id"], wanted["successor_id"]) in taken_pairs:
            plan.count("links kept (recorded through the API)")
            continue
        if have is not None:
            plan.links_delete.append(link_id)
        plan.links_insert.append(wanted)
    plan.links_delete.extend(
        row["id"]
        for row in stored["links"]
        if row["event_id"] in stored_events and row["id"] not in dataset.links
    )
    plan.count("links written", len(plan.links_insert))
    plan.count("links removed", len(set(plan.links_delete) - set(dataset.links)))

    stored_classifications = {row["id"]: row for row in stored["classifications"]}
    for classification_id, wanted in dataset.classifications.items():
        have = stored_classifications.get(classification_id)
        if have is not None and (
            _touched(have) or not _differs(wanted, have, CLASSIFICATION_FIELDS)
        ):
            continue
        if have is not None:
            plan.classifications_delete.append(classification_id)
        plan.classifications_insert.append(wanted)
        plan.touched_units.add(wanted["unit_id"])
    for classification_id, have in stored_classifications.items():
        if (
            classification_id not in dataset.classifications
            and have["note"] in (REGIONS_NOTE, INHERITED_REGION_NOTE)
            and not _touched(have)
        ):
            plan.classifications_delete.append(classification_id)
            plan.touched_units.add(have["unit_id"])
    plan.count("classifications written", len(plan.classifications_insert))
    return plan


async def apply_plan(session: AsyncSession, plan: Plan, run_date: date, now: datetime) -> None:
    await repo.delete_by_ids(session, LINKS, plan.links_delete)
    await repo.delete_by_ids(session, CLASSIFICATIONS, plan.classifications_delete)
    await repo.delete_by_ids(session, VERSIONS, plan.versions_delete)
    if plan.events_delete:
        for part in chunks(plan.events_delete):
            await session.execute(
                update(VERSIONS).where(VERSIONS.c.event_id.in_(part)).values(event_id=None)
            )
        await repo.delete_by_ids(session, EVENTS, plan.events_delete)
    for event in plan.events_update:
        values = {name: event[name] for name in EVENT_FIELDS}
        await session.execute(update(EVENTS).where(EVENTS.c.id == event["id"]).values(**values))
    await _bulk_insert(session, UNITS, plan.units)
    await _bulk_insert(session, EVENTS, plan.events_insert)
    await _bulk_insert(session, VERSIONS, plan.versions_insert)
    await _bulk_insert(session, LINKS, plan.links_insert)
    await _bulk_insert(session, CLASSIFICATIONS, plan.classifications_insert)
    for version_id in plan.versions_close:
        row = (
            await session.execute(select(VERSIONS.c.valid_from).where(VERSIONS.c.id == version_id))
        ).first()
        if row is not None:
            closing = max(run_date, row.valid_from + ONE_DAY)
            await session.execute(
                update(VERSIONS)
                .where(VERSIONS.c.id == version_id)
                .values(valid_to=closing, created_at=now, updated_at=now)
            )
    await repo.touch_units(session, plan.touched_units - {row["id"] for row in plan.units}, now)


async def _bulk_insert(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await bulk_dialect.for_session(session).insert_table(session, table, rows)


async def seed_units(
    session: AsyncSession,
    progress: Progress,
    *,
    data_dir: Path = DATA_DIR,
    clock: Callable[[], date] = today,
) -> SeedResult:
    started = time.perf_counter()
    paths = [
        data_dir / UNITS_FILE,
        data_dir / EVENTS_FILE,
        data_dir / LINEAGE_FILE,
        data_dir / REGIONS_FILE,
    ]
    checksum = files_checksum(paths, LOADER_REVISION)
    if await dataset_is_current(session, DATASET_NAME, checksum):
        return SeedResult(name=DATASET_NAME, skipped=True)

    now = utcnow()
    progress(
        f"units: reading {data_dir.name}/{UNITS_FILE}, {EVENTS_FILE}, {LINEAGE_FILE}, "
        f"{REGIONS_FILE}"
    )
    dataset = read_dataset(data_dir, now)
    progress(
        f"units: dataset {dataset.version}: {len(dataset.units)} units, "
        f"{len(dataset.versions)} versions, {len(dataset.events)} events, "
        f"{len(dataset.links)} links, {len(dataset.classifications)} classifications"
    )
    await repo.lock_map(session)
    stored = await _stored(session)
    plan = plan_changes(dataset, stored)
    progress("units: " + (", ".join(f"{k} {v}" for k, v in plan.counts.items()) or "no change"))
    await apply_plan(session, plan, clock(), now)
    await mark_dataset(session, DATASET_NAME, checksum, dataset.version)
    await session.flush()  # sessions do not autoflush: make the checksum visible to this session
    await record(
        session,
        AuditContext.system("ntm seed"),
        entity="reference_dataset",
        entity_id=DATASET_NAME,
        action=AuditAction.IMPORT,
        after={"version": dataset.version, "checksum": checksum, **plan.counts},
    )
    progress(f"units: done in {time.perf_counter() - started:.1f} s")
    return SeedResult(name=DATASET_NAME, counts=dict(plan.counts))
