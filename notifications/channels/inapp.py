"""In-app: the message becomes a row in the user's inbox (the bell in both dashboards)."""
from . import ChannelError, OutgoingMessage, SendResult


class InboxChannel:
    name = "inapp"

    def send(self, message: OutgoingMessage) -> SendResult:
        from ..models import InboxMessage

        if not message.user_id:
            raise ChannelError("In-app messages need a registered user.", transient=False, provider="inbox")
        row = InboxMessage(user_id=message.user_id, notification_id=message.notification_id,
                           title=message.subject[:300], body=message.text, url=message.url[:500])
        # One query; the notification's one-to-one keeps a retried send to a single inbox row.
        InboxMessage.objects.bulk_create([row], ignore_conflicts=True)
        return SendResult(provider="inbox", message_id=f"inbox:n{message.notification_id}")
