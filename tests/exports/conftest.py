"""The assessments feature's test set and communes, reused by the export tests."""

from tests.assessments.conftest import communes, criteria_set

__all__ = ["communes", "criteria_set"]
