"""What every bundled-data loader shares: the result it reports, the checksum that makes it
idempotent, and the record of what was loaded (``reference_datasets``).

Features' ``seed`` modules import this; the ordered list of loaders is composed in ``app.seed``,
which imports the features (never the other way round).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.system import ReferenceDataset

Progress = Callable[[str], None]


@dataclass
class SeedResult:
    name: str
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        if self.skipped:
            return f"{self.name}: up to date"
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items()) or "nothing to change"
        return f"{self.name}: {counts}"


Seeder = Callable[[AsyncSession, Progress], Awaitable[SeedResult]]


def files_checksum(paths: Iterable[Path], *extra: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()


async def dataset_is_current(session: AsyncSession, name: str, checksum: str) -> bool:
    stored = await session.scalar(
        select(ReferenceDataset.checksum).where(ReferenceDataset.name == name)
    )
    return stored == checksum


async def mark_dataset(session: AsyncSession, name: str, checksum: str, version: str) -> None:
    record = await session.get(ReferenceDataset, name)
    if record is None:
        session.add(ReferenceDataset(name=name, checksum=checksum, version=version))
    else:
        record.checksum = checksum
        record.version = version


async def run_seeders(
    session: AsyncSession, progress: Progress, seeders: Sequence[Seeder]
) -> list[SeedResult]:
    """Run ``seeders`` in order, committing after each (a later failure keeps earlier data)."""
    results = []
    for seeder in seeders:
        results.append(await seeder(session, progress))
        await session.commit()
    if not all(result.skipped for result in results):
        # Planner statistics after a bulk load: without them PostgreSQL estimates the freshly
        # loaded map at a few rows and picks nested loops over it (a set-based read of the map,
        # such as a flat export's placement of units, then takes minutes instead of
        # milliseconds) until autovacuum gets to it. Both databases accept ANALYZE.
        await session.execute(text("ANALYZE"))
        await session.commit()
    return results
