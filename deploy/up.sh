#!/usr/bin/env bash
# The production stack on this one machine, for staging and for the tests:
#
#   nginx (deploy/nginx/jidu.conf, TLS) → gunicorn (deploy/gunicorn.conf.py)
#     → PostgreSQL + Redis, with the mail worker and the export builder,
#
# each process started with the ExecStart line of its systemd unit and the
# settings file the units read, since systemd is not PID 1 here. Then the
# scheduled jobs run once and deploy/smoke.py checks everything through
# nginx. deploy/down.sh stops it all. Running it again on a running stack is
# refused; after down.sh it starts again on the same database and secrets.
#
# Needs PostgreSQL and Redis running, and nginx and openssl (as root, nginx
# is installed from Debian if missing). Settings, all optional:
#   JIDU_STAGE_DIR        everything written (default instance/stage)
#   JIDU_STAGE_PG         PostgreSQL server, libpq URL without database
#                         (postgresql://postgres@127.0.0.1:5432), a superuser
#   JIDU_STAGE_DB         the database, created if missing (jidu_stage)
#   JIDU_STAGE_FRESH=1    drop that database first
#   JIDU_STAGE_REDIS_URL  (redis://127.0.0.1:6379/0)
#   JIDU_STAGE_HTTP_PORT, JIDU_STAGE_HTTPS_PORT, JIDU_STAGE_APP_PORT
#                         nginx and gunicorn ports (8080, 8443, 8001)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STAGE=${JIDU_STAGE_DIR:-$ROOT/instance/stage}
PG=${JIDU_STAGE_PG:-postgresql://postgres@127.0.0.1:5432}
DB=${JIDU_STAGE_DB:-jidu_stage}
REDIS=${JIDU_STAGE_REDIS_URL:-redis://127.0.0.1:6379/0}
HTTP_PORT=${JIDU_STAGE_HTTP_PORT:-8080}
HTTPS_PORT=${JIDU_STAGE_HTTPS_PORT:-8443}
APP_PORT=${JIDU_STAGE_APP_PORT:-8001}
UNITS=$ROOT/deploy/systemd
PY=$ROOT/.venv/bin/python

say() { printf '== %s\n' "$*"; }
die() { printf 'up.sh: %s\n' "$*" >&2; exit 1; }

# --- what must be there ---------------------------------------------------
[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "JIDU_STAGE_DB must be a plain lower-case name"
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
    [ "$(id -u)" = 0 ] || die "nginx is missing: apt-get install nginx (as root)"
    say "installing nginx from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
    NGINX=/usr/sbin/nginx
fi
for tool in openssl psql redis-cli curl; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
psql "$PG/postgres" -qAtc "SELECT 1" >/dev/null || die "PostgreSQL does not answer at $PG"
[ "$(redis-cli -u "$REDIS" ping 2>/dev/null)" = PONG ] || die "Redis does not answer at $REDIS"
for pidfile in "$STAGE"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        die "the stack is already up ($pidfile): deploy/down.sh first"
    fi
done

# A fresh checkout has no virtualenv and no compiled catalogs yet.
stale_catalogs=no
for po in "$ROOT"/app/translations/*/LC_MESSAGES/messages.po; do
    [ -e "$po" ] || continue
    [ "${po%.po}.mo" -nt "$po" ] || stale_catalogs=yes
done
if [ ! -x "$ROOT/.venv/bin/gunicorn" ] || [ $stale_catalogs = yes ]; then
    say "virtualenv and translations (make translations)"
    make -s -C "$ROOT" translations
fi

# Everything written here is private: secrets, passphrases, data, logs.
umask 077
mkdir -p "$STAGE"/{data,instance,log,run,tls,nginx}
chmod 0700 "$STAGE"

# --- settings: the file the units read as /etc/jidu/jidu.env -------------
if [ ! -s "$STAGE/secrets.env" ]; then
    "$PY" -c 'import secrets
for name in ("SECRET_KEY", "JIDU_RECEIPT_KEY"):
    print(f"{name}={secrets.token_urlsafe(48)}")' > "$STAGE/secrets.env"
fi
DATABASE_URL="postgresql+psycopg://${PG#postgresql://}/$DB"
ENV_FILE=$STAGE/jidu.env
{
    echo "# written by deploy/up.sh: the stage's /etc/jidu/jidu.env"
    echo "JIDU_ENV=production"
    echo "JIDU_DOTENV="
    cat "$STAGE/secrets.env"
    echo "JIDU_BASE_URL=https://localhost:$HTTPS_PORT"
    echo "DATABASE_URL=$DATABASE_URL"
    echo "REDIS_URL=$REDIS"
    echo "JIDU_TRUSTED_PROXIES=1"
    echo "JIDU_INSTANCE_DIR=\"$STAGE/instance\""
    echo "JIDU_DATA_DIR=\"$STAGE/data\""
    echo "JIDU_EXPORT_IN_PROCESS=false"
    echo "JIDU_OUTBOX_INTERVAL=2"
    echo "JIDU_WEB_BIND=127.0.0.1:$APP_PORT"
    echo "JIDU_WEB_WORKERS=2"
    echo "JIDU_WEB_ACCESS_LOG=\"$STAGE/log/gunicorn-access.log\""
    echo "JIDU_WEB_ERROR_LOG=\"$STAGE/log/gunicorn-error.log\""
} > "$ENV_FILE"
export JIDU_ENV_FILE=$ENV_FILE JIDU_USER=""
jidu_flask() { "$ROOT/deploy/jidu-flask" "$@"; }
sql() { psql "$PG/$DB" -qAtc "$1"; }

# --- database --------------------------------------------------------------
if [ "${JIDU_STAGE_FRESH:-}" = 1 ]; then
    say "dropping database $DB"
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
fi
if [ -z "$(psql "$PG/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
    say "creating database $DB"
    psql "$PG/postgres" -qc "CREATE DATABASE $DB ENCODING 'UTF8' TEMPLATE template0"
fi
say "flask db upgrade"
jidu_flask db upgrade 2>&1 | tail -n 3

# What a new deployment does once: keys, a campaign, a reviewer, a token.
secret_file() { # a random secret kept in the stage
    [ -s "$STAGE/$1" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' > "$STAGE/$1"
    echo "$STAGE/$1"
}
if [ "$(sql 'SELECT count(*) FROM identity_keys')" = 0 ]; then
    jidu_flask keys init --passphrase-file "$(secret_file identity-passphrase.txt)"
fi
if [ "$(sql 'SELECT count(*) FROM evidence_keys')" = 0 ]; then
    jidu_flask keys init --evidence --passphrase-file "$(secret_file evidence-passphrase.txt)"
fi
slug=stage-$(date -u +%Y%m%d)
if [ -z "$(sql "SELECT 1 FROM campaigns WHERE slug = '$slug'")" ]; then
    jidu_flask campaigns create --slug "$slug" --title "部署演练征集 $slug" \
        --opens "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S+00:00)" \
        --deadline "$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%S+00:00)"
fi
if [ -z "$(sql "SELECT 1 FROM users WHERE username = 'stage-reviewer'")" ]; then
    jidu_flask users create stage-reviewer --role reviewer --email reviewer@stage.invalid \
        --password-file "$(secret_file reviewer-password.txt)" | sed -n 1p
fi
TOKEN=$(jidu_flask tokens create --channel app --name "smoke $(date -u +%FT%TZ)" | tail -n 1)

# --- TLS and nginx: the shipped site file on the stage's ports ------------
if [ ! -s "$STAGE/tls/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost" \
        -keyout "$STAGE/tls/key.pem" -out "$STAGE/tls/cert.pem" 2>/dev/null
fi
site=$STAGE/nginx/jidu.conf
sed -e "/listen \[::\]/d" \
    -e "s#listen 80\b#listen 127.0.0.1:$HTTP_PORT#" \
    -e "s#listen 443\b#listen 127.0.0.1:$HTTPS_PORT#" \
    -e "s#server_name jidu.example.gov.cn#server_name localhost#" \
    -e "s#unix:/run/jidu/gunicorn.sock#127.0.0.1:$APP_PORT#" \
    -e "s#/etc/letsencrypt/live/jidu.example.gov.cn/fullchain.pem#$STAGE/tls/cert.pem#" \
    -e "s#/etc/letsencrypt/live/jidu.example.gov.cn/privkey.pem#$STAGE/tls/key.pem#" \
    -e "s#/var/log/nginx/#$STAGE/log/#" \
    -e "s#/opt/jidu/#$ROOT/#" \
    "$ROOT/deploy/nginx/jidu.conf" > "$site"
# If the site file changed in a way this script does not know, stop here.
if sed 's/#.*//' "$site" \
        | grep -nE '/run/jidu|/etc/letsencrypt|/var/log|/opt/jidu|example\.gov\.cn|listen (80|443)\b' >&2
then
    die "deploy/nginx/jidu.conf has lines up.sh cannot adapt (above)"
fi
# Every process of the stage runs as whoever runs this script, nginx's
# workers too (as root they would otherwise be nobody, shut out of the
# stage's private directory). In production they are www-data and jidu.
nginx_user=""
[ "$(id -u)" != 0 ] || nginx_user="user root;"
cat > "$STAGE/nginx/nginx.conf" <<EOF
# written by deploy/up.sh: Debian's nginx.conf, reduced to what the site needs
$nginx_user
worker_processes 2;
pid $STAGE/run/nginx.pid;
error_log $STAGE/log/nginx-main-error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    # The same privacy as the site: no address in any log.
    access_log off;
    client_body_temp_path $STAGE/nginx/client_body;
    proxy_temp_path $STAGE/nginx/proxy;
    fastcgi_temp_path $STAGE/nginx/fastcgi;
    uwsgi_temp_path $STAGE/nginx/uwsgi;
    scgi_temp_path $STAGE/nginx/scgi;
    include $site;
}
EOF
"$NGINX" -t -q -e "$STAGE/log/nginx-main-error.log" -p "$STAGE/nginx" -c "$STAGE/nginx/nginx.conf"

# --- processes, each as its unit's ExecStart with the unit's settings -----
unit_command() { # the ExecStart of a unit, with /opt/jidu meaning this checkout
    sed -n 's/^ExecStart=//p' "$UNITS/$1" | sed "s#/opt/jidu#$ROOT#g"
}
start() { # name unit: in its own session, so that down.sh stops it whole
    local name=$1 command
    read -r -a command <<<"$(unit_command "$2")"
    (
        cd "$ROOT"
        set -a
        # shellcheck disable=SC1090
        . "$ENV_FILE"
        set +a
        exec setsid "${command[@]}" >>"$STAGE/log/$name.log" 2>&1 </dev/null
    ) &
    echo $! > "$STAGE/run/$name.pid"
}
run_once() { # a timer's service, as the timer would start it
    local command
    read -r -a command <<<"$(unit_command "$1")"
    (
        cd "$ROOT"
        set -a
        # shellcheck disable=SC1090
        . "$ENV_FILE"
        set +a
        "${command[@]}"
    ) >"$STAGE/log/${1%.service}.log" 2>&1 || {
        cat "$STAGE/log/${1%.service}.log" >&2
        die "$1 failed"
    }
    echo "$1: $(tail -n 1 "$STAGE/log/${1%.service}.log")"
}

# From here on, a failure stops what was started (the logs stay).
cleanup() {
    echo "up.sh: failed; stopping what was started (logs in $STAGE/log)" >&2
    "$ROOT/deploy/down.sh" >&2 || true
}
trap cleanup EXIT

say "starting gunicorn, the mail worker and the export builder"
start web jidu-web.service
start worker jidu-worker.service
start exports jidu-exports.service
for _ in $(seq 60); do
    curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/healthz" 2>/dev/null && break
    if ! kill -0 "$(cat "$STAGE/run/web.pid")" 2>/dev/null; then
        tail -n 20 "$STAGE/log/web.log" "$STAGE/log/gunicorn-error.log" >&2 || true
        die "gunicorn did not start"
    fi
    sleep 0.5
done
curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/healthz" || die "gunicorn does not answer"
say "starting nginx"
"$NGINX" -e "$STAGE/log/nginx-main-error.log" -p "$STAGE/nginx" -c "$STAGE/nginx/nginx.conf"
for name in worker exports; do
    kill -0 "$(cat "$STAGE/run/$name.pid")" 2>/dev/null \
        || { cat "$STAGE/log/$name.log" >&2; die "$name stopped"; }
done

say "the timers' jobs, once"
run_once jidu-reports-daily.service
run_once jidu-reports-monthly.service
run_once jidu-warnings.service

say "smoke test through nginx"
# shellcheck disable=SC1090
upload_limit=$(set -a && . "$ENV_FILE" && cd "$ROOT" \
    && "$PY" -c 'from config import Config; print(Config.JIDU_UPLOAD_REQUEST_BYTES)')
"$PY" "$ROOT/deploy/smoke.py" --url "https://localhost:$HTTPS_PORT" --cacert "$STAGE/tls/cert.pem" \
    --http-url "http://localhost:$HTTP_PORT" --token "$TOKEN" --mail-dir "$STAGE/data/mail" \
    --upload-limit "$upload_limit"
[ -n "$(redis-cli -u "$REDIS" --scan --pattern 'LIMITS*' | sed -n 1p)" ] \
    || die "no rate-limit counters in Redis"
echo "ok   rate-limit counters are in Redis ($REDIS)"
if grep -l '127\.0\.0\.1\|::1' "$STAGE/log/jidu-access.log" "$STAGE/log/gunicorn-access.log"; then
    die "a client address is in the access logs above"
fi
echo "ok   no client address in the access logs"
"$ROOT/deploy/healthcheck.sh" "https://localhost:$HTTPS_PORT/healthz" --cacert "$STAGE/tls/cert.pem"

trap - EXIT
cat <<EOF

Jidu is up: https://localhost:$HTTPS_PORT/ (certificate: $STAGE/tls/cert.pem)
  nginx :$HTTP_PORT/:$HTTPS_PORT → gunicorn 127.0.0.1:$APP_PORT → PostgreSQL $DB, Redis $REDIS
  logs: $STAGE/log/   settings: $ENV_FILE
  commands: JIDU_ENV_FILE=$ENV_FILE JIDU_USER= deploy/jidu-flask …
  stop: deploy/down.sh
EOF
