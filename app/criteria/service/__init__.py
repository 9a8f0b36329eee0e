"""Rules of the criteria feature: reading, authoring and threshold resolution."""
