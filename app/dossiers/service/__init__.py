"""Service of recognition dossiers, split by use case (dossiers, transitions, documents).

Other features call ``steps.is_step`` (role assignments name a procedure step)."""
