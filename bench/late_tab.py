"""The seller list's Late tab (issue 15) at 100,000 orders in one store, on PostgreSQL.

Seed once (plain SQL, seconds):   psql "$DATABASE_URL" -f bench/late_tab_seed.sql
Run:  DJANGO_SETTINGS_MODULE=notify_site.settings.local ALLOWED_HOSTS=localhost \
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python manage.py shell < bench/late_tab.py

Prints the plans of the Late tab's page and count queries, then p50 / p95 and the query count of
the Late tab, All and Processing pages (40 requests each, after one warm-up).
"""
import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from catalog.models import Store
from orders.models import Order
from orders.selectors import LATE_STATUSES, store_orders

store = Store.objects.get(slug="bench-sla")
user, _ = User.objects.get_or_create(username="bench-sla-seller", defaults={"email": "b@example.com", "store": store})
with connection.cursor() as cursor:
    sql, params = store_orders(store=store, status="late")[:25].query.sql_with_params()
    cursor.execute("EXPLAIN ANALYZE " + sql, params)
    print("\n".join(row[0] for row in cursor.fetchall()))
    late = Order.objects.filter(store=store, status__in=LATE_STATUSES, ship_by__isnull=False,
                                ship_by__lte=timezone.now())
    sql, params = late.order_by().values("id").query.sql_with_params()
    cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM ({sql}) x", params)
    print("\n".join(row[0] for row in cursor.fetchall()))
client = Client(HTTP_HOST="localhost")
client.force_login(user)
for url in ["/seller/?status=late", "/seller/", "/seller/?status=processing"]:
    client.get(url)
    times = []
    for _ in range(40):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    print(f"{url} {response.status_code} p50 {statistics.median(times):.1f} ms "
          f"p95 {times[int(0.95 * len(times)) - 1]:.1f} ms, {len(queries)} queries")
