"""Service of the assessments feature."""
