"""Service of the assessments feature, split by use case.

Other features call these (never the repository): ``evaluation.evaluate_many`` for reports,
``evaluation.evaluation`` for one assessment.
"""
