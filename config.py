"""Configuration from environment variables.

Every setting Jidu reads is listed here with what it means. ``JIDU_ENV`` picks
the class: ``production`` (the default, so that a forgotten variable fails
closed), ``development`` (what ``make run`` writes into ``.env``) or
``testing``. A ``.env`` file beside this one is read first when present; real
environment variables always win over it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
#: JIDU_DOTENV: the .env file to read (default: the one beside this file);
#: set it empty to read none.
_dotenv = os.environ.get("JIDU_DOTENV", str(BASE_DIR / ".env"))
if _dotenv:
    load_dotenv(_dotenv, override=False)


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; the app must not start."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


def _engine_options(url: str) -> dict[str, object]:
    # pre_ping: a pooled connection that PostgreSQL closed (restart, idle
    # timeout, fail-over) is replaced instead of failing a reporter's
    # submission. hide_parameters: a logged database error never carries
    # submitted values.
    options: dict[str, object] = {"pool_pre_ping": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        return options
    options.update(
        pool_size=_int("JIDU_DB_POOL_SIZE", 5),
        max_overflow=_int("JIDU_DB_MAX_OVERFLOW", 5),
        pool_timeout=_int("JIDU_DB_POOL_TIMEOUT", 10),
        pool_recycle=_int("JIDU_DB_POOL_RECYCLE", 1800),
    )
    if url.startswith("postgresql"):
        # application_name shows which connections are Jidu's in
        # pg_stat_activity; connect_timeout keeps an unreachable database
        # from holding a request for the operating system's minutes.
        options["connect_args"] = {"application_name": "jidu", "connect_timeout": 5}
    return options


class Config:
    #: Where the embedded database, the data directory and (in development
    #: only) the key passphrase live.
    INSTANCE_DIR = Path(os.environ.get("JIDU_INSTANCE_DIR", BASE_DIR / "instance"))

    #: DATABASE_URL: SQLAlchemy URL. Default: SQLite file in ``instance/``.
    #: PostgreSQL: ``postgresql+psycopg://user@host:5432/db``.
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'jidu.sqlite3'}"
    )
    #: Connection pool of each process on PostgreSQL (ignored on SQLite).
    #: JIDU_DB_POOL_SIZE (5) connections are kept open, JIDU_DB_MAX_OVERFLOW (5)
    #: more opened under load; a request waits JIDU_DB_POOL_TIMEOUT seconds (10)
    #: for one, then fails rather than queueing without end. Size it against
    #: PostgreSQL's max_connections (100 by default): hosts x gunicorn workers
    #: x (pool + overflow), plus the workers and timers, must stay below it.
    #: A gunicorn worker serves JIDU_WEB_THREADS requests at once (4), so
    #: the pool should not be smaller than that.
    #: JIDU_DB_POOL_RECYCLE: connections older than this many seconds (1800)
    #: are replaced, so that a firewall or pgbouncer dropping idle ones is
    #: never seen by a request.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = _engine_options(SQLALCHEMY_DATABASE_URI)

    #: SECRET_KEY: signs sessions and CSRF tokens. Required in production.
    SECRET_KEY = os.environ.get("SECRET_KEY")

    #: JIDU_RECEIPT_KEY: keys the receipt hashes and the notify-address
    #: encryption. Kept apart from SECRET_KEY so that rotating the session key
    #: never breaks a reporter's receipt. Required in production.
    JIDU_RECEIPT_KEY = os.environ.get("JIDU_RECEIPT_KEY")

    #: JIDU_DATA_DIR: files Jidu writes (mail folder, reports, attachments).
    JIDU_DATA_DIR = Path(os.environ.get("JIDU_DATA_DIR", INSTANCE_DIR / "data"))

    #: JIDU_BASE_URL: absolute public URL put into QR codes and mails.
    #: Required in production.
    JIDU_BASE_URL = os.environ.get("JIDU_BASE_URL", "http://127.0.0.1:5000").rstrip("/")

    #: JIDU_SCRYPT_LOG2N: cost of the scrypt derivation that protects the
    #: identity private key (2**17 by default, about 0.3 s and 128 MiB).
    #: Only tests lower it, through their own config class.
    JIDU_SCRYPT_LOG2N = _int("JIDU_SCRYPT_LOG2N", 17)

    #: REDIS_URL: optional. When set, rate limits are shared through Redis by
    #: every process and host; otherwise they live in this process's memory.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # If Redis stops answering, each process counts in its own memory until
    # it is back (checked again with growing pauses): limits are then per
    # process, but reporters are never turned away with a 500 because the
    # limiter's store is down. The short timeouts keep a hung Redis from
    # holding requests.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = bool(REDIS_URL)
    RATELIMIT_STORAGE_OPTIONS: dict[str, object] = (
        {"socket_connect_timeout": 2, "socket_timeout": 2} if REDIS_URL else {})
    RATELIMIT_HEADERS_ENABLED = True
    #: JIDU_RATELIMITS: false switches every rate limit off (load tests only).
    RATELIMIT_ENABLED = _bool("JIDU_RATELIMITS", True)

    #: Response deadlines per colour (红橙黄): red in hours, orange and yellow
    #: in Chinese working days (holidays and 调休 from chinese_calendar).
    JIDU_DEADLINE_RED_HOURS = _int("JIDU_DEADLINE_RED_HOURS", 24)
    JIDU_DEADLINE_ORANGE_WORKDAYS = _int("JIDU_DEADLINE_ORANGE_WORKDAYS", 3)
    JIDU_DEADLINE_YELLOW_WORKDAYS = _int("JIDU_DEADLINE_YELLOW_WORKDAYS", 7)

    #: JIDU_TRUSTED_PROXIES: how many reverse proxies stand in front of the
    #: app, each appending to X-Forwarded-For (nginx alone: 1; a load balancer
    #: and nginx: 2). The address that many entries from the right end of the
    #: header is taken as the client's, so that per-address rate limits see
    #: the real client and not nginx; entries further left, which the client
    #: may have written itself, are ignored. 0 (default): no header is
    #: believed. Set it only when the app cannot be reached except through
    #: those proxies. The address is used only for the rate-limit key (a
    #: keyed hash that changes daily) and is never stored or logged.
    JIDU_TRUSTED_PROXIES = _int("JIDU_TRUSTED_PROXIES", 0)

    #: Rate limits, in Flask-Limiter notation ("N per minute;M per hour").
    #: Per address they are generous (a whole meeting behind one NAT address
    #: may report at once); per browser session and per receipt they are
    #: tight, which is what stops guessing and flooding.
    JIDU_LIMIT_SUBMIT_ADDRESS = os.environ.get("JIDU_LIMIT_SUBMIT_ADDRESS", "120 per hour")
    JIDU_LIMIT_SUBMIT_SESSION = os.environ.get("JIDU_LIMIT_SUBMIT_SESSION", "10 per hour")
    JIDU_LIMIT_LOOKUP_ADDRESS = os.environ.get(
        "JIDU_LIMIT_LOOKUP_ADDRESS", "60 per minute;300 per hour"
    )
    JIDU_LIMIT_LOOKUP_SESSION = os.environ.get("JIDU_LIMIT_LOOKUP_SESSION", "10 per minute")
    JIDU_LIMIT_LOOKUP_RECEIPT = os.environ.get("JIDU_LIMIT_LOOKUP_RECEIPT", "10 per minute")
    #: Per partner token, for every /api/v1 call made with it.
    JIDU_LIMIT_API_TOKEN = os.environ.get("JIDU_LIMIT_API_TOKEN", "600 per minute")
    #: Wrong or missing Bearer tokens per address (API and Open311): past
    #: this, the address gets 429 without a look-up until the window ends.
    #: Short on purpose: a partner retrying with a revoked token recovers a
    #: minute after its new token is in place.
    JIDU_LIMIT_API_TOKEN_FAILURES = os.environ.get("JIDU_LIMIT_API_TOKEN_FAILURES",
                                                   "30 per minute")

    #: MAIL_SERVER and friends: SMTP relay for notifications. Without
    #: MAIL_SERVER, mail is written to ``JIDU_DATA_DIR/mail`` instead.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "jidu@localhost")

    #: JIDU_IMPORT_WORKERS: processes that prepare rows (screening, sealing)
    #: when ``flask hotline import`` reads a large file; 1 keeps it in one
    #: process. Default: the number of CPU cores.
    JIDU_IMPORT_WORKERS = _int("JIDU_IMPORT_WORKERS", os.cpu_count() or 1)

    #: The outbox worker (``flask --app wsgi outbox run``). A failed message
    #: is retried a minute later, then after 2, 4, 8… minutes, at most an
    #: hour apart; after JIDU_OUTBOX_MAX_ATTEMPTS (default 40, about a day
    #: and a half of outage) it is marked dead and shown to admins.
    JIDU_OUTBOX_MAX_ATTEMPTS = _int("JIDU_OUTBOX_MAX_ATTEMPTS", 40)
    #: JIDU_OUTBOX_INTERVAL: seconds the worker waits between rounds.
    JIDU_OUTBOX_INTERVAL = _int("JIDU_OUTBOX_INTERVAL", 10)
    #: JIDU_REMINDER_HOURS: departments are reminded this long before a due time.
    JIDU_REMINDER_HOURS = _int("JIDU_REMINDER_HOURS", 24)
    #: JIDU_DIGEST_HOUR: local hour (Asia/Shanghai) from which supervisors'
    #: daily digest of due and overdue items is sent.
    JIDU_DIGEST_HOUR = _int("JIDU_DIGEST_HOUR", 8)

    #: JIDU_SCENARIOS_FILE: the scenarios (场景) of the insight side, as JSON:
    #: themes that set complaints against enforcement cases (/review/scenarios)
    #: and make the "theme" series of early warning. Format and checks in
    #: app/services/scenario_config.py; a wrong file is refused with a message
    #: naming the scenario and theme. Default: the shipped 酒店民宿业执法监督
    #: scenario, app/data/scenarios.json.
    JIDU_SCENARIOS_FILE = Path(
        os.environ.get("JIDU_SCENARIOS_FILE") or BASE_DIR / "app" / "data" / "scenarios.json"
    )

    #: JIDU_XLSX_INLINE_ROWS: an XLSX export of the queue with up to this many
    #: rows is built while the reviewer waits; a larger one becomes a
    #: background job with a download link on the "我的导出" page.
    JIDU_XLSX_INLINE_ROWS = _int("JIDU_XLSX_INLINE_ROWS", 5000)
    #: JIDU_EXPORT_RETENTION_HOURS: finished export files are removed after this long.
    JIDU_EXPORT_RETENTION_HOURS = _int("JIDU_EXPORT_RETENTION_HOURS", 24)
    #: JIDU_EXPORT_IN_PROCESS: the web process builds queued exports in a
    #: background thread of its own. Set false when ``flask --app wsgi exports
    #: run`` runs as a separate service; both together are safe too.
    JIDU_EXPORT_IN_PROCESS = _bool("JIDU_EXPORT_IN_PROCESS", True)
    #: JIDU_EXPORT_INTERVAL: seconds ``exports run`` waits between looks.
    JIDU_EXPORT_INTERVAL = _int("JIDU_EXPORT_INTERVAL", 5)

    # A reporter on a slow island connection may take an hour over the form;
    # an expired CSRF token must not cost them what they typed, so the token
    # lives as long as the session (the form also keeps input on any error).
    WTF_CSRF_TIME_LIMIT = None
    # 64 KiB is far more than the longest form (4,000 characters of text);
    # anything larger is not a reporter. Requests that may carry attachments
    # (app/uploads/request.py) get JIDU_UPLOAD_REQUEST_BYTES instead.
    MAX_CONTENT_LENGTH = 256 * 1024
    MAX_FORM_MEMORY_SIZE = 256 * 1024

    #: JIDU_MAX_ATTACHMENTS: evidence files per submission or reply (5).
    JIDU_MAX_ATTACHMENTS = _int("JIDU_MAX_ATTACHMENTS", 5)
    #: JIDU_MAX_ATTACHMENT_MB: largest evidence file, in MiB (20). A phone
    #: photo is 2-8 MB, a scanned PDF rarely more; video is not taken.
    JIDU_MAX_ATTACHMENT_MB = _int("JIDU_MAX_ATTACHMENT_MB", 20)
    #: JIDU_MAX_IMAGE_PIXELS: larger pictures are refused as decompression
    #: bombs (default 150 million: a 108-megapixel phone photo passes). Pillow
    #: itself refuses above about 179 million whatever this says.
    JIDU_MAX_IMAGE_PIXELS = _int("JIDU_MAX_IMAGE_PIXELS", 150_000_000)
    # The whole request that carries them: every file at its largest plus the
    # form. Uploads are spooled to an anonymous temporary file by Werkzeug,
    # never held in memory whole.
    JIDU_UPLOAD_REQUEST_BYTES = (JIDU_MAX_ATTACHMENTS * JIDU_MAX_ATTACHMENT_MB + 1) * 1024 * 1024

    #: Retention (``flask purge run``, services/retention.py). A reporter's
    #: identity, notify-me address and evidence files, and a hotline caller,
    #: are destroyed JIDU_RETENTION_DAYS (365) after the clue was closed:
    #: long enough for the reporter to rate the result and for a reopening,
    #: the reconsideration (60 days) and litigation (6 months) periods against
    #: the agency's decision, and the annual review of the campaign; what
    #: follows needs figures, not people. Clue text and every statistic stay.
    JIDU_RETENTION_DAYS = _int("JIDU_RETENTION_DAYS", 365)
    #: JIDU_CAMPAIGN_RETENTION_DAYS: the backstop. Clues of a campaign whose
    #: deadline passed this long ago (730) lose identity and evidence whatever
    #: their state, so that no reporter stays identifiable without end because
    #: a clue was never closed. 0 switches the backstop off.
    JIDU_CAMPAIGN_RETENTION_DAYS = _int("JIDU_CAMPAIGN_RETENTION_DAYS", 730)

    #: Backups (``flask backup create``, services/backup.py): written to
    #: JIDU_BACKUP_DIR (default ``instance/backups``; never inside
    #: JIDU_DATA_DIR), encrypted with AES-256-GCM under a key derived from
    #: JIDU_BACKUP_KEY (at least 32 characters; the backup commands refuse to
    #: run without it). Keep a copy of JIDU_BACKUP_KEY, JIDU_RECEIPT_KEY and
    #: SECRET_KEY apart from the backups: a backup is useless without them.
    JIDU_BACKUP_DIR = Path(os.environ.get("JIDU_BACKUP_DIR", INSTANCE_DIR / "backups"))
    JIDU_BACKUP_KEY = os.environ.get("JIDU_BACKUP_KEY")
    #: JIDU_BACKUP_KEEP_DAYS: ``backup prune`` deletes backups older than this
    #: (30). A backup still holds what a later purge destroyed, so it may not
    #: exceed JIDU_RETENTION_DAYS; with both, nothing lives longer than their
    #: sum after closure.
    JIDU_BACKUP_KEEP_DAYS = _int("JIDU_BACKUP_KEEP_DAYS", 30)
    #: JIDU_PG_BIN: folder holding pg_dump and pg_restore (default: PATH, else
    #: the newest /usr/lib/postgresql/*/bin); at least the server's version.
    JIDU_PG_BIN = os.environ.get("JIDU_PG_BIN")

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")

    #: JIDU_SESSION_HOURS: a console session ends this long after sign-in;
    #: JIDU_IDLE_MINUTES: or after this long without a request.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_int("JIDU_SESSION_HOURS", 8))
    JIDU_IDLE_MINUTES = _int("JIDU_IDLE_MINUTES", 30)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    JSON_AS_ASCII = False

    TESTING = False
    DEBUG = False
    ENV_NAME = "base"

    @classmethod
    def check(cls) -> None:
        """Refuse to start with a setting missing; overridden per environment."""


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def check(cls) -> None:
        missing = [
            name
            for name in ("SECRET_KEY", "JIDU_RECEIPT_KEY", "JIDU_BASE_URL")
            if not os.environ.get(name)
        ]
        if missing:
            raise ConfigError(
                "missing required setting(s) for production: " + ", ".join(missing)
            )
        if len(os.environ["SECRET_KEY"]) < 32 or len(os.environ["JIDU_RECEIPT_KEY"]) < 32:
            raise ConfigError("SECRET_KEY and JIDU_RECEIPT_KEY need at least 32 characters")
        if cls.JIDU_BACKUP_KEEP_DAYS > cls.JIDU_RETENTION_DAYS:
            raise ConfigError("JIDU_BACKUP_KEEP_DAYS may not exceed JIDU_RETENTION_DAYS: "
                              "backups would keep what the purge destroyed")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # Development only: ``make run`` writes random values into .env; these
    # fallbacks exist so that a hand-started dev server still runs.
    SECRET_KEY = Config.SECRET_KEY or "development-only-secret-key-not-for-production"  # noqa: S105
    JIDU_RECEIPT_KEY = Config.JIDU_RECEIPT_KEY or "development-only-receipt-key-for-dev"  # noqa: S105
    DEBUG = False


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-0123456789abcdef"  # noqa: S105 (tests only)
    JIDU_RECEIPT_KEY = "testing-receipt-key-0123456789abcdef"  # noqa: S105
    JIDU_BASE_URL = "https://jidu.example.gov.cn"
    # Cheap key derivation for tests, set here and never by a test branch in
    # the code (SecureDrop's insecure_scrypt idea).
    JIDU_SCRYPT_LOG2N = 10
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = False
    RATELIMIT_STORAGE_OPTIONS: dict[str, object] = {}
    RATELIMIT_ENABLED = True
    MAIL_SERVER = None
    # Tests build export jobs by calling the runner, so that no thread
    # outlives the test that started it.
    JIDU_EXPORT_IN_PROCESS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"hide_parameters": True}


CONFIGS: dict[str, type[Config]] = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def config_from_env() -> type[Config]:
    name = os.environ.get("JIDU_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise ConfigError(f"JIDU_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from exc
