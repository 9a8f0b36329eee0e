from tests.assessments.conftest import criteria_set as criteria_set
from tests.units.conftest import sandbox as sandbox

__all__ = ["criteria_set", "sandbox"]
