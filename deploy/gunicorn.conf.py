"""gunicorn settings: ``gunicorn --config deploy/gunicorn.conf.py wsgi:app``.

Every value that differs between hosts comes from the environment (the
systemd unit reads /etc/jidu/jidu.env), so this file is deployed as shipped.
"""

from __future__ import annotations

import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


#: JIDU_WEB_BIND: where gunicorn listens, comma-separated. The default is a
#: socket in the unit's RuntimeDirectory that only nginx (in group jidu) can
#: open: nothing else on the host can reach the app and write its own
#: X-Forwarded-For. Several app hosts behind one nginx: host:port, firewalled.
bind = [part.strip() for part in
        os.environ.get("JIDU_WEB_BIND", "unix:/run/jidu/gunicorn.sock").split(",")]
# The socket is created rw for owner and group (0660), nothing for others.
umask = 0o007

# gthread: each worker process serves JIDU_WEB_THREADS requests at once, so
# a reviewer's slow report or export does not hold up reporters. Requests
# are CPU-light (the database does the work), hence threads; processes give
# the cores. Each worker needs about 150 MiB and at most
# JIDU_WEB_THREADS + 1 database connections (see JIDU_DB_POOL_SIZE).
worker_class = "gthread"
workers = _int("JIDU_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
threads = _int("JIDU_WEB_THREADS", 4)
#: JIDU_WEB_TIMEOUT: a request still running after this many seconds has its
#: worker restarted. nginx buffers uploads before passing them on, so even a
#: reporter's 100 MB over a slow island link reaches gunicorn at once; the
#: slowest legitimate request is a large inline XLSX export (5,000 rows).
timeout = _int("JIDU_WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (jittered so that they do
# not all restart together): bounds any slow leak.
max_requests = 2000
max_requests_jitter = 200
# Not preloaded: each worker opens its own database pool after the fork, and
# `systemctl reload jidu-web` (HUP) starts workers on newly deployed code
# while the old ones finish their requests.
preload_app = False
# The heartbeat file on tmpfs, so that a busy disk never looks like a hung
# worker (gunicorn makes it with mkstemp and unlinks it at once).
_SHM = "/dev/shm"  # noqa: S108
if Path(_SHM).is_dir():
    worker_tmp_dir = _SHM
# No control socket: its default lives in $HOME (the service user has none),
# and two gunicorns of one user would fight over it.
control_socket_disable = True
proc_name = "jidu-web"

#: JIDU_WEB_ACCESS_LOG / JIDU_WEB_ERROR_LOG: files, or "-" for the journal
#: (default). Files under /var/log/jidu are rotated by deploy/logrotate/jidu.
accesslog = os.environ.get("JIDU_WEB_ACCESS_LOG", "-")
errorlog = os.environ.get("JIDU_WEB_ERROR_LOG", "-")
loglevel = os.environ.get("JIDU_WEB_LOG_LEVEL", "info")
# Method, path without query string, status, size, time and worker pid.
# Never the client's address (%(h)s, which behind nginx is nginx anyway, or
# a forwarded-for header), user agent, referrer or query string: Jidu keeps
# nothing that could lead back to a reporter.
access_log_format = '- %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %(p)s'
