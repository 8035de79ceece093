"""Schemathesis against /api/v1/openapi.json, in process (WSGI): no 5xx, answers as documented.

Requests are generated from the document itself, valid ones (positive) and
ones that break it (negative), for every operation, with a hotline token
(allowed everywhere), an open campaign and both keys (identity, evidence),
so that submissions and their files really get stored. Every answer must not be a server error, and
must conform to the document: a documented status code, its content type,
and its body schema. Rate limits are raised for this test only, so that the
API's behaviour is fuzzed rather than its limiter.

JIDU_FUZZ_REQUESTS sets how many requests to aim for (default 1,000; the run
makes at least that many); a summary by operation and status is printed.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS

from tests.conftest import bearer

TARGET = int(os.environ.get("JIDU_FUZZ_REQUESTS", "1000"))
CHECK_NAMES = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_schema_conformance")
RAISED_LIMITS = {name: "1000000 per minute" for name in (
    "JIDU_LIMIT_API_TOKEN", "JIDU_LIMIT_LOOKUP_ADDRESS", "JIDU_LIMIT_LOOKUP_SESSION",
    "JIDU_LIMIT_LOOKUP_RECEIPT")}


def _checks() -> list:
    schemathesis.checks.load_all_checks()
    return [CHECKS.get_one(name) for name in CHECK_NAMES]


@pytest.fixture
def raised_limits(app, monkeypatch):
    for name, value in RAISED_LIMITS.items():
        monkeypatch.setitem(app.config, name, value)


def _fuzz(strategy, examples: int, checks: list, statuses: Counter[int],
          failures: dict[tuple[str, str], str], label: str) -> int:
    """Up to ``examples`` requests from ``strategy``; returns how many were made."""
    made = 0

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case) -> None:
        nonlocal made
        # Each request in a fresh context, as in a real server (see
        # IsolatedClient): the test's own app context is not shared.
        response = contextvars.Context().run(case.call)
        made += 1
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            failures.setdefault((label, type(exc).__name__), str(exc)[:3000])

    with contextlib.suppress(Unsatisfiable):  # nothing to break: no parameters, no body
        run()
    return made


def test_generated_requests_get_documented_answers_and_never_a_5xx(
        app, ready, evidence_key, hotline_token, raised_limits):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Negative data needs something to break: a body or a parameter.
    plan = [(operation, mode) for operation in operations
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            if mode is GenerationMode.POSITIVE or operation.body
            or any(True for _p in operation.iter_parameters())]
    checks = _checks()
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    failures: dict[tuple[str, str], str] = {}
    made = rounds = 0
    # Rounds until the target is reached: an operation without input gives one
    # request, so the others make up for it in the next round.
    while made < TARGET and plan and rounds < 5:
        rounds += 1
        per_run = math.ceil((TARGET - made) / len(plan))
        productive = []
        for operation, mode in plan:
            label = f"{operation.label} ({mode.value})"
            strategy = operation.as_strategy(generation_mode=mode,
                                             headers=bearer(hotline_token))
            count = _fuzz(strategy, per_run, checks, statuses[label], failures, label)
            made += count
            if count > 1:
                productive.append((operation, mode))
        plan = productive

    total: Counter[int] = Counter()
    print(f"\n[schemathesis] {made} requests in {rounds} round(s), by operation and status:")
    for label, counts in statuses.items():
        total.update(counts)
        print(f"  {label}: " + ", ".join(f"{code}×{n}" for code, n in sorted(counts.items())))
    print("  all: " + ", ".join(f"{code}×{n}" for code, n in sorted(total.items())))
    print(f"  checks: {', '.join(CHECK_NAMES)}; failures: {len(failures)}")
    assert not failures, "\n\n".join(f"{label}: {text}" for (label, _k), text in failures.items())
    assert not [code for code in total if code >= 500]
    assert made >= TARGET
