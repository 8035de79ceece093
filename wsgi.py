"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi``."""

from app import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One clear line instead of a traceback, for the CLI and gunicorn alike.
    raise SystemExit(f"jidu: configuration error: {exc}") from None
