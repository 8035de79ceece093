"""Use cases. Each takes its dependencies explicitly and commits once."""
