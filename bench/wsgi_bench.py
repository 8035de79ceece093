"""The application as deploy/ serves it, plus one trivial route, for bench_intake.py.

``GET /bench/ping`` answers "ok" through the same app, server, workers and
threads as the real routes (request and response hooks included), so that
its rate is the framework's own ceiling on this machine. ``POST /bench/write``
stores the request's body as one row of a table of its own and commits, through
the same session and database: the cost of one durable write, below which no
submission can go. They exist only in this module, never in a production
route.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import request  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.extensions import csrf, db  # noqa: E402
from wsgi import app  # noqa: E402


def ping() -> str:
    return "ok"


def write() -> tuple[str, int]:
    db.session.execute(text("INSERT INTO bench_writes (body) VALUES (:body)"),
                       {"body": request.get_data(as_text=True)})
    db.session.commit()
    return "", 201


with app.app_context():
    key = "bigserial" if db.engine.dialect.name == "postgresql" else "integer"
    with db.engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE IF NOT EXISTS bench_writes "
                                f"(id {key} PRIMARY KEY, body text)"))

app.add_url_rule("/bench/ping", "bench_ping", ping)
app.add_url_rule("/bench/write", "bench_write", csrf.exempt(write), methods=["POST"])
