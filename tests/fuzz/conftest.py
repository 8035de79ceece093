"""Fuzzing helpers: a tally each property test fills and prints when it ends.

Every test here prints what it tried and what held (run with ``-s`` to see
it), e.g. ``submission.validate: 200 payloads, accepted 61, refused 139``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Outcomes counted across every example of one test, printed at its end.

    Function-scoped on purpose: Hypothesis runs all examples inside one call
    of the test, so one counter sees them all (hence the suppressed
    ``function_scoped_fixture`` health check in the tests that use it).
    """
    counts: Counter[str] = Counter()
    yield counts
    total = counts.pop("tried", 0)
    outcomes = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
    print(f"\n[fuzz] {request.node.name}: tried {total}; {outcomes or 'no outcomes'}")
