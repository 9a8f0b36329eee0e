"""SQL of the import pipeline: the staging table and the merge into indicator values."""
