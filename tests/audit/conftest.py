from __future__ import annotations

import pytest

from app.db.engine import Database
from tests.identity.conftest import Tree, make_tree


@pytest.fixture
async def tree(database: Database) -> Tree:
    return await make_tree(database)
