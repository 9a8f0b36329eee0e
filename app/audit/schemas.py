"""Schemas of the audit feature."""
