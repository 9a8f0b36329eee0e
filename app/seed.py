"""The bundled reference data loaders, in dependency order, run by `ntm seed`. Each is idempotent.

This module only composes: the shared helpers live in ``app.db.seeding``, which the features'
``seed`` modules import, so nothing imports this module back.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.criteria.seed import seed_criteria_sets
from app.db.seeding import Progress, Seeder, SeedResult, run_seeders
from app.units.seed import seed_units

# Criteria sets name units by code: the map comes first.
SEEDERS: tuple[Seeder, ...] = (seed_units, seed_criteria_sets)


async def run_all(session: AsyncSession, progress: Progress) -> list[SeedResult]:
    return await run_seeders(session, progress, SEEDERS)
