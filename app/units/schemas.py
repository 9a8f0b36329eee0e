"""Schemas of the units feature."""
