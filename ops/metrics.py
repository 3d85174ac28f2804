"""/metrics in the Prometheus text format, collected from the database, the broker and the shared
counters at scrape time (so every web process answers the same, whichever one is scraped).

Send latency is a histogram over every DeliveryAttempt per channel; failures are attempts by
channel and status. Queue depth is the broker's message count per queue (Redis and RabbitMQ
both answer a passive queue declare); -1 when the broker cannot be asked.
"""
import logging

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from . import counters
from .services import heartbeat_ages

log = logging.getLogger(__name__)
LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000)


def queue_depths() -> dict[str, int]:
    from notify_site.celery import app

    out = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1.0)
            channel = conn.default_channel
            for queue in settings.OPS_METRICS_QUEUES:
                try:
                    out[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
                except Exception:  # the queue does not exist yet (nothing was ever sent to it)
                    out[queue] = 0
                    channel = conn.channel()
    except Exception as exc:
        log.warning("Broker unavailable for queue depth: %s", exc)
        out = {queue: -1 for queue in settings.OPS_METRICS_QUEUES}
    return out


class NotifyCollector:
    def collect(self):
        from django.conf import settings

        from notifications.delivery import SWEEP_AFTER_SECONDS
        from notifications.models import DeliveryAttempt, Notification
        from orders.models import CarrierWebhookLog

        depth = GaugeMetricFamily("notify_queue_depth", "Messages waiting in the broker queue (-1: broker unreachable).",
                                  labels=["queue"])
        for queue, value in queue_depths().items():
            depth.add_metric([queue], value)
        yield depth

        outbox = GaugeMetricFamily("notify_outbox_notifications", "Outbox rows by status and channel.",
                                   labels=["status", "channel"])
        for row in Notification.objects.values("status", "channel").annotate(n=Count("id")).order_by():
            outbox.add_metric([row["status"], row["channel"]], row["n"])
        yield outbox

        stale = timezone.now() - timezone.timedelta(
            seconds=getattr(settings, "NOTIFY_SWEEP_AFTER_SECONDS", SWEEP_AFTER_SECONDS))
        backlog = GaugeMetricFamily("notify_outbox_sweepable", "Queued rows older than the sweeper's threshold "
                                    "(waiting for the sweeper: broker was down or the worker is behind).")
        backlog.add_metric([], Notification.objects.filter(status="queued", updated_at__lt=stale,
                                                           send_after__isnull=True).count())
        yield backlog

        attempts = CounterMetricFamily("notify_delivery_attempts", "Delivery attempts by channel and outcome.",
                                       labels=["channel", "status"])
        for row in (DeliveryAttempt.objects.values("notification__channel", "status")
                    .annotate(n=Count("id")).order_by()):
            attempts.add_metric([row["notification__channel"], row["status"]], row["n"])
        yield attempts

        latency = HistogramMetricFamily("notify_send_latency_seconds",
                                        "Time the provider took to accept a message, per channel.",
                                        labels=["channel"])
        buckets = {f"le{b}": Count("id", filter=Q(latency_ms__lte=b)) for b in LATENCY_BUCKETS_MS}
        for row in (DeliveryAttempt.objects.values("notification__channel")
                    .annotate(total=Count("id"), sum_ms=Sum("latency_ms"), **buckets).order_by()):
            latency.add_metric([row["notification__channel"]],
                               [(str(b / 1000), row[f"le{b}"]) for b in LATENCY_BUCKETS_MS]
                               + [("+Inf", row["total"])], (row["sum_ms"] or 0) / 1000)
        yield latency

        carriers = CounterMetricFamily("notify_carrier_webhooks", "Accepted carrier webhooks by carrier and outcome.",
                                       labels=["carrier", "outcome"])
        for row in CarrierWebhookLog.objects.values("carrier", "outcome").annotate(n=Count("id")).order_by():
            carriers.add_metric([row["carrier"], row["outcome"]], row["n"])
        yield carriers

        shared = counters.read()
        intake = CounterMetricFamily("notify_webhook_requests", "Webhook requests by source and outcome "
                                     "(all web processes).", labels=["source", "outcome"])
        for labels, value in shared.get("webhook_requests", []):
            intake.add_metric([labels.get("source", ""), labels.get("outcome", "")], value)
        yield intake

        runs = CounterMetricFamily("notify_sweeper_runs", "Outbox sweeper runs.")
        runs.add_metric([], sum(v for _, v in shared.get("sweeper_runs", [])))
        yield runs
        swept = CounterMetricFamily("notify_sweeper_rows", "Rows the sweeper handled, by action "
                                    "(requeued, in_doubt_sent, in_doubt_resent, ...).", labels=["action"])
        for labels, value in shared.get("sweeper_rows", []):
            swept.add_metric([labels.get("action", "")], value)
        yield swept

        ages = GaugeMetricFamily("notify_heartbeat_age_seconds", "Seconds since a worker / beat was last seen.",
                                 labels=["process"])
        for name, age in heartbeat_ages().items():
            ages.add_metric([name], age)
        yield ages


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NotifyCollector())
    return generate_latest(registry)
