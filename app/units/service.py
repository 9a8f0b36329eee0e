"""Service of the units feature."""
