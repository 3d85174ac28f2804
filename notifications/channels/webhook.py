"""Signed webhooks to a seller's own endpoint (Standard Webhooks, with the ``standardwebhooks`` library).

Each message is a Notification row of channel "webhook" whose body is the frozen JSON payload; it is
POSTed with ``webhook-id`` (``msg_<row id>``, the same on every retry, so receivers can dedupe),
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``,
one signature per live secret (two during a rotation's grace period). Redirects are not followed,
and the target is checked again before every send (no private / loopback / link-local addresses in
production). Every attempt is logged (status code, latency, the first bytes of the response).

Retry schedule (``retry_schedule``, read by notifications.delivery): after a failed try, wait
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 tries over about 27.6 hours. An endpoint whose
deliveries have all failed for WEBHOOKS_DISABLE_AFTER_HOURS (24) is disabled and its sellers alerted.
"""
import time
from datetime import UTC, datetime

import requests
from django.conf import settings
from standardwebhooks import Webhook

from . import ChannelError, OutgoingMessage, SendResult

RETRY_SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
EXCERPT_BYTES = 500
USER_AGENT = "NotifyMarket-Webhooks/1.0"


def sign_headers(*, msg_id: str, body: str, secrets: list[str], at: datetime) -> dict:
    signatures = " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=at, data=body) for secret in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signatures,
            "Content-Type": "application/json", "User-Agent": USER_AGENT}


class WebhookChannel:
    name = "webhook"
    retry_schedule = RETRY_SCHEDULE_SECONDS

    def send(self, message: OutgoingMessage) -> SendResult:
        from notifications.models import Notification
        from webhooks.events import PING
        from webhooks.models import WebhookAttempt, WebhookEndpoint
        from webhooks.services import endpoint_record_result, signing_secrets
        from webhooks.targets import TargetRefused, check_target

        endpoint_id = int(message.to.removeprefix("webhook:")) if message.to.startswith("webhook:") else None
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first() if endpoint_id else None
        if endpoint is None:
            raise ChannelError("The webhook endpoint was deleted.", transient=False, provider="webhook")
        if not endpoint.enabled and message.event != PING:
            raise ChannelError(f"Endpoint disabled: {endpoint.disabled_reason or 'switched off by the seller'}",
                               transient=False, provider="webhook")
        attempt_no = Notification.objects.filter(pk=message.notification_id).values_list("attempts", flat=True).first()
        log = WebhookAttempt(notification_id=message.notification_id, endpoint=endpoint, attempt=attempt_no or 1,
                             url=endpoint.url)
        try:
            check_target(endpoint.url)
        except TargetRefused as exc:
            log.error = str(exc)[:500]
            log.save()
            raise ChannelError(f"Target refused: {exc}", transient=False, provider="webhook") from None

        now = datetime.now(tz=UTC)
        msg_id = f"msg_{message.notification_id}"
        headers = sign_headers(msg_id=msg_id, body=message.text, secrets=signing_secrets(endpoint), at=now)
        started = time.perf_counter()
        try:
            response = requests.post(endpoint.url, data=message.text.encode(), headers=headers,
                                     timeout=settings.WEBHOOKS_TIMEOUT_SECONDS, allow_redirects=False, stream=True)
            try:
                excerpt = next(response.iter_content(EXCERPT_BYTES), b"")[:EXCERPT_BYTES]
            finally:
                response.close()
        except requests.RequestException as exc:
            log.latency_ms = int((time.perf_counter() - started) * 1000)
            log.error = f"{type(exc).__name__}: {exc}"[:500]
            log.save()
            endpoint_record_result(endpoint_id=endpoint.pk, ok=False)
            raise ChannelError(log.error, transient=True, provider="webhook") from None
        log.latency_ms = int((time.perf_counter() - started) * 1000)
        log.status_code = response.status_code
        log.response_excerpt = excerpt.decode("utf-8", errors="replace")
        log.succeeded = 200 <= response.status_code < 300
        if not log.succeeded:
            log.error = (f"Redirect to {response.headers.get('Location', '?')} not followed"
                         if 300 <= response.status_code < 400 else f"HTTP {response.status_code}")[:500]
        log.save()
        endpoint_record_result(endpoint_id=endpoint.pk, ok=log.succeeded)
        if not log.succeeded:
            raise ChannelError(f"{log.error}: {log.response_excerpt[:200]}", transient=True, provider="webhook")
        return SendResult(provider="webhook", message_id=msg_id, provider_status=str(response.status_code))
