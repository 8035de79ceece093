"""Where export jobs get built: a daemon thread in the web process, or ``flask exports run``.

Both call ``services.export_jobs.run_pending`` with their own app context and
database session; claiming is atomic, so they may run side by side in any
number of processes. The thread is started by the request that queued a job
(``JIDU_EXPORT_IN_PROCESS``); a deployment that prefers a separate service
switches it off and runs the command instead.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask

from app.extensions import db
from app.services import export_jobs

log = logging.getLogger(__name__)


@dataclass
class _WorkerState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None
    again: bool = False


def run_once(app: Flask) -> int:
    """Build every pending job now (and sweep expired files); returns how many were built."""
    return export_jobs.run_pending(
        db.session, data_dir=app.config["JIDU_DATA_DIR"],
        retention=timedelta(hours=app.config["JIDU_EXPORT_RETENTION_HOURS"]))


def start_worker(app: Flask) -> threading.Thread:
    """Make sure a thread of this process is building pending jobs; returns it.

    If one is already running it is asked to look again before it stops, so
    that a job queued while it finishes its last look is not left behind.
    """
    state: _WorkerState = app.extensions.setdefault("jidu_export_worker", _WorkerState())
    with state.lock:
        if state.thread is not None and state.thread.is_alive():
            state.again = True
            return state.thread
        state.again = False
        state.thread = threading.Thread(target=_work, args=(app, state),
                                        name="jidu-exports", daemon=True)
        state.thread.start()
        return state.thread


def _work(app: Flask, state: _WorkerState) -> None:
    with app.app_context():
        try:
            while True:
                try:
                    run_once(app)
                except Exception:
                    db.session.rollback()
                    log.exception("export worker: a run failed")
                with state.lock:
                    if not state.again:
                        state.thread = None
                        return
                    state.again = False
        finally:
            db.session.remove()

