#!/usr/bin/env bash
# Stop what deploy/up.sh started: nginx, gunicorn, the mail worker and the
# export builder, each by the process id up.sh recorded. With --purge, also
# drop the stage's database and remove its directory (secrets, data, logs).
# Reads the same JIDU_STAGE_* settings as up.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STAGE=${JIDU_STAGE_DIR:-$ROOT/instance/stage}
PG=${JIDU_STAGE_PG:-postgresql://postgres@127.0.0.1:5432}
DB=${JIDU_STAGE_DB:-jidu_stage}

# TERM to each, then up to 60 s for all of them to exit cleanly (a worker
# finishes its round, gunicorn its requests); what is left is killed.
stop() { # names
    local name pid pids=()
    for name in "$@"; do
        [ -s "$STAGE/run/$name.pid" ] || continue
        pid=$(cat "$STAGE/run/$name.pid")
        rm -f "$STAGE/run/$name.pid"
        kill -TERM "$pid" 2>/dev/null && pids+=("$name:$pid")
    done
    for _ in $(seq 600); do
        local running=no
        for entry in "${pids[@]}"; do kill -0 "${entry#*:}" 2>/dev/null && running=yes; done
        [ $running = yes ] || break
        sleep 0.1
    done
    for entry in "${pids[@]}"; do
        name=${entry%%:*} pid=${entry#*:}
        if kill -0 "$pid" 2>/dev/null; then
            echo "$name ($pid) did not stop: killed"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "stopped $name ($pid)"
    done
}

# nginx first, so that no request reaches a stopping gunicorn; nginx writes
# its own pid file (QUIT: finish the requests in flight, then exit).
if [ -s "$STAGE/run/nginx.pid" ]; then
    pid=$(cat "$STAGE/run/nginx.pid")
    if kill -QUIT "$pid" 2>/dev/null; then
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "stopped nginx ($pid)"
    fi
fi
rm -f "$STAGE/run/nginx.pid"   # `nginx -t` leaves an empty one
stop web worker exports

if [ "${1:-}" = "--purge" ]; then
    [[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "down.sh: bad JIDU_STAGE_DB" >&2; exit 1; }
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
    rm -rf "$STAGE"
    echo "dropped database $DB and removed $STAGE"
fi
