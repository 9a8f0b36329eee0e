from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.permissions import Role
from app.db.engine import Database
from tests.conftest import PrincipalFactory, TestPrincipal
from tests.dossiers.helpers import appraiser, published_set
from tests.identity.conftest import Tree, make_tree


@pytest.fixture
async def tree(database: Database) -> Tree:
    return await make_tree(database)


@pytest.fixture
async def criteria_set(admin_client: AsyncClient) -> dict[str, Any]:
    return await published_set(admin_client)


@dataclass(frozen=True)
class People:
    commune: TestPrincipal  # commune officer of c1
    district: TestPrincipal  # district officer of d1
    appraiser_2022: TestPrincipal  # appraiser of p1 at commune-2022/provincial_appraisal
    appraiser_2025: TestPrincipal  # appraiser of p1 at commune-2025/provincial_appraisal
    decider: TestPrincipal  # decision maker of p1
    other_commune: TestPrincipal  # commune officer of c2 (another province)


@pytest.fixture
async def people(admin_client: AsyncClient, make_principal: PrincipalFactory, tree: Tree) -> People:
    return People(
        commune=await make_principal(Role.COMMUNE_OFFICER, unit_id=tree.c1),
        district=await make_principal(Role.DISTRICT_OFFICER, unit_id=tree.d1),
        appraiser_2022=await appraiser(
            admin_client, make_principal, tree.p1, "commune-2022/provincial_appraisal"
        ),
        appraiser_2025=await appraiser(
            admin_client, make_principal, tree.p1, "commune-2025/provincial_appraisal"
        ),
        decider=await make_principal(Role.DECISION_MAKER, unit_id=tree.p1),
        other_commune=await make_principal(Role.COMMUNE_OFFICER, unit_id=tree.c2),
    )
