"""The bulk import pipeline of indicator values: file formats (``parsing``), row checks, staging
and merge, background jobs and the XLSX template.

Layers as in every feature: ``router`` → ``service`` → ``repository``; ``parsing`` is pure (no
database) and used by all three.
"""
