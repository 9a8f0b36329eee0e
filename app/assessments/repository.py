"""Repository of the assessments feature."""
