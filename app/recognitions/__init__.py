"""The register of titles: recognitions by decision, revocations, carry-over after mergers."""
