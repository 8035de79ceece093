"""Use cases. Each takes its dependencies explicitly and commits once."""

# Registers the flush hook that keeps the daily roll-ups current.
from app.services import rollup  # noqa: E402,F401
