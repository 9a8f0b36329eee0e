"""Fixtures of the integration tests: the units sandbox and the identity tree."""

from tests.identity.conftest import tree
from tests.units.conftest import sandbox

__all__ = ["sandbox", "tree"]
