"""Repository of the criteria feature."""
