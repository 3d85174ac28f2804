"""In-app: the message becomes a row in the user's inbox (the bell in both dashboards).

The row is handed back as a deferred write: notification_deliver saves it in the transaction
that records the attempt, so the inbox row and its "sent" record exist together or not at all.
"""
from . import ChannelError, OutgoingMessage, SendResult


class InboxChannel:
    name = "inapp"

    def send(self, message: OutgoingMessage) -> SendResult:
        from ..models import InboxMessage

        if not message.user_id:
            raise ChannelError("In-app messages need a registered user.", transient=False, provider="inbox")
        row = InboxMessage(user_id=message.user_id, notification_id=message.notification_id,
                           title=message.subject[:300], body=message.text, url=message.url[:500])
        return SendResult(provider="inbox", message_id=f"inbox:n{message.notification_id}", deferred_rows=[row])
