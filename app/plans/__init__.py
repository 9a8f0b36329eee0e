"""Plans of the programme: targets, roadmap, tasks, documents and progress (docs/plans.md)."""
