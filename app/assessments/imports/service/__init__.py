"""Use cases of the import pipeline: run an import, check rows, jobs, the template."""
