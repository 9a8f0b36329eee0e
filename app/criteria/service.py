"""Service of the criteria feature."""
