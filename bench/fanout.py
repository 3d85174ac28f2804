#!/usr/bin/env python
"""Benchmark: a promotion's chunked fan-out to N consenting customers, against a raw COPY of the
same rows into the same table, the fan-out worker's memory, and paced delivery beside a no-op task.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/notify_wt2_bench REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/fanout.py [--customers 1000000] [--sample 20000]

What it does (the database named by DATABASE_URL is FLUSHED: give it a database of its own):
  1. migrates and seeds N customers and one marketing-email consent record each with psycopg COPY
     (plus 2 % withdrawn after, 1 % suppressed: they must not be written);
  2. (a) fan-out: launches a promotion and runs marketing.fanout.fanout_run in a child process (the
     fan-out worker; chunks of NOTIFY_FANOUT_CHUNK users, one INSERT … SELECT … ON CONFLICT DO
     NOTHING per chunk and channel, cursor in the same transaction), timed start to done;
     (b) the child's RSS (VmRSS, and the peak VmHWM) when 10 %, 50 % and 100 % are written;
     then the same rows are exported (COPY TO), the table emptied (TRUNCATE) and the rows loaded
     back with one raw `COPY … FROM STDIN` (same table, same indexes and constraints): rows/s;
  3. (c) delivery: a SAMPLE of the promotion rows is released (as the pacing pump does) and
     published to a queue a real `celery worker` (2 processes) does not consume yet, then one
     add_consumer: rows/s until the broker is idle, against the same number of no-op tasks
     (notify_site.ping) drained the same way on the same broker. Email goes to the locmem backend.
Prints a Markdown table for bench/README.md, and the load average (a shared machine).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--sample", type=int, default=20000, help="rows delivered in phase (c)")
    parser.add_argument("--chunk", type=int, default=5000, help="users per fan-out chunk")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--fanout-child", dest="fanout_child", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


def rss_mb() -> dict:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":")
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def fanout_child(fanout_id: int, expected: int, chunk: int):
    """The fan-out worker: runs the engine until done, reporting RSS at 10 / 50 / 100 %."""
    import django

    django.setup()
    from marketing.fanout import fanout_run
    from marketing.models import FanOut

    marks = [0.10, 0.50, 1.00]
    report = {"start": rss_mb()}
    started = time.perf_counter()
    status = "running"
    while status not in ("done", "cancelled", "paused"):
        status = fanout_run(fanout_id, max_chunks=1, chunk_size=chunk)
        written = FanOut.objects.filter(pk=fanout_id).values_list("written", flat=True).first()
        while marks and (written >= expected * marks[0] or status == "done"):
            report[f"{int(marks.pop(0) * 100)}%"] = dict(rss_mb(), written=written,
                                                         seconds=round(time.perf_counter() - started, 2))
    report["seconds"] = time.perf_counter() - started
    print("FANOUT " + json.dumps(report), flush=True)


def seed(n: int):
    """N customers + one consent record each, by COPY. 2 % withdraw later, 1 % are suppressed."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import ConsentRecord, User
    from catalog.models import Product, Store
    from notifications.models import Suppression

    store = Store.objects.create(name="Bench Store", slug="bench", sender_name="Bench Store",
                                 support_email="help@bench.example")
    product = Product.objects.create(store=store, name="Linen shirt", slug="shirt", sku="S-1", price="25.00",
                                     stock_on_hand=100)
    now = timezone.now()
    password = make_password("bench-password")
    user_cols = ["password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
                 "is_active", "date_joined", "phone", "phone_verified_number", "sms_opt_in", "language",
                 "time_zone"]
    raw = connection.connection
    started = time.perf_counter()
    with raw.cursor() as cur:
        with cur.copy(f'COPY "{User._meta.db_table}" ({", ".join(user_cols)}) FROM STDIN') as copy:
            for i in range(n):
                copy.write_row((password, False, f"c{i}", "Ada", "Lovelace", f"c{i}@bench.example", False, True,
                                now, "", "", False, "en", "Europe/London"))
        cur.execute(f'SELECT MIN(id), MAX(id) FROM "{User._meta.db_table}"')
        low, high = cur.fetchone()
        with cur.copy(f'COPY "{ConsentRecord._meta.db_table}" (user_id, email, kind, granted, source, created_at) '
                      "FROM STDIN") as copy:
            for uid in range(low, high + 1):
                i = uid - low
                copy.write_row((uid, f"c{i}@bench.example", "marketing_email", True, "checkout", now))
            later = now + timezone.timedelta(seconds=1)
            for uid in range(low, high + 1, 50):  # 2 % withdrew afterwards
                copy.write_row((uid, f"c{uid - low}@bench.example", "marketing_email", False, "preferences", later))
        with cur.copy(f'COPY "{Suppression._meta.db_table}" (channel, address, reason, detail, created_at) '
                      "FROM STDIN") as copy:
            for uid in range(low + 7, high + 1, 100):  # 1 % hard bounced
                copy.write_row(("email", f"c{uid - low}@bench.example", "bounce", "", now))
    raw.commit()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return store, product, time.perf_counter() - started


def fanout_phase(args, promotion):
    from marketing import audience
    from marketing.models import FanOut

    expected = audience.count("email")
    fanout = FanOut.objects.create(key=promotion.event_key, source="promotion", source_id=promotion.pk,
                                   audience=expected)
    proc = subprocess.run([sys.executable, str(Path(__file__)), "--fanout-child", str(fanout.pk),
                           "--customers", str(expected), "--chunk", str(args.chunk)],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("FANOUT ")), None)
    if line is None:
        sys.exit("fan-out child failed:\n" + proc.stdout[-2000:] + proc.stderr[-4000:])
    report = json.loads(line[len("FANOUT "):])
    fanout.refresh_from_db()
    return expected, fanout, report


def copy_phase(promotion):
    """Export the fan-out's rows, empty the table, load them back with one raw COPY (timed)."""
    from django.db import connection

    from notifications.models import Notification

    table = Notification._meta.db_table
    cols = ", ".join(f'"{f.column}"' for f in Notification._meta.concrete_fields if not f.primary_key)
    raw = connection.connection
    with tempfile.TemporaryFile() as buffer:
        with raw.cursor() as cur:
            with cur.copy(f'COPY (SELECT {cols} FROM "{table}" WHERE event_key = %s ORDER BY id) TO STDOUT',
                          [promotion.event_key]) as copy:
                for data in copy:
                    buffer.write(data)
            raw.commit()
            cur.execute(f'TRUNCATE "{table}" CASCADE')
            raw.commit()
            cur.execute("CHECKPOINT")
            buffer.seek(0)
            started = time.perf_counter()
            with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                while data := buffer.read(1 << 20):
                    copy.write(data)
            raw.commit()
            seconds = time.perf_counter() - started
    rows = Notification.objects.filter(event_key=promotion.event_key).count()
    return rows, seconds


def delivery_phase(args, promotion):
    from django.utils import timezone

    from notifications.models import Notification
    from notifications.outbox import dispatch
    from notify_site.celery import app
    from pipeline import broker_idle, run_pings, start_worker, wait

    tag = str(int(time.time()))
    queue, hold = f"fanout-{tag}", f"fanout-{tag}-hold"
    worker, name = start_worker([queue], args.concurrency, ROOT / "var" / f"bench-fanout-worker-{tag}.log")
    try:
        ping_rate, ping_seconds = run_pings(app, queue, args.sample, hold=hold + "-ping", worker_name=name)
        ids = list(Notification.objects.filter(event_key=promotion.event_key, status="queued")
                   .order_by("id").values_list("id", flat=True)[:args.sample])
        Notification.objects.filter(pk__in=ids).update(send_after=timezone.now())  # released, as the pump does
        consumed = app.conf.task_default_queue
        app.conf.task_default_queue = hold
        try:
            dispatch(ids)
        finally:
            app.conf.task_default_queue = consumed
        started = time.perf_counter()
        app.control.add_consumer(hold, destination=[name], reply=True, timeout=5)
        end = wait(broker_idle(hold, queue), interval=0.02)
        app.control.cancel_consumer(hold, destination=[name], reply=True, timeout=5)
        sent = Notification.objects.filter(pk__in=ids, status="sent").count()
        return ping_rate, ping_seconds, len(ids) / (end - started), end - started, sent, len(ids)
    finally:
        worker.terminate()
        worker.wait(30)


def main():
    args = parse_args()
    from pipeline import configure_env

    configure_env()
    os.environ["NOTIFY_MARKETING_RATE"] = "email=100000,sms=100000"
    if args.fanout_child:
        return fanout_child(args.fanout_child, args.customers, args.chunk)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from marketing.context import promotion_context
    from marketing.models import Promotion

    load_before = os.getloadavg()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    store, product, seed_seconds = seed(args.customers)
    now = timezone.now()
    promotion = Promotion.objects.create(title="Bench sale", store=store, discount_percent=20, code="BENCH20",
                                         starts_at=now, ends_at=now + timezone.timedelta(days=7),
                                         channels=["email"], status=Promotion.Status.SENDING)
    promotion.products.set([product])
    Promotion.objects.filter(pk=promotion.pk).update(context=promotion_context(promotion))

    expected, fanout, report = fanout_phase(args, promotion)
    fan_rate = fanout.written / report["seconds"]
    copy_rows, copy_seconds = copy_phase(promotion)
    copy_rate = copy_rows / copy_seconds
    ping_rate, ping_seconds, deliver_rate, deliver_seconds, sent, sample = delivery_phase(args, promotion)
    load_after = os.getloadavg()

    print(f"\n{args.customers:,} customers seeded by COPY in {seed_seconds:.1f} s; audience {expected:,} "
          f"(2 % withdrew, 1 % suppressed); chunk {args.chunk} users")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 cores, shared)\n")
    print("| measure | value | against | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| (a) fan-out, rows/s | {fan_rate:,.0f} ({fanout.written:,} rows in {report['seconds']:.1f} s, "
          f"{fanout.chunks} chunks) | raw COPY of the same rows: {copy_rate:,.0f} ({copy_seconds:.1f} s) | "
          f"{fan_rate / copy_rate:.2f} | ≥ 0.50 |")
    marks = " / ".join(f"{k}: {report[k]['VmRSS']} MB" for k in ("10%", "50%", "100%") if k in report)
    peak = max(report[k]["VmHWM"] for k in ("10%", "50%", "100%") if k in report)
    print(f"| (b) fan-out worker RSS | {marks} (peak {peak} MB; at start {report['start']['VmRSS']} MB) | | | "
          f"< 300 MB, flat |")
    print(f"| (c) delivery of {sample:,} promotion rows, rows/s | {deliver_rate:,.0f} ({deliver_seconds:.1f} s, "
          f"{sent:,} sent) | no-op task: {ping_rate:,.0f} ({ping_seconds:.1f} s) | {deliver_rate / ping_rate:.2f} "
          f"| ≥ 0.50 |")


if __name__ == "__main__":
    main()
