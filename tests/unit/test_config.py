"""Production refuses to start without its secrets; the CLI says so in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from config import ConfigError, ProductionConfig

ROOT = Path(__file__).resolve().parents[2]


def test_production_without_secrets_refuses(monkeypatch):
    for name in ("SECRET_KEY", "JIDU_RECEIPT_KEY", "JIDU_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_with_short_secret_refuses(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("JIDU_RECEIPT_KEY", "r" * 40)
    monkeypatch.setenv("JIDU_BASE_URL", "https://jidu.example.gov.cn")
    with pytest.raises(ConfigError, match="32"):
        create_app(ProductionConfig)


def test_cli_prints_one_line_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in {"SECRET_KEY", "JIDU_RECEIPT_KEY", "JIDU_BASE_URL"}}
    env.update(JIDU_ENV="production", JIDU_INSTANCE_DIR=str(tmp_path), JIDU_DOTENV="")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "jidu: configuration error: missing required setting(s) for production: "
        "SECRET_KEY, JIDU_RECEIPT_KEY, JIDU_BASE_URL"]
