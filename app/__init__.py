"""The application factory."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, has_request_context, request
from flask.logging import default_handler
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, Config, config_from_env

__version__ = "0.1.0"


class _RedactAddress(logging.Filter):
    """The development server logs client addresses; Jidu keeps none."""

    _pattern = re.compile(r"^\S+ - - ")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self._pattern.sub("- - - ", record.msg)
        return True


def create_app(config: type[Config] | None = None, **overrides: Any) -> Flask:
    config = config or config_from_env()
    config.check()
    app = Flask(
        __name__,
        instance_path=str(config.INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(config)
    app.config.update(overrides)
    from app.uploads.request import UploadRequest

    app.request_class = UploadRequest
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.config["JIDU_DATA_DIR"]).mkdir(parents=True, exist_ok=True)

    if app.config.get("JIDU_TRUSTED_PROXIES"):
        hops = int(app.config["JIDU_TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    _init_extensions(app)

    from app import api, cli, context, open311, web
    from app.services import theme_rollup

    # The daily roll-ups count the themes of the configured scenario file,
    # whichever door refreshes them (read through current_app on each call).
    theme_rollup.use_themes(context.rolled_up_themes)
    web.register(app)
    api.register(app)
    open311.register(app)
    cli.register(app)

    logging.getLogger("werkzeug").addFilter(_RedactAddress())
    # Flask-Limiter says "rate limit storage unreachable" (Redis down, limits
    # now per process) on a logger of its own that has no handler: send it
    # where the app's messages go (gunicorn's error log, the journal).
    limiter_log = logging.getLogger("flask-limiter")
    if default_handler not in limiter_log.handlers:
        limiter_log.addHandler(default_handler)
    return app


def _select_locale() -> Locale:
    """The request's language, parsed once per process (parsing costs a millisecond)."""
    return _parsed(_locale_code())


@functools.cache
def _parsed(code: str) -> Locale:
    return Locale.parse(code)


def _locale_code() -> str:
    from flask import current_app

    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # a CLI command or a worker: the default language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    choice = request.args.get("lang") or request.cookies.get("lang")
    if choice in supported:
        return str(choice)
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(supported) or "zh_CN"
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _release_session(_error: BaseException | None) -> None:
    """End the request's session even when its connection died (database restart).

    Rolling back on a dead connection raises; from Flask-SQLAlchemy's own
    teardown that would replace the answer already chosen (a JSON 503) with
    gunicorn's bare HTML 500. Here the connection is dropped instead.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from app.extensions import db

    try:
        db.session.remove()
    except SQLAlchemyError:
        with contextlib.suppress(SQLAlchemyError):
            db.session().invalidate()
        db.session.registry.clear()


def _init_extensions(app: Flask) -> None:
    from app.extensions import babel, csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    # After Flask-SQLAlchemy's own teardown, so that it runs first (reverse order).
    app.teardown_appcontext(_release_session)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(BASE_DIR / "app" / "translations"),
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                # Foreign keys on; WAL so that readers never block the
                # writer; secure_delete so that erased secrets are zeroed.
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA secure_delete=ON")
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.close()
