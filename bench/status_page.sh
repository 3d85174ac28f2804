#!/usr/bin/env bash
# The order status page and its in-place refresh (304) under load, beside a bare Django view doing
# one primary-key lookup, in the same run: gunicorn + PostgreSQL + Redis cache, wrk with 50
# connections. Results go to stdout and bench/results/status_page-<time>.txt.
#
#   bench/status_page.sh                  # defaults below; override any of them from the environment
#   DURATION=10s ROUNDS=5 WORKERS=2 bench/status_page.sh
#
# The machine may be busy with other work: the five measurements are interleaved over ROUNDS
# rounds and compared by their medians, so a burst of load hits all of them alike.
#
# Targets (issue 4): status page >= 50% of the bare view's requests/s, the 304 refresh >= 80%.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8021}
DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
WRK_THREADS=${WRK_THREADS:-2}
WORKERS=${WORKERS:-4}
PY=.venv/bin/python
BASE="http://127.0.0.1:${PORT}"

export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ns_bench_status}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
export DJANGO_SETTINGS_MODULE=notify_site.settings.production
export SECRET_KEY=${SECRET_KEY:-bench-only-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')}
export ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=0 BENCH_VIEWS=1 LOG_LEVEL=WARNING
export SITE_URL="$BASE" CONN_MAX_AGE=600
# Seeding sends its notifications in-process to memory (nothing leaves the machine).
export CELERY_TASK_ALWAYS_EAGER=1 EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
export NOTIFY_SMS_BACKEND=notifications.channels.sms.LocmemBackend

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[[ "$DATABASE_URL" == postgres* ]] || { echo "bench: BENCH_DATABASE_URL must be PostgreSQL" >&2; exit 1; }
if curl -s -o /dev/null "http://127.0.0.1:${PORT}/"; then
  echo "bench: something already listens on port ${PORT}; set PORT=..." >&2; exit 1
fi

db_name=${DATABASE_URL##*/}
db_admin=${DATABASE_URL%/*}/postgres
psql "$db_admin" -tAc "SELECT 1 FROM pg_database WHERE datname='${db_name}'" | grep -q 1 \
  || psql "$db_admin" -qc "CREATE DATABASE ${db_name}"

echo "bench: migrating and seeding ${DATABASE_URL} (idempotent)…"
$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo >/dev/null
$PY manage.py collectstatic --noinput -v0

# The order to look at: a shipped one with the richest history (checkpoints, timeline,
# notifications); its guest link; a logged-in session for its customer.
read -r ORDER_ID TOKEN_PATH CUSTOMER_PATH SESSION_ID < <($PY - <<'PY'
import django
django.setup()
from django.core.cache import cache
from django.db.models import Count
from django.test import Client
from orders.links import status_path
from orders.models import Order
cache.clear()
order = (Order.objects.filter(status="shipped", customer__isnull=False)
         .annotate(n=Count("events")).order_by("-n", "id").first())
client = Client()
client.force_login(order.customer)
print(order.pk, status_path(order), order.get_absolute_url(), client.cookies["sessionid"].value)
PY
)

GUNICORN_LOG=$(mktemp)
.venv/bin/gunicorn notify_site.wsgi --workers "$WORKERS" --bind "127.0.0.1:${PORT}" \
  --log-level warning --error-logfile "$GUNICORN_LOG" &
GUNICORN_PID=$!
stop() { kill "$GUNICORN_PID" 2>/dev/null || true; wait "$GUNICORN_PID" 2>/dev/null || true; rm -f "$GUNICORN_LOG"; }
trap stop EXIT
for _ in $(seq 50); do curl -s -o /dev/null "$BASE/bench/order/${ORDER_ID}/" && break; sleep 0.2; done

COOKIE="sessionid=${SESSION_ID}"
check() {  # url expected-status [header...]
  local url=$1 expected=$2 code h; shift 2
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  code=$(curl -s -o /dev/null -w '%{http_code}' "${args[@]}" "$url")
  [[ "$code" == "$expected" ]] || { echo "bench: $url answered $code, expected $expected" >&2; cat "$GUNICORN_LOG" >&2; exit 1; }
}
etag_of() { curl -s -D - -o /dev/null ${2:+-H "$2"} "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}'; }

# The refresh URL each page polls, as the page itself says (the customer's carries a signed poll key).
live_url_of() { curl -s ${2:+-H "$2"} "$1" | grep -o 'id="order-live" hx-get="[^"]*"' | sed 's/.*hx-get="//; s/"$//; s/&amp;/\&/g'; }
GUEST_LIVE=$(live_url_of "$BASE${TOKEN_PATH}")
CUSTOMER_LIVE=$(live_url_of "$BASE${CUSTOMER_PATH}" "Cookie: ${COOKIE}")
GUEST_ETAG=$(etag_of "$BASE${GUEST_LIVE}")
CUSTOMER_ETAG=$(etag_of "$BASE${CUSTOMER_LIVE}" "Cookie: ${COOKIE}")
check "$BASE/bench/order/${ORDER_ID}/" 200
check "$BASE${TOKEN_PATH}" 200
check "$BASE${GUEST_LIVE}" 304 "If-None-Match: ${GUEST_ETAG}"
check "$BASE${CUSTOMER_PATH}" 200 "Cookie: ${COOKIE}"
check "$BASE${CUSTOMER_LIVE}" 304 "Cookie: ${COOKIE}" "If-None-Match: ${CUSTOMER_ETAG}"

mkdir -p bench/results
OUT="bench/results/status_page-$(date -u +%Y%m%dT%H%M%SZ).txt"
NAMES=("bare view (1 pk lookup)" "status page (guest link)" "refresh 304 (guest link)"
       "status page (logged in)" "refresh 304 (logged in)")
URLS=("$BASE/bench/order/${ORDER_ID}/" "$BASE${TOKEN_PATH}" "$BASE${GUEST_LIVE}" "$BASE${CUSTOMER_PATH}"
      "$BASE${CUSTOMER_LIVE}")
HEADERS=("" "" "If-None-Match: ${GUEST_ETAG}" "Cookie: ${COOKIE}"
         "Cookie: ${COOKIE}|If-None-Match: ${CUSTOMER_ETAG}")
declare -A RPS  # name -> space-separated req/s of each round

one() {  # index round
  local i=$1 round=$2 args=() h result
  IFS='|' read -ra hs <<<"${HEADERS[$i]}"
  for h in "${hs[@]}"; do [[ -n "$h" ]] && args+=(-H "$h"); done
  # Warm every worker (connections, compiled templates, the cached render).
  wrk -t1 -c"$WORKERS" -d1s "${args[@]}" "${URLS[$i]}" >/dev/null
  result=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${args[@]}" "${URLS[$i]}")
  printf "== round %s, %s: %s\n%s\n\n" "$round" "${NAMES[$i]}" "${URLS[$i]}" "$result" >>"$OUT"
  if grep -q "Non-2xx or 3xx" <<<"$result"; then
    echo "bench: ${NAMES[$i]} had error responses:" >&2; grep "Non-2xx" <<<"$result" >&2; exit 1
  fi
  RPS[${NAMES[$i]}]+="$(awk '/^Requests\/sec/{print $2}' <<<"$result") "
  printf "  round %s  %-26s %9s req/s   p50 %-9s p99 %s\n" "$round" "${NAMES[$i]}" \
    "$(awk '/^Requests\/sec/{print $2}' <<<"$result")" "$(awk '/ 50%/{print $2}' <<<"$result")" \
    "$(awk '/ 99%/{print $2}' <<<"$result")"
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

{
  echo "# bench/status_page.sh  $(date -u +%FT%TZ)"
  echo "# $(nproc) CPU, gunicorn ${WORKERS} sync workers, wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION}, ${ROUNDS} rounds"
  echo "# PostgreSQL ${DATABASE_URL}, Redis cache ${REDIS_URL}, order id ${ORDER_ID}"
  echo
} >"$OUT"
echo "bench: wrk -t${WRK_THREADS} -c${CONNECTIONS} -d${DURATION} against gunicorn (${WORKERS} workers) on :${PORT}, ${ROUNDS} interleaved rounds"
for round in $(seq "$ROUNDS"); do
  for i in "${!NAMES[@]}"; do one "$i" "$round"; done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", 100*a/b}'; }
verdict() { [[ $1 -ge $2 ]] && echo "ok" || echo "BELOW TARGET"; }
bare=$(median "${RPS["bare view (1 pk lookup)"]}")
{
  echo
  echo "median req/s over ${ROUNDS} rounds, and vs the bare view:"
  printf "  %-26s %9.1f\n" "bare view (1 pk lookup)" "$bare"
  for name in "status page (guest link)" "refresh 304 (guest link)" "status page (logged in)" "refresh 304 (logged in)"; do
    m=$(median "${RPS[$name]}"); r=$(ratio "$m" "$bare")
    target=50; [[ "$name" == refresh* ]] && target=80
    printf "  %-26s %9.1f  %3s%%  (target %s%%: %s)\n" "$name" "$m" "$r" "$target" "$(verdict "$r" "$target")"
  done
} | tee -a "$OUT"
echo "bench: full wrk output in ${OUT}"
