"""Service layer of the identity feature: ``auth`` (tokens), ``accounts`` (users and clients),
``grants`` (role assignments), ``me`` (the caller's own account), ``setup`` (command line and first
start)."""
