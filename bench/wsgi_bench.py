"""The application as deploy/ serves it, plus one trivial route, for bench_intake.py.

``GET /bench/ping`` answers "ok" through the same app, server, workers and
threads as the real routes (request and response hooks included), so that
its rate is the framework's own ceiling on this machine. It exists only in
this module, never in a production route.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wsgi import app  # noqa: E402


def ping() -> str:
    return "ok"


app.add_url_rule("/bench/ping", "bench_ping", ping)
