"""Repository of the identity feature."""
