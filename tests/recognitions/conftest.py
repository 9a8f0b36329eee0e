from tests.units.conftest import sandbox as sandbox

__all__ = ["sandbox"]
