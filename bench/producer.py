#!/usr/bin/env python
"""Benchmark the producer side: one ``orders.services.shipment_create`` with its outbox rows,
in-process (no broker: the rows stay queued), on the database named by DATABASE_URL (FLUSHED).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ns_bench .venv/bin/python bench/producer.py \\
        [--orders 300] [--profile] [--sqlite-ok]

Prints, per order change: milliseconds (median and mean), queries (by table and statement kind),
outbox rows written and the bytes of JSON context stored per row. ``--profile`` adds a cProfile
of the changes (cumulative, top 40).
"""
import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one change")
    parser.add_argument("--publish", action="store_true",
                        help="hand the rows to the broker named by REDIS_URL (a queue nobody consumes, deleted "
                             "after) as the web processes do, instead of leaving them queued")
    parser.add_argument("--bare", action="store_true",
                        help="the order change alone: every receiver of the order signals disconnected (no "
                             "outbox rows, no webhooks); with --publish, one no-op task per change on commit")
    parser.add_argument("--deliver", action="store_true",
                        help="then deliver the rows in-process, one order change's rows per batch as the worker "
                             "does, and print the CPU per notification (this process and its PostgreSQL backend)")
    parser.add_argument("--no-capture", action="store_true",
                        help="do not record the SQL (Django's debug cursor costs ~0.5 ms CPU per change)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own (it is flushed)")
    os.environ["DJANGO_SETTINGS_MODULE"] = "notify_site.settings.test"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.publish:
        if not os.environ.get("REDIS_URL"):
            sys.exit("--publish needs REDIS_URL, e.g. redis://127.0.0.1:6379/14")
        os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"]
    import django
    import django.dispatch

    django.setup()
    from unittest import mock

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.pipeline import seed
    from notifications.models import Notification
    from orders.services import shipment_create

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    tag = uuid.uuid4().hex[:6]
    orders = seed(args.orders + 20, tag)
    warm, measured = orders[:20], orders[20:]
    times, cpu, counts, kinds = [], [], [], Counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def backend_cpu() -> float:
        """CPU seconds of this connection's PostgreSQL backend (same machine), from /proc."""
        with open(f"/proc/{backend}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    sample_sql = []
    profiler = cProfile.Profile() if args.profile else None
    import contextlib

    queue = f"bench-producer-{tag}"
    if args.publish:
        from notify_site.celery import app

        app.conf.task_default_queue, app.conf.task_always_eager = queue, False
    if args.bare:
        from django.db import transaction

        from orders import signals as order_signals

        for signal in vars(order_signals).values():
            if isinstance(signal, django.dispatch.Signal):
                signal.receivers.clear()
                signal.sender_receivers_cache.clear()
        if args.publish:
            from notify_site.celery import ping

            def one_noop_task(**kwargs):
                transaction.on_commit(lambda: ping.apply_async(args=[0], queue=queue, ignore_result=True))
            order_signals.order_status_changed.connect(one_noop_task, weak=False)
    capture = (lambda: contextlib.nullcontext([])) if args.no_capture else (lambda: CaptureQueriesContext(connection))
    with (contextlib.nullcontext() if args.publish else mock.patch("notifications.outbox.dispatch")):
        for i, order in enumerate(warm):
            shipment_create(order=order, carrier="royalmail", carrier_name="Royal Mail",
                            tracking_number=f"W{tag}{i:06d}", eta=date.today() + timedelta(days=3))
        pg_before = backend_cpu()
        for i, order in enumerate(measured):
            with capture() as ctx:
                if profiler:
                    profiler.enable()
                start, start_cpu = time.perf_counter(), time.process_time()
                shipment_create(order=order, carrier="royalmail", carrier_name="Royal Mail",
                                tracking_number=f"M{tag}{i:06d}", eta=date.today() + timedelta(days=3))
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                if profiler:
                    profiler.disable()
            counts.append(len(ctx))
            for q in getattr(ctx, "captured_queries", []):
                sql = q["sql"]
                verb = sql.split(None, 1)[0].upper()
                table = ""
                for marker in {"INSERT": ("INSERT INTO ",), "UPDATE": ("UPDATE ",)}.get(verb, (' FROM "',)):
                    if marker in sql:
                        table = sql.split(marker, 1)[1].split(None, 1)[0].strip('"')
                        break
                kinds[f"{verb} {table}"] += 1
            if i == 0:
                sample_sql = [q["sql"] for q in getattr(ctx, "captured_queries", [])]
    pg_ms = (backend_cpu() - pg_before) * 1000 / len(measured)
    if args.publish:
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue)
    n_rows = Notification.objects.filter(order__in=measured).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT avg(pg_column_size(context)), avg(length(context::text)) FROM notifications_notification"
                       " WHERE order_id = ANY(%s)", [[o.pk for o in measured]])
        stored, text_len = cursor.fetchone()
    n = len(measured)
    print(f"{n} order changes (ship), {n_rows} outbox rows ({n_rows / n:.1f} per change); load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"per change: median {statistics.median(times):.1f} ms, mean {statistics.mean(times):.1f} ms, "
          f"this process's CPU {statistics.mean(cpu):.1f} ms, its PostgreSQL backend's CPU {pg_ms:.1f} ms, queries {statistics.mean(counts):.1f}")
    print(f"context per row: {float(text_len or 0):.0f} chars of JSON ({float(stored or 0):.0f} bytes stored)")
    if args.deliver and not args.publish and not args.bare:
        from notifications.delivery import notification_deliver_many

        batches = {}
        for pk, order_id in (Notification.objects.filter(order__in=measured, status="queued")
                             .order_by("id").values_list("id", "order_id")):
            batches.setdefault(order_id, []).append(pk)
        batches = list(batches.values())
        for batch in batches[:10]:  # warm: templates compiled, CSS parsed
            notification_deliver_many(notification_ids=batch)
        delivered = sum(len(b) for b in batches[10:])
        pg_before, cpu_before, wall_before = backend_cpu(), time.process_time(), time.perf_counter()
        for batch in batches[10:]:
            notification_deliver_many(notification_ids=batch)
        print(f"delivery in-process: {delivered} notifications, per notification: wall "
              f"{(time.perf_counter() - wall_before) * 1000 / delivered:.2f} ms, this process's CPU "
              f"{(time.process_time() - cpu_before) * 1000 / delivered:.2f} ms, its PostgreSQL backend's CPU "
              f"{(backend_cpu() - pg_before) * 1000 / delivered:.2f} ms")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements")
            count, generic, custom = cursor.fetchone()
        print(f"statements prepared on this connection: {count} (executions with a generic plan {generic or 0}, "
              f"with a custom plan {custom or 0})")
    print("queries per change by kind:")
    for key, count in kinds.most_common():
        print(f"  {count / n:5.1f}  {key}")
    if args.show_queries:
        print("\n".join(sample_sql))
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())


if __name__ == "__main__":
    main()
