"""The files under deploy/: systemd units, gunicorn settings, nginx site, log rotation.

systemd is not PID 1 on the machines that run these tests, so the units are
checked the way systemd itself checks them (`systemd-analyze verify`, and
`security --offline` for their hardening) with /opt/jidu pointed at this
checkout; deploy/up.sh then runs their commands (test_stack.py).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import runpy
import shlex
import subprocess
from pathlib import Path

import pytest
from gunicorn.config import Config as GunicornConfig

from config import Config
from tests.deploy.conftest import DEPLOY, ROOT, tool

UNITS = DEPLOY / "systemd"
ADDRESS_VARIABLES = ("$remote_addr", "$binary_remote_addr", "$http_x_forwarded_for",
                     "$proxy_add_x_forwarded_for", "$realip_remote_addr", "$http_x_real_ip",
                     "$http_forwarded", "$http_user_agent", "$http_referer", "$request ",
                     "$request_uri", "$args", "$query_string")


@pytest.fixture
def units_here(tmp_path: Path) -> Path:
    """The units as installed, with /opt/jidu being this checkout."""
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/jidu", str(ROOT)))
    return tmp_path


def test_units_pass_systemd_analyze_verify(units_here: Path):
    analyze = tool("systemd-analyze")
    names = sorted(p.name for p in units_here.iterdir())
    assert {"jidu-web.service", "jidu-worker.service", "jidu-exports.service", "jidu.target",
            "jidu-reports-daily.timer", "jidu-reports-monthly.timer",
            "jidu-warnings.timer"} <= set(names)
    result = subprocess.run([analyze, "verify", "--man=no", *names], cwd=units_here,
                            capture_output=True, text=True, timeout=60, check=False)
    # Not only the exit status: unknown keys and bad values are mere warnings.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_catches_a_broken_unit(units_here: Path):
    analyze = tool("systemd-analyze")
    broken = units_here / "jidu-worker.service"
    broken.write_text(broken.read_text().replace("/.venv/bin/flask", "/.venv/bin/nothere"))
    result = subprocess.run([analyze, "verify", "--man=no", broken.name], cwd=units_here,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "nothere" in result.stderr


def test_services_are_hardened(units_here: Path):
    analyze = tool("systemd-analyze")
    services = sorted(p.name for p in units_here.glob("*.service"))
    # Exposure 0-10 (systemd's own scale; an unhardened service is 9.6): at most 2.0.
    result = subprocess.run([analyze, "security", "--offline=true", "--threshold=20",
                             "--no-pager", *services], cwd=units_here,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def test_unit_commands_exist(runner):
    """Every flask command a unit runs is one the CLI knows (checked with --help)."""
    for unit in sorted(UNITS.glob("*.service")):
        exec_start = re.search(r"^ExecStart=(.*)$", unit.read_text(), re.M)
        assert exec_start, unit.name
        argv = shlex.split(exec_start.group(1))
        assert argv[0].startswith("/opt/jidu/.venv/bin/"), unit.name
        if argv[0].endswith("/flask"):
            assert argv[1:3] == ["--app", "wsgi"], unit.name
            result = runner.invoke(args=[*argv[3:], "--help"])
            assert result.exit_code == 0, (unit.name, result.output)
        else:
            assert argv[1:] == ["--config", "/opt/jidu/deploy/gunicorn.conf.py", "wsgi:app"]


def test_timers_run_on_beijing_time():
    for name, calendar in (("reports-daily", "*-*-* 01:00:00 Asia/Shanghai"),
                           ("reports-monthly", "*-*-01 02:00:00 Asia/Shanghai")):
        text = (UNITS / f"jidu-{name}.timer").read_text()
        assert f"OnCalendar={calendar}\n" in text
        assert f"Unit=jidu-{name}.service\n" in text


def load_gunicorn_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for name in ("JIDU_WEB_BIND", "JIDU_WEB_WORKERS", "JIDU_WEB_THREADS",
                 "JIDU_WEB_ACCESS_LOG", "JIDU_WEB_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    settings = {k: v for k, v in namespace.items()
                if not k.startswith("_") and not callable(v) and k not in {"os", "Path",
                                                                            "annotations"}}
    # Every name is a gunicorn setting and every value one gunicorn accepts.
    config = GunicornConfig()
    for name, value in settings.items():
        assert name in config.settings, name
        config.set(name, value)
    return settings


def test_gunicorn_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    defaults = load_gunicorn_conf(monkeypatch)
    assert defaults["bind"] == ["unix:/run/jidu/gunicorn.sock"]
    assert defaults["worker_class"] == "gthread"
    assert defaults["preload_app"] is False
    assert defaults["accesslog"] == "-"
    chosen = load_gunicorn_conf(monkeypatch, JIDU_WEB_BIND="127.0.0.1:8001, 10.0.0.11:8000",
                                JIDU_WEB_WORKERS="3", JIDU_WEB_THREADS="8",
                                JIDU_WEB_ACCESS_LOG="/var/log/jidu/gunicorn-access.log")
    assert chosen["bind"] == ["127.0.0.1:8001", "10.0.0.11:8000"]
    assert (chosen["workers"], chosen["threads"]) == (3, 8)
    assert chosen["accesslog"] == "/var/log/jidu/gunicorn-access.log"


def test_gunicorn_access_log_has_no_client_address(monkeypatch: pytest.MonkeyPatch):
    fmt = str(load_gunicorn_conf(monkeypatch)["access_log_format"])
    atoms = set(re.findall(r"%\(([^)]+)\)s", fmt))
    assert atoms, fmt
    # h: address; a, f: user agent and referrer; q, r: query string; u: user;
    # {…}i and {…}e: request headers (X-Forwarded-For) and environ (REMOTE_ADDR).
    assert not atoms & {"h", "a", "f", "q", "r", "u"}, atoms
    assert not [atom for atom in atoms if atom.startswith("{")], atoms


def nginx_site() -> str:
    return (DEPLOY / "nginx" / "jidu.conf").read_text()


def test_nginx_logs_keep_no_address():
    site = nginx_site()
    formats = re.findall(r"log_format\s+(\w+)\s+(.*?);", site, re.S)
    assert [name for name, _ in formats] == ["jidu_private"]
    for variable in ADDRESS_VARIABLES:
        assert variable not in formats[0][1], variable
    access_logs = re.findall(r"^\s*access_log\s+([^;]+);", site, re.M)
    assert access_logs
    for directive in access_logs:
        assert directive == "off" or directive.endswith(" jidu_private"), directive
    # nginx puts the client's address into every error line below "crit".
    assert set(re.findall(r"^\s*error_log\s+\S+\s+(\w+);", site, re.M)) == {"crit"}


def test_nginx_passes_what_the_app_needs():
    site = nginx_site()
    size = re.search(r"client_max_body_size\s+(\d+)m;", site)
    assert size
    # The app, not nginx, refuses an over-large upload (its answer keeps the form).
    assert int(size.group(1)) * 1024 * 1024 > Config.JIDU_UPLOAD_REQUEST_BYTES
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    # Security headers come from the app; only static files get nginx's.
    assert "Content-Security-Policy" not in site
    assert site.count("add_header") == 1


def test_logrotate_config_parses(tmp_path: Path):
    logrotate = tool("logrotate")
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "gunicorn-access.log").write_text("line\n")
    me = f"{pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name}"
    conf = tmp_path / "jidu"
    conf.write_text((DEPLOY / "logrotate" / "jidu").read_text()
                    .replace("/var/log/jidu", str(logs)).replace("su jidu jidu", f"su {me}"))
    result = subprocess.run([logrotate, "--debug", "--force", "--state",
                             str(tmp_path / "state"), str(conf)],
                            capture_output=True, text=True, timeout=60, check=False)
    output = result.stdout + result.stderr
    # logrotate --debug exits 0 even on errors: read what it says.
    assert result.returncode == 0, output
    assert "error" not in output.lower(), output
    assert f"rotating pattern: {logs}/gunicorn-*.log" in output
    assert f"copying {logs}/gunicorn-access.log to {logs}/gunicorn-access.log.1" in output


def test_nginx_logs_go_where_debian_rotates_them():
    logs = set(re.findall(r"(?:access|error)_log\s+(/\S+)", nginx_site()))
    assert logs == {"/var/log/nginx/jidu-access.log", "/var/log/nginx/jidu-error.log"}
