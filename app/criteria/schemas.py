"""Schemas of the criteria feature."""
