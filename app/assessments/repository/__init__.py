"""SQL of the assessments feature (Core statements; the bulk path in ``staging``)."""
