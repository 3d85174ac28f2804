#!/usr/bin/env bash
# The seller's order list at 100,000 orders in one store (first page, a search, a status tab) and
# the delivery statistics pages at 1,000,000 notifications (the store's, and the platform's for
# staff), beside the bare one-query view of bench/status_page.sh, in the same run: gunicorn +
# PostgreSQL + Redis, wrk at low concurrency so the latency percentiles mean "one seller waiting".
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/notify_wt7_bench PORT=8370 bench/seller_pages.sh
#   ORDERS=100000 NOTIFICATIONS=1000000 ROUNDS=3 DURATION=8s CONNECTIONS=2 bench/seller_pages.sh
#   ONLY=orders bench/seller_pages.sh      # the bare view and the order list only
#
# Seeding (bench/seed_seller_scale.py, INSERT … SELECT generate_series) runs once; later runs reuse it.
# Targets (issue 15): order list p95 < 100 ms, statistics p95 < 500 ms, with a fixed query count.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8370}
DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-2}
WORKERS=${WORKERS:-2}
PY=.venv/bin/python
BASE="http://127.0.0.1:${PORT}"

export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/notify_wt7_bench}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/7}
export DJANGO_SETTINGS_MODULE=notify_site.settings.production
export SECRET_KEY=${SECRET_KEY:-bench-only-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')}
export ALLOWED_HOSTS=127.0.0.1,localhost,testserver SECURE_SSL_REDIRECT=0 BENCH_VIEWS=1 LOG_LEVEL=WARNING
export SITE_URL="$BASE" CONN_MAX_AGE=600
export CELERY_TASK_ALWAYS_EAGER=1 EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
export NOTIFY_SMS_BACKEND=notifications.channels.sms.LocmemBackend

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[[ "$DATABASE_URL" == postgres* ]] || { echo "bench: BENCH_DATABASE_URL must be PostgreSQL" >&2; exit 1; }
if curl -s -o /dev/null "$BASE/"; then echo "bench: something already listens on port ${PORT}" >&2; exit 1; fi

db_name=${DATABASE_URL##*/}
db_admin=${DATABASE_URL%/*}/postgres
psql "$db_admin" -tAc "SELECT 1 FROM pg_database WHERE datname='${db_name}'" | grep -q 1 \
  || psql "$db_admin" -qc "CREATE DATABASE ${db_name}"

echo "bench: migrating and seeding ${DATABASE_URL} (idempotent; the first time takes a few minutes)…"
$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
eval "$($PY bench/seed_seller_scale.py)"

# Queries per page, counted in-process (Django test client, same settings and database).
$PY - <<PY
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
for who, session, url in [("seller", "$SELLER_SESSION", "/seller/"), ("seller", "$SELLER_SESSION", "/seller/?q=hopper"),
                          ("seller", "$SELLER_SESSION", "/seller/?status=processing"),
                          ("seller", "$SELLER_SESSION", "/seller/?status=late"),
                          ("seller", "$SELLER_SESSION", "/seller/statistics/?preset=90"),
                          ("staff", "$STAFF_SESSION", "/admin/statistics/?preset=90")]:
    client = Client()
    client.cookies["sessionid"] = session
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    print(f"bench: {url:38s} {response.status_code}  {len(ctx.captured_queries)} queries")
PY

GUNICORN_LOG=$(mktemp)
.venv/bin/gunicorn notify_site.wsgi --workers "$WORKERS" --bind "127.0.0.1:${PORT}" \
  --log-level warning --error-logfile "$GUNICORN_LOG" &
GUNICORN_PID=$!
stop() { kill "$GUNICORN_PID" 2>/dev/null || true; wait "$GUNICORN_PID" 2>/dev/null || true; rm -f "$GUNICORN_LOG"; }
trap stop EXIT
for _ in $(seq 50); do curl -s -o /dev/null "$BASE/bench/order/${ORDER_ID}/" && break; sleep 0.2; done

NAMES=("bare view (1 pk lookup)" "orders: first page" "orders: search 'hopper'" "orders: tab processing"
       "orders: tab late" "statistics: store, 90 days" "statistics: platform, 90 d")
URLS=("$BASE/bench/order/${ORDER_ID}/" "$BASE/seller/" "$BASE/seller/?q=hopper" "$BASE/seller/?status=processing"
      "$BASE/seller/?status=late" "$BASE/seller/statistics/?preset=90" "$BASE/admin/statistics/?preset=90")
COOKIES=("" "$SELLER_SESSION" "$SELLER_SESSION" "$SELLER_SESSION" "$SELLER_SESSION" "$SELLER_SESSION" "$STAFF_SESSION")
TARGETS=("" 100 100 100 100 500 500)
# ONLY=orders: just the bare view and the order list (skips the statistics pages).
if [[ "${ONLY:-}" == orders ]]; then
  NAMES=("${NAMES[@]:0:5}"); URLS=("${URLS[@]:0:5}"); COOKIES=("${COOKIES[@]:0:5}"); TARGETS=("${TARGETS[@]:0:5}")
fi
for i in "${!URLS[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' ${COOKIES[$i]:+-H "Cookie: sessionid=${COOKIES[$i]}"} "${URLS[$i]}")
  [[ "$code" == 200 ]] || { echo "bench: ${URLS[$i]} answered $code" >&2; cat "$GUNICORN_LOG" >&2; exit 1; }
done

mkdir -p bench/results
OUT="bench/results/seller_pages-$(date -u +%Y%m%dT%H%M%SZ).txt"
declare -A P95 RPS
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t1 -c${CONNECTIONS} -d${DURATION}, gunicorn ${WORKERS} workers, ${ROUNDS} rounds" | tee "$OUT"
for round in $(seq "$ROUNDS"); do
  for i in "${!URLS[@]}"; do
    args=(); [[ -n "${COOKIES[$i]}" ]] && args=(-H "Cookie: sessionid=${COOKIES[$i]}")
    wrk -t1 -c"$WORKERS" -d1s "${args[@]}" "${URLS[$i]}" >/dev/null
    result=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/p95.lua "${args[@]}" "${URLS[$i]}")
    printf "== round %s, %s\n%s\n\n" "$round" "${NAMES[$i]}" "$result" >>"$OUT"
    pct=$(grep '^PCT' <<<"$result")
    grep -q 'non2xx=0' <<<"$pct" || { echo "bench: ${NAMES[$i]} had error responses: $pct" >&2; exit 1; }
    p95=$(sed 's/.*p95_ms=\([0-9.]*\).*/\1/' <<<"$pct"); p50=$(sed 's/.*p50_ms=\([0-9.]*\).*/\1/' <<<"$pct")
    rps=$(awk '/^Requests\/sec/{print $2}' <<<"$result")
    P95[$i]+="$p95 "; RPS[$i]+="$rps "
    printf "  round %s  %-28s %8s req/s   p50 %7s ms   p95 %7s ms\n" "$round" "${NAMES[$i]}" "$rps" "$p50" "$p95" | tee -a "$OUT"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
{
  echo
  echo "median over ${ROUNDS} rounds (load average now $(cut -d' ' -f1-3 /proc/loadavg)):"
  for i in "${!URLS[@]}"; do
    p=$(median "${P95[$i]}"); r=$(median "${RPS[$i]}"); verdict=""
    [[ -n "${TARGETS[$i]}" ]] && verdict=$(awk -v p="$p" -v t="${TARGETS[$i]}" 'BEGIN{print (p < t ? "ok" : "OVER"), "(target p95 <", t, "ms)"}')
    printf "  %-28s %8.1f req/s   p95 %7.2f ms  %s\n" "${NAMES[$i]}" "$r" "$p" "$verdict"
  done
} | tee -a "$OUT"
echo "bench: full wrk output in ${OUT}"
