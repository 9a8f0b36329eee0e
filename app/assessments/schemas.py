"""Schemas of the assessments feature."""
