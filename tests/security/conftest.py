"""A live server that counts what reaches it, for the injection and XSS scans."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# High enough that no scan meets a limit: the limits have tests of their own.
UNLIMITED = "1000000 per minute"
LIMITS = ("JIDU_LIMIT_SUBMIT_ADDRESS", "JIDU_LIMIT_SUBMIT_SESSION", "JIDU_LIMIT_LOOKUP_ADDRESS",
          "JIDU_LIMIT_LOOKUP_SESSION", "JIDU_LIMIT_LOOKUP_RECEIPT", "JIDU_LIMIT_API_TOKEN")


class QuietHandler(WSGIRequestHandler):
    """Thousands of scan requests: counted, not logged one by one."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Counted:
    """Every request the server answered: (method, path) and status, counted."""

    wsgi: Wsgi
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        def counting(status: str, headers: Any, *args: Any) -> Any:
            with self.lock:
                self.calls[(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))] += 1
                self.statuses[int(status.split()[0])] += 1
            return start_response(status, headers, *args)

        return self.wsgi(environ, counting)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.statuses.clear()


@pytest.fixture
def counted_server(app: Flask, ready: str) -> Iterator[tuple[str, Counted]]:
    """The app on a free loopback port with rate limits out of the way, counting requests."""
    saved = {name: app.config[name] for name in LIMITS}
    app.config.update(dict.fromkeys(LIMITS, UNLIMITED))
    counted = Counted(app.wsgi_app)
    server = make_server("127.0.0.1", 0, counted, threaded=True,  # type: ignore[arg-type]
                         request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", counted
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.config.update(saved)
