"""Schemas of the identity feature."""
