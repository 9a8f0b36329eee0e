"""Service of the identity feature."""
