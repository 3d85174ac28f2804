"""In-process profile of the seller's order list on the bench database (bench/seller_pages.sh's seed).

    DATABASE_URL=postgres://…/notify_wt9_bench DJANGO_SETTINGS_MODULE=notify_site.settings.production \\
      SECRET_KEY=… ALLOWED_HOSTS=testserver .venv/bin/python bench/order_list_profile.py [--explain] [--profile]

For each URL (first page, search, status tab, Late tab): the median and p95 of N requests through the
Django test client (production settings: DEBUG off, cached template loader, Redis cache), the time in
the database, the query count; with --explain, EXPLAIN (ANALYZE, BUFFERS) of each query; with
--profile, cProfile's top functions by cumulative time for the first page.
"""
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notify_site.settings.production")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402

N = int(os.environ.get("N", 30))
URLS = ["/seller/", "/seller/?q=hopper", "/seller/?status=processing", "/seller/?status=late"]

client = Client()
client.force_login(User.objects.get(username="bench-seller"))

for url in URLS:
    client.get(url)
    times, db_times = [], []
    for _ in range(N):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        db_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    times.sort()
    print(f"{url:30s} {len(ctx.captured_queries)} queries  median {statistics.median(times):6.1f} ms  "
          f"p95 {times[int(len(times) * 0.95) - 1]:6.1f} ms  db median {statistics.median(db_times):5.1f} ms")
    if "--explain" in sys.argv:
        for query in ctx.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
            print(f"  -- {sql[:160]}")
            print("\n".join("     " + line for line in plan))

if "--profile" in sys.argv:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(N):
        client.get(URLS[0])
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
