"""Service of plans, split by use case: plans (and their adjustments), the items a plan holds
(targets, roadmap, tasks), its documents, and progress on a date."""
