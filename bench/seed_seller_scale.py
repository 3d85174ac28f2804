"""Seed a benchmark database at scale for bench/seller_pages.sh (idempotent; PostgreSQL only).

    DJANGO_SETTINGS_MODULE=... DATABASE_URL=postgres://.../notify_wt7_bench .venv/bin/python bench/seed_seller_scale.py

One store ("Bench Mega Store", slug bench-mega) gets ORDERS orders (default 100,000) with a line and a
payment each, and NOTIFICATIONS notifications (default 1,000,000, 80% for the big store, the rest for
four other stores and none) over 90 days with one delivery attempt each for those that were tried;
then the statistics rollup is built with `stats_backfill` (timed). Rows are written with
INSERT … SELECT generate_series in the database (100,000 orders in a few seconds), not one by one.
Prints, as shell assignments, what the benchmark needs: the store id, a seller and a staff session.
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notify_site.settings.production")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from catalog.models import Product, Store  # noqa: E402
from notifications.models import DeliveryAttempt, Notification, NotificationStatsDaily  # noqa: E402
from orders.models import Order  # noqa: E402

ORDERS = int(os.environ.get("ORDERS", 100_000))
NOTIFICATIONS = int(os.environ.get("NOTIFICATIONS", 1_000_000))
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Radia", "Linus",
         "Frances", "John", "Katherine", "Tim", "Hedy", "Dennis", "Sophie", "Niklaus", "Annie", "Guido"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Perlman",
        "Torvalds", "Allen", "Backus", "Johnson", "Berners-Lee", "Lamarr", "Ritchie", "Wilson", "Wirth",
        "Easley", "van Rossum", "Shaw", "Clarke", "Patel", "Nguyen", "Okafor", "Schmidt", "Rossi", "Garcia",
        "Kowalski", "Novak", "Silva", "Jensen", "Murphy", "Kim", "Tanaka", "Haddad", "Cohen", "Ivanova",
        "Moreau", "Fischer", "Larsen", "Bianchi", "Santos", "Duarte", "Ali", "Khan", "Reyes", "Costa",
        "Meyer", "Weber"]
STATUSES = ["pending", "processing", "on_hold", "shipped", "completed", "completed", "completed", "completed",
            "completed", "cancelled"]
EVENTS = ["order.placed", "order.shipped", "order.delivered", "order.processing", "shipment.in_transit",
          "shipment.out_for_delivery", "order.cancelled", "seller.new_order", "order.refunded", "order.on_hold"]
CHANNELS = ["email", "email", "email", "sms", "inapp"]
N_STATUSES = ["delivered"] * 12 + ["sent"] * 4 + ["bounced", "failed", "skipped", "queued"]
REASONS = ["550 5.1.1 Mailbox does not exist", "Provider timed out after 10 s", "21211 Invalid 'To' phone number",
           "452 Mailbox full", "Connection reset by peer"]


def _array(values) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def insert_select(model, exprs: dict, n: int, *, batch: int = 100_000):
    """INSERT INTO model's table every concrete column: ``exprs`` (SQL over the series ``i``), or the
    field's Python default as a parameter."""
    table = model._meta.db_table
    columns, select, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in exprs:
            select.append(exprs[field.column].replace("%", "%%"))  # SQL modulo, not a placeholder
        elif isinstance(field, (models.DateTimeField,)) and (field.auto_now or field.auto_now_add):
            select.append("now()")
        else:
            default = field.get_default()
            if isinstance(field, models.JSONField):
                default = json.dumps(default)
            select.append("%s")
            params.append(default)
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} "
           f"FROM generate_series(%s, %s) AS i")
    with connection.cursor() as cursor:
        for start in range(1, n + 1, batch):
            cursor.execute(sql, [*params, start, min(n, start + batch - 1)])


def seed_orders(store, product):
    if Order.objects.filter(store=store).count() >= ORDERS:
        return False
    started = time.monotonic()
    name = f"({_array(FIRST)})[1 + i % 20] || ' ' || ({_array(LAST)})[1 + (i / 20) % 50]"
    insert_select(Order, {
        "number": "'NS-B' || lpad((i / 10000)::text, 3, '0') || '-' || lpad((i % 10000)::text, 4, '0')",
        "email": f"lower(replace(({_array(FIRST)})[1 + i % 20] || '.' || ({_array(LAST)})[1 + (i / 20) % 50], ' ', ''))"
                 " || i || '@example.com'",
        "phone": "'+447700900123'",
        "store_id": str(store.pk),
        "checkout_id": "md5(i::text)::uuid",
        "status": f"({_array(STATUSES)})[1 + i % 10]",
        "subtotal": "20 + (i % 200)", "shipping_total": "3.99", "tax_total": "4.00",
        "total": "27.99 + (i % 200)",
        "shipping_name": name,
        "shipping_line1": "'1 Bench Street'", "shipping_city": "'London'", "shipping_postcode": "'N1 9GU'",
        "placed_at": "now() - (i * interval '5 minutes')", "updated_at": "now() - (i * interval '5 minutes')",
    }, ORDERS)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_orderline (order_id, product_id, product_name, sku, unit_price, quantity, is_backordered) "
            "SELECT id, %s, 'Bench widget', 'BENCH-1', 20, 1 + id %% 3, false FROM orders_order WHERE store_id = %s",
            [product.pk, store.pk])
        cursor.execute(
            "INSERT INTO orders_payment (order_id, method, status, amount, refunded_amount, card_last4, reference, "
            "failure_reason, created_at, updated_at) SELECT id, 'card', 'captured', total, 0, '4242', '', '', "
            "placed_at, placed_at FROM orders_order WHERE store_id = %s", [store.pk])
        cursor.execute("ANALYZE orders_order; ANALYZE orders_orderline; ANALYZE orders_payment;")
    print(f"# seeded {ORDERS} orders in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return True


def seed_deadlines(store):
    """Open orders get a shipping deadline two days after they were placed (orders.sla), as live
    ones do: almost all of the seeded open orders (20% of ORDERS) are then late, a worst case for
    the Late tab's count. Only for orders without one, so it runs once."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE orders_order SET ship_by = placed_at + interval '2 days' WHERE store_id = %s "
                       "AND status IN ('processing', 'on_hold') AND ship_by IS NULL", [store.pk])
        updated = cursor.rowcount
        if updated:
            cursor.execute("ANALYZE orders_order")
            print(f"# gave {updated} open orders a ship_by", file=sys.stderr)


def seed_notifications(store, others):
    if Notification.objects.count() >= NOTIFICATIONS:
        return False
    started = time.monotonic()
    store_ids = [store.pk] * 16 + [s.pk for s in others]  # 80% the big store, 20% four others
    store_expr = f"(ARRAY[{','.join(map(str, store_ids))}])[1 + (i * 7) % {len(store_ids)}]"
    status = f"({_array(N_STATUSES)})[1 + (i * 13) % {len(N_STATUSES)}]"
    insert_select(Notification, {
        "event": f"({_array(EVENTS)})[1 + i % {len(EVENTS)}]",
        "event_key": "'bench:' || i",
        "audience": "'customer'",
        "recipient_address": "'r' || i || '@example.com'",
        "channel": f"({_array(CHANNELS)})[1 + (i / 3) % {len(CHANNELS)}]",
        "category": "'transactional'",
        "status": status,
        "last_error": f"CASE WHEN {status} IN ('bounced', 'failed') THEN ({_array(REASONS)})[1 + (i / 7) % 5] "
                      "ELSE '' END",
        "store_id": f"CASE WHEN i % 50 = 0 THEN NULL ELSE {store_expr} END",
        "attempts": "1",
        "created_at": f"now() - (i * interval '{90 * 86400 / NOTIFICATIONS} seconds')",
        "updated_at": f"now() - (i * interval '{90 * 86400 / NOTIFICATIONS} seconds')",
    }, NOTIFICATIONS)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_deliveryattempt (notification_id, number, status, provider, provider_message_id, "
            "latency_ms, error, transient, provider_status, sms_encoding, created_at, updated_at) "
            "SELECT id, 1, CASE WHEN status = 'failed' THEN 'failed' ELSE 'sent' END, channel, '', "
            "(20 + 3000 * random() * random() * random())::int, last_error, false, '', '', created_at, created_at "
            "FROM notifications_notification WHERE status NOT IN ('skipped', 'queued')")
        cursor.execute("ANALYZE notifications_notification; ANALYZE notifications_deliveryattempt;")
    print(f"# seeded {NOTIFICATIONS} notifications in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return True


def main():
    store, _ = Store.objects.get_or_create(slug="bench-mega", defaults={"name": "Bench Mega Store",
                                                                         "sender_name": "Bench Mega"})
    others = [Store.objects.get_or_create(slug=f"bench-other-{i}", defaults={"name": f"Bench Other {i}"})[0]
              for i in range(4)]
    product, _ = Product.objects.get_or_create(store=store, sku="BENCH-1", defaults={
        "name": "Bench widget", "slug": "bench-widget", "price": 20, "stock_on_hand": 1000})
    seller, created = User.objects.get_or_create(username="bench-seller", defaults={"store": store,
                                                                                    "email": "bench-seller@example.com"})
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True,
                                                                            "email": "bench-staff@example.com"})
    seed_orders(store, product)
    seed_deadlines(store)
    if seed_notifications(store, others) or not NotificationStatsDaily.objects.exists():
        started = time.monotonic()
        call_command("stats_backfill", stdout=open(os.devnull, "w"))
        print(f"# stats_backfill over {Notification.objects.count()} notifications: "
              f"{time.monotonic() - started:.1f} s, {NotificationStatsDaily.objects.count()} rollup rows",
              file=sys.stderr)
    from notifications.stats import stats_rollup_recent

    started = time.monotonic()
    stats_rollup_recent()
    print(f"# beat's rollup of the last 3 days: {time.monotonic() - started:.2f} s", file=sys.stderr)
    print(f"# {Order.objects.filter(store=store).count()} orders in the store, "
          f"{Notification.objects.count()} notifications, {DeliveryAttempt.objects.count()} attempts",
          file=sys.stderr)

    sessions = []
    for user in (seller, staff):
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies["sessionid"].value)
    order = Order.objects.filter(store=store).order_by("id").first()
    print(f"STORE_ID={store.pk} ORDER_ID={order.pk} SELLER_SESSION={sessions[0]} STAFF_SESSION={sessions[1]}")


if __name__ == "__main__":
    main()
