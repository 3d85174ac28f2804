"""Web push (VAPID) through pywebpush: one notification goes to every browser the recipient turned
notifications on in (``PushSubscription``), encrypted for each (RFC 8291, aes128gcm) and signed with
the platform's VAPID key (RFC 8292).

A subscription the push service answers 404 or 410 for has expired (the browser or the user dropped
it): it is deleted. 429 / 5xx / no answer are temporary. Each message carries a ``tag`` of its
notification, so a retry that reaches a browser twice shows one notification, not two.
"""
import json
import logging

from django.conf import settings
from django.utils import timezone

from . import ChannelError, OutgoingMessage, SendResult

log = logging.getLogger(__name__)
PUSH_BODY_MAX = 500  # push services accept about 4 KB of ciphertext; a notification shows far less
EXPIRED = (404, 410)


def vapid_configured() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def push_payload(message: OutgoingMessage) -> str:
    return json.dumps({"title": message.subject[:120], "body": message.text.strip()[:PUSH_BODY_MAX],
                       "url": message.url or "/", "tag": f"n{message.notification_id}"})


class WebPushChannel:
    name = "push"
    provider = "webpush"

    def send(self, message: OutgoingMessage) -> SendResult:
        from pywebpush import WebPushException, webpush
        from requests import RequestException

        from ..models import PushSubscription

        if not vapid_configured():
            raise ChannelError("Web push is not configured (VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY).", transient=False,
                               provider=self.provider)
        if not message.user_id:
            raise ChannelError("Browser notifications need a registered user.", transient=False,
                               provider=self.provider)
        subscriptions = list(PushSubscription.objects.filter(user_id=message.user_id).order_by("id"))
        data = push_payload(message)
        delivered, expired, temporary, refused = [], [], [], []
        for sub in subscriptions:
            info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
            try:
                # A fresh claims dict each time: pywebpush fills in "aud" (the push service) and "exp".
                webpush(info, data=data, vapid_private_key=settings.VAPID_PRIVATE_KEY,
                        vapid_claims={"sub": settings.VAPID_SUBJECT}, ttl=settings.NOTIFY_PUSH_TTL_SECONDS,
                        content_encoding="aes128gcm", timeout=10,
                        headers={"Urgency": "high" if message.category in ("transactional", "security") else "normal",
                                 "Topic": f"n{message.notification_id}"[:32]})
            except WebPushException as exc:
                status = getattr(exc.response, "status_code", None)
                if status in EXPIRED:
                    expired.append(sub.pk)
                elif status is None or status == 429 or status >= 500:
                    temporary.append(f"{status or 'no answer'}")
                else:
                    refused.append(f"{status}")
                continue
            except (RequestException, OSError) as exc:
                temporary.append(type(exc).__name__)
                continue
            except ValueError as exc:  # a malformed key saved for this browser: it can never work
                log.warning("Push subscription %s is unusable: %s", sub.pk, exc)
                expired.append(sub.pk)
                continue
            delivered.append(sub.pk)
        if expired:
            PushSubscription.objects.filter(pk__in=expired).delete()
        if delivered:
            PushSubscription.objects.filter(pk__in=delivered).update(last_used_at=timezone.now())
            return SendResult(provider=self.provider, message_id=f"push:n{message.notification_id}",
                              provider_status=f"{len(delivered)}/{len(subscriptions)} browsers")
        summary = (f"{len(subscriptions)} browser(s): {len(expired)} expired (removed), "
                   f"{len(temporary)} temporary error(s) {', '.join(temporary)}, {len(refused)} refused {', '.join(refused)}")
        if temporary:
            raise ChannelError(f"Push service unavailable: {summary}", transient=True, provider=self.provider)
        if not subscriptions:
            raise ChannelError("No browser has notifications turned on for this user.", transient=False,
                               provider=self.provider)
        raise ChannelError(f"No browser took the notification: {summary}", transient=False, provider=self.provider)
