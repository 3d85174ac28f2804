#!/usr/bin/env python
"""Benchmark: end-to-end notifications per second beside a no-op Celery task, same broker, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ns_bench REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/pipeline.py [--orders 600] [--pings 3000] [--profile]

What it does (the database named by DATABASE_URL is FLUSHED: give it a database of its own):
  1. migrates and seeds a store, a seller, customers who opted into SMS, and N processing orders;
  2. starts a real `celery worker` (2 prefork processes, acks_late, prefetch 4) on Redis;
  3. no-op baseline: publishes P `notify_site.ping` tasks while the worker runs and times until
     every result is stored;
  4. pipeline: ships each order with orders.services.shipment_create (one transaction per order
     change; each writes its outbox rows and queues them on commit) while the worker runs, and
     times until every notification is sent: rendered (HTML with CSS inlined + text, SMS, in-app),
     handed to the locmem email / SMS backends or the inbox, and its DeliveryAttempt logged;
  5. the same two measurements with the producer out of the way (messages published to a queue
     the worker does not consume, then one add_consumer): the worker's own drain rate;
  6. queries per delivery, counted in-process; ``--profile`` adds a cProfile of deliveries.
Prints a Markdown table for bench/README.md.
"""
import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=400, help="order changes per phase (3 notifications each)")
    parser.add_argument("--pings", type=int, default=2400, help="no-op tasks per baseline phase")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="alternating drain rounds (median reported)")
    parser.add_argument("--profile", action="store_true", help="cProfile 200 in-process deliveries")
    parser.add_argument("--py-spy", dest="py_spy", default="",
                        help="sample the worker with py-spy during the drain rounds; write folded stacks here")
    parser.add_argument("--producers", type=int, default=2,
                        help="processes making the order changes in the end-to-end phase (like web workers)")
    parser.add_argument("--produce", default="", help=argparse.SUPPRESS)  # child mode: "tag:id,id,…"
    return parser.parse_args()


def configure_env():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own (it is flushed), e.g. "
                 "postgres://postgres@127.0.0.1:5432/ns_bench")
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL, e.g. redis://127.0.0.1:6379/14")
    os.environ["DJANGO_SETTINGS_MODULE"] = "notify_site.settings.test"  # locmem email + SMS backends
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"]
    os.environ["CELERY_RESULT_BACKEND"] = os.environ["REDIS_URL"]
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def seed(n_orders: int, tag: str):
    from django.contrib.auth import get_user_model

    from catalog.models import Product, Store
    from notifications.models import PlatformSettings, QuietHours
    from orders.models import Order, OrderEvent, OrderLine, Payment

    User = get_user_model()
    store = Store.objects.create(name=f"Bench Store {tag}", slug=f"bench-{tag}", sender_name="Bench Store",
                                 support_email="help@bench.example")
    User.objects.create_user(username=f"seller-{tag}", email=f"seller-{tag}@bench.example", store=store,
                             phone="+447911000001")
    product = Product.objects.create(store=store, name="Linen shirt", slug=f"shirt-{tag}", sku=f"S-{tag}",
                                     price=Decimal("25.00"), stock_on_hand=10**6)
    User.objects.bulk_create([
        User(username=f"c{tag}-{i}", email=f"c{tag}-{i}@bench.example", first_name="Ada", phone=f"+4479111{i:05d}",
             sms_opt_in=True, time_zone="Europe/London") for i in range(max(1, n_orders // 2))])
    customers = list(User.objects.filter(username__startswith=f"c{tag}-"))
    # SMS at any hour: the benchmark measures throughput, not quiet hours.
    QuietHours.objects.bulk_create([QuietHours(user=c, enabled=False) for c in customers])
    PlatformSettings.objects.update_or_create(pk=1, defaults={"sms_daily_cap": 0})
    orders = Order.objects.bulk_create([
        Order(customer=customers[i % len(customers)], email=customers[i % len(customers)].email,
              phone=str(customers[i % len(customers)].phone), sms_opt_in=True, store=store,
              checkout_id=uuid.uuid4(), status="processing",
              subtotal=Decimal("25.00"), shipping_total=Decimal("3.99"), tax_total=Decimal("4.83"),
              total=Decimal("28.99"), shipping_name="Ada Lovelace", shipping_line1="1 Analytical Row",
              shipping_city="London", shipping_postcode="N1 9GU", estimated_delivery=date.today() + timedelta(5))
        for i in range(n_orders)])
    OrderLine.objects.bulk_create([OrderLine(order=o, product=product, product_name=product.name, sku=product.sku,
                                             unit_price=product.price, quantity=1) for o in orders])
    Payment.objects.bulk_create([Payment(order=o, method="card", status="captured", amount=o.total,
                                         card_last4="4242") for o in orders])
    OrderEvent.objects.bulk_create([OrderEvent(order=o, kind="placed", to_status="pending", actor_label="bench")
                                    for o in orders])
    return list(Order.objects.filter(store=store).order_by("id"))


def start_worker(queues: list[str], concurrency: int, log_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CELERY_TASK_DEFAULT_QUEUE": queues[0]}
    log = open(log_path, "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "notify_site", "worker", "-Q", ",".join(queues), "-c",
         str(concurrency), "--without-mingle", "--without-gossip", "-l", "info", "-n", f"{queues[0]}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log.seek(0)
        if "ready." in log.read():
            return proc, f"{queues[0]}@" + os.uname().nodename
        if proc.poll() is not None:
            log.seek(0)
            sys.exit("worker exited:\n" + log.read()[-3000:])
        time.sleep(0.2)
    proc.kill()
    sys.exit("worker not ready in 60 s")


def wait(predicate, timeout=600, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(interval)
    raise TimeoutError


def ping_done(redis_client, ids):
    keys = [f"celery-task-meta-{i}" for i in ids]

    def check():
        return sum(redis_client.exists(*keys[j:j + 1000]) for j in range(0, len(keys), 1000)) == len(keys)
    return check


def broker_idle(*queues):
    """True once no message waits in ``queues`` and none is delivered-but-unacked (acks_late: a
    task is acked after it finished). Two cheap Redis commands, the same for both workloads, so the
    polling does not load Redis or PostgreSQL differently for the no-op and the notifications."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])

    def check():
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.llen(queue)
            pipe.hlen("unacked")
            return not any(pipe.execute())
    return check


DRAIN_CPU: dict[str, list] = {"no-op": [], "notifications": []}  # per drain round: (cpu by group, count)


def run_pings(app, queue, n, hold=None, worker_name=None, worker_pid=0):
    """Publish n no-op tasks; return tasks/s from the first publish (or add_consumer) to the last result."""
    import redis

    from notify_site.celery import ping

    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    target = hold or queue
    start = time.perf_counter()
    ids = [ping.apply_async(args=[i], queue=target).id for i in range(n)]
    if hold:
        before = cpu_snapshot(worker_pid)
        start = time.perf_counter()
        app.control.add_consumer(hold, destination=[worker_name], reply=True, timeout=5)
    end = wait(broker_idle(queue, *([hold] if hold else [])), interval=0.02)
    if hold:
        DRAIN_CPU["no-op"].append((cpu_delta(before, cpu_snapshot(worker_pid)), n))
    wait(ping_done(r, ids))  # every result is there (outside the timed window)
    if hold:
        app.control.cancel_consumer(hold, destination=[worker_name], reply=True, timeout=5)
    return n / (end - start), end - start


def notifications_sent(ids_or_orders):
    from notifications.models import Notification

    def check():
        return not Notification.objects.filter(order__in=ids_or_orders).exclude(
            status__in=["sent", "failed", "skipped", "suppressed"]).exists()
    return check


def ship(order_ids, tag):
    from orders.models import Order
    from orders.services import shipment_create

    for order in Order.objects.filter(pk__in=order_ids).order_by("id"):
        shipment_create(order=order, carrier="royalmail", carrier_name="Royal Mail",
                        tracking_number=f"{tag}{order.pk:07d}", eta=date.today() + timedelta(days=3))


def produce_child(spec: str):
    """Child process of run_pipeline: set up, say ready, wait for "go", make the order changes."""
    import django

    django.setup()
    from notify_site.celery import app

    app.conf.task_default_queue = os.environ["CELERY_TASK_DEFAULT_QUEUE"]
    app.conf.task_always_eager = False
    tag, ids = spec.split(":", 1)
    order_ids = [int(x) for x in ids.split(",") if x]
    from orders.models import Order

    list(Order.objects.filter(pk__in=order_ids[:1]))  # connect before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()
    ship(order_ids, tag)
    print("done", flush=True)
    sys.stdin.readline()  # stay alive (and connected) until the parent has read every process's CPU time


TICK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(worker_pid: int) -> dict:
    """CPU seconds (user + system) of every process on the machine, grouped: this script, the
    producers, the worker's main process and its prefork children, PostgreSQL, Redis, the rest.
    Read from /proc, so a process must still be alive when it is read (the producers wait)."""
    groups: dict[str, float] = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        pid, ppid = int(entry), int(fields[1])
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        if pid == me:
            group = "bench script (polling)"
        elif "--produce" in cmdline:
            group = "producers (order service + outbox rows)"
        elif pid == worker_pid:
            group = "celery worker: main process"
        elif ppid == worker_pid:
            group = "celery worker: prefork children (delivery)"
        elif comm.startswith("postgres") or cmdline.startswith("postgres"):
            group = "PostgreSQL (all backends)"
        elif comm.startswith("redis"):
            group = "Redis"
        else:
            group = "other processes"
        groups[group] = groups.get(group, 0.0) + seconds
    return groups


def cpu_delta(before: dict, after: dict) -> dict:
    return {g: after.get(g, 0.0) - before.get(g, 0.0) for g in set(before) | set(after)}


def run_pipeline(orders, tag, producers: int, worker_pid: int = 0):
    """Make one order change per order (ship it: its outbox rows are queued on commit) from
    ``producers`` processes while the worker delivers; time until every notification is sent."""
    from notifications.models import Notification
    from notify_site.celery import app

    env = {**os.environ, "PYTHONPATH": str(ROOT), "CELERY_TASK_DEFAULT_QUEUE": app.conf.task_default_queue}
    chunks = [orders[i::producers] for i in range(producers)]
    children = [subprocess.Popen([sys.executable, __file__, "--produce",
                                  f"{tag}{i}:" + ",".join(str(o.pk) for o in chunk)],
                                 cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for i, chunk in enumerate(chunks) if chunk]
    for child in children:
        if child.stdout.readline().strip() != "ready":
            sys.exit("a producer failed to start")
    cpu_before = cpu_snapshot(worker_pid)
    start = time.perf_counter()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        if child.stdout.readline().strip() != "done":
            sys.exit("a producer failed")
    produced = time.perf_counter()
    end = wait(broker_idle(app.conf.task_default_queue), interval=0.02)
    cpu = cpu_delta(cpu_before, cpu_snapshot(worker_pid))
    for child in children:
        child.stdin.write("exit\n")
        child.stdin.flush()
        if child.wait() != 0:
            sys.exit("a producer failed")
    wait(notifications_sent(orders))  # and every row is final (outside the timed window)
    n = Notification.objects.filter(order__in=orders).count()
    return n / (end - start), end - start, produced - start, n, cpu


def run_pipeline_drain(app, orders, tag, hold, worker_name, worker_pid=0):
    """Same order changes with delivery published to a queue nobody consumes, then one add_consumer."""
    from notifications.models import Notification
    from orders.services import shipment_create

    consumed = app.conf.task_default_queue
    app.conf.task_default_queue = hold  # the outbox's tasks wait in a queue nobody consumes yet
    try:
        for i, order in enumerate(orders):
            shipment_create(order=order, carrier="royalmail", carrier_name="Royal Mail",
                            tracking_number=f"{tag}{i:06d}", eta=date.today() + timedelta(days=3))
    finally:
        app.conf.task_default_queue = consumed
    n = Notification.objects.filter(order__in=orders).count()
    before = cpu_snapshot(worker_pid)
    start = time.perf_counter()
    app.control.add_consumer(hold, destination=[worker_name], reply=True, timeout=5)
    end = wait(broker_idle(hold, app.conf.task_default_queue), interval=0.02)
    DRAIN_CPU["notifications"].append((cpu_delta(before, cpu_snapshot(worker_pid)), n))
    wait(notifications_sent(orders))
    app.control.cancel_consumer(hold, destination=[worker_name], reply=True, timeout=5)
    return n / (end - start), end - start, n


def check_results(orders):
    from django.db.models import Count

    from notifications.models import DeliveryAttempt, Notification

    rows = Notification.objects.filter(order__in=orders)
    by_status = dict(rows.values_list("status").annotate(c=Count("id")))
    attempts = DeliveryAttempt.objects.filter(notification__order__in=orders).count()
    by_channel = dict(rows.values_list("channel").annotate(c=Count("id")))
    return by_status, by_channel, attempts


def queries_per_delivery(orders, tag):
    """Deliver fresh rows in-process and count queries (the worker runs the same code): each row
    alone (deliver, used for retries and single rows) and one event's rows together (deliver_batch)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.delivery import notification_deliver, notification_deliver_many
    from notifications.models import Notification

    _ship_without_dispatch(orders, tag)
    counts = {}
    rows = list(Notification.objects.filter(order__in=orders, status="queued").values_list("id", "channel",
                                                                                          "order_id"))
    half = len(rows) // 2
    for pk, channel, _ in rows[:3]:  # warm the template cache
        notification_deliver(notification_id=pk)
    for pk, channel, _ in rows[3:half]:
        with CaptureQueriesContext(connection) as ctx:
            notification_deliver(notification_id=pk)
        counts.setdefault(f"{channel} alone", []).append(len(ctx))
    by_order = {}
    for pk, _, order_id in rows[half:]:
        by_order.setdefault(order_id, []).append(pk)
    for ids in by_order.values():
        with CaptureQueriesContext(connection) as ctx:
            notification_deliver_many(notification_ids=ids)
        counts.setdefault(f"per row in an order.shipped batch of {len(ids)}", []).append(len(ctx) / len(ids))
    return {ch: sum(v) / len(v) for ch, v in counts.items()}, rows


def _ship_without_dispatch(orders, tag):
    """Order changes whose outbox rows stay queued (nothing handed to the broker)."""
    from unittest import mock

    from orders.services import shipment_create

    with mock.patch("notifications.outbox.dispatch"):
        for i, order in enumerate(orders):
            shipment_create(order=order, carrier="royalmail", carrier_name="Royal Mail",
                            tracking_number=f"{tag}{i:06d}", eta=date.today() + timedelta(days=3))


def profile_deliveries(orders, tag):
    from notifications.delivery import notification_deliver_many
    from notifications.models import Notification

    _ship_without_dispatch(orders, tag)

    ids = list(Notification.objects.filter(order__in=orders, status="queued").values_list("id", "order_id"))
    batches = {}
    for pk, order_id in ids:
        batches.setdefault(order_id, []).append(pk)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for batch in batches.values():
        notification_deliver_many(notification_ids=batch)
    profiler.disable()
    elapsed = time.perf_counter() - started
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    return len(ids) / elapsed, out.getvalue()


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main():
    args = parse_args()
    configure_env()
    if args.produce:
        return produce_child(args.produce)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from notify_site.celery import app

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    tag = uuid.uuid4().hex[:6]
    n, rounds = args.orders, args.rounds
    orders = seed(n * (rounds + 1) + 420, tag)
    warm, e2e = orders[:20], orders[20:20 + n]
    drains = [orders[20 + n * (r + 1):20 + n * (r + 2)] for r in range(rounds)]
    rest = orders[20 + n * (rounds + 1):]
    qcount, prof = rest[:200], rest[200:400]
    queue, hold = f"bench-{tag}", f"bench-hold-{tag}"
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    log_path = ROOT / "var" / f"bench-worker-{tag}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    proc, worker_name = start_worker([queue], args.concurrency, log_path)
    connection.close()
    load_before = os.getloadavg()
    try:
        run_pings(app, queue, 200)  # warm-up: connections, compiled templates
        run_pipeline(warm, f"W{tag}", 1, proc.pid)
        spy = None
        if args.py_spy:
            spy = subprocess.Popen(["py-spy", "record", "--subprocesses", "--pid", str(proc.pid), "--format", "raw",
                                    "--rate", "250", "--output", args.py_spy], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            time.sleep(1)
        # Drain rounds alternate no-op / notifications so load from elsewhere hits both alike.
        drain_rows = []
        for r, chunk in enumerate(drains):
            ping_rate, ping_s = run_pings(app, queue, args.pings, hold=hold, worker_name=worker_name,
                                          worker_pid=proc.pid)
            rate, seconds, count = run_pipeline_drain(app, chunk, f"D{r}{tag}", hold, worker_name, proc.pid)
            drain_rows.append((ping_rate, ping_s, rate, seconds, count))
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
            spy.wait(timeout=60)
        cpu_before = cpu_snapshot(proc.pid)
        ping_rate, ping_s = run_pings(app, queue, args.pings)
        ping_cpu = cpu_delta(cpu_before, cpu_snapshot(proc.pid))
        e2e_rate, e2e_s, produce_s, e2e_n, e2e_cpu = run_pipeline(e2e, f"E{tag}", args.producers, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    load_after = os.getloadavg()
    by_status, by_channel, attempts = check_results(e2e + [o for chunk in drains for o in chunk])
    per_channel, _ = queries_per_delivery(qcount, f"Q{tag}")

    print(f"\nworker: {args.concurrency} prefork processes, acks_late=True, prefetch x4, -l info; broker and results "
          f"on {os.environ['REDIS_URL']}; PostgreSQL {connection.settings_dict['NAME']}; {os.cpu_count()} CPUs; "
          f"load average before/after {load_before[0]:.1f}/{load_after[0]:.1f}")
    print(f"notifications: {sum(by_status.values())} rows {by_status}, channels {by_channel}, "
          f"{attempts} delivery attempts\n")
    print("Worker throughput: the messages wait in a queue the worker does not consume, then one add_consumer; "
          "timed until the last no-op result is stored / the last notification is sent and its attempt logged.\n")
    print("| round | no-op tasks | no-op /s | notifications (from order changes) | notifications /s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r, (p_rate, p_s, rate, seconds, count) in enumerate(drain_rows, 1):
        print(f"| {r} | {args.pings} in {p_s:.2f}s | {p_rate:.0f} | {count} in {seconds:.2f}s | {rate:.0f} | "
              f"{rate / p_rate:.2f} |")
    ratios = [rate / p_rate for p_rate, _, rate, _, _ in drain_rows]
    print(f"| **median** | | **{median([d[0] for d in drain_rows]):.0f}** | | "
          f"**{median([d[2] for d in drain_rows]):.0f}** | **{median(ratios):.2f}** |")
    print("\nCPU time by process during the drain rounds (all rounds together; the producers made their changes "
          "before, outside these windows):\n")
    print("| process group | no-op: ms per task | notifications: ms per notification |")
    print("|---|---:|---:|")
    totals = {}
    for kind, rows in DRAIN_CPU.items():
        count = sum(c for _, c in rows) or 1
        for cpu, _ in rows:
            for group, seconds in cpu.items():
                totals.setdefault(group, {}).setdefault(kind, 0.0)
                totals[group][kind] += 1000 * seconds / count
    for group in sorted(totals, key=lambda g: -totals[g].get("notifications", 0.0)):
        print(f"| {group} | {totals[group].get('no-op', 0.0):.2f} | {totals[group].get('notifications', 0.0):.2f} |")
    print(f"| **all** | **{sum(t.get('no-op', 0.0) for t in totals.values()):.2f}** | "
          f"**{sum(t.get('notifications', 0.0) for t in totals.values()):.2f}** |")
    print(f"\nEnd to end with the producers in the loop ({args.producers} processes make the order changes, one "
          f"transaction each, while the worker delivers; timed from the first change to the last notification "
          f"sent):\n")
    print("| measurement | count | seconds | per second | vs no-op |")
    print("|---|---:|---:|---:|---:|")
    print(f"| no-op `notify_site.ping`, published while the worker runs | {args.pings} | {ping_s:.2f} | "
          f"{ping_rate:.0f} | 1.00 |")
    print(f"| {n} order changes (ship) → {e2e_n} notifications rendered, sent, attempt logged | {e2e_n} | "
          f"{e2e_s:.2f} | {e2e_rate:.0f} | {e2e_rate / ping_rate:.2f} |")
    print(f"| ...the producers' part (order service + outbox rows, {args.producers} processes) | {n} changes | "
          f"{produce_s:.2f} | {n / produce_s:.0f} changes/s | |")
    print(f"\nCPU time by process during the two end-to-end runs (from /proc; {os.cpu_count()} CPUs, so the "
          f"machine has {os.cpu_count()} CPU-seconds per wall second):\n")
    print(f"| process group | no-op: ms per task | pipeline: ms per order change (3 notifications) |")
    print("|---|---:|---:|")
    for group in sorted(set(ping_cpu) | set(e2e_cpu), key=lambda g: -e2e_cpu.get(g, 0.0)):
        print(f"| {group} | {1000 * ping_cpu.get(group, 0.0) / args.pings:.2f} | "
              f"{1000 * e2e_cpu.get(group, 0.0) / n:.2f} |")
    print(f"| **all** | **{1000 * sum(ping_cpu.values()) / args.pings:.2f}** | "
          f"**{1000 * sum(e2e_cpu.values()) / n:.2f}** |")
    print(f"| wall time x CPUs | {1000 * ping_s * os.cpu_count() / args.pings:.2f} | "
          f"{1000 * e2e_s * os.cpu_count() / n:.2f} |")
    print("\nqueries per delivery (in-process count): " + "; ".join(f"{ch}: {q:.1f}" for ch, q in
                                                                     sorted(per_channel.items())))
    if args.profile:
        rate, report = profile_deliveries(prof, f"P{tag}")
        print(f"\nin-process deliveries under cProfile: {rate:.0f}/s\n{report}")
    print(f"worker log: {log_path}")


if __name__ == "__main__":
    main()
