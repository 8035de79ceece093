"""Fuzzing: property tests (Hypothesis) and the API against its document (Schemathesis)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def refusal(call: Callable[[], Any], *errors: type[Exception]) -> Exception | None:
    """The domain error that ``call()`` raised (one of ``errors``), or None if it returned.

    Anything else propagates: that is the crash a property test looks for.
    """
    try:
        call()
    except errors as exc:
        return exc
    return None
