#!/bin/sh
# Health of one Jidu host, for monitoring (Nagios/Icinga/Zabbix, or cron that
# mails its output): exit 0 and one line when all is well; otherwise exit 2
# and one line per problem.
#
#   deploy/healthcheck.sh https://jidu.example.gov.cn/healthz [--cacert FILE]
#
# Checks: /healthz through nginx answers {"status": "ok"} (the app reaches
# PostgreSQL); Redis answers when REDIS_URL is set in the environment (the
# app keeps working without it, but then counts limits per process); and,
# where systemd runs, that the web, mail and export services are active and
# that no scheduled job's last run failed.
set -u
url=${1:-https://127.0.0.1/healthz}
shift || true
curl_opts="-sS --max-time 10"
if [ "${1:-}" = "--cacert" ] && [ -n "${2:-}" ]; then
    curl_opts="$curl_opts --cacert $2"
fi
problems=""
problem() { problems="$problems$1
"; }

# shellcheck disable=SC2086
if body=$(curl $curl_opts --fail "$url" 2>&1); then
    case "$body" in
        *'"status"'*'"ok"'*) ;;
        *) problem "healthz: unexpected answer: $(echo "$body" | tr -s '\n' ' ' | cut -c1-200)" ;;
    esac
else
    problem "healthz: $(echo "$body" | tail -n 1 | cut -c1-200)"
fi

if [ -n "${REDIS_URL:-}" ]; then
    pong=$(redis-cli -u "$REDIS_URL" ping 2>&1)
    [ "$pong" = PONG ] || problem "redis: $pong (rate limits are per process until it is back)"
fi

if [ -d /run/systemd/system ]; then
    for unit in jidu-web.service jidu-worker.service jidu-exports.service; do
        state=$(systemctl is-active "$unit" 2>/dev/null)
        [ "$state" = active ] || problem "$unit is $state"
    done
    for unit in jidu-reports-daily.service jidu-reports-monthly.service jidu-warnings.service \
            jidu-purge.service jidu-backup.service; do
        if systemctl is-failed --quiet "$unit" 2>/dev/null; then
            problem "$unit: the last scheduled run failed (journalctl -u $unit)"
        fi
    done
fi

if [ -n "$problems" ]; then
    printf 'JIDU CRITICAL\n%s' "$problems"
    exit 2
fi
echo "JIDU OK"
