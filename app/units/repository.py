"""Repository of the units feature."""
