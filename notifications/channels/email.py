"""Email through Django's mail API: EMAIL_BACKEND decides the provider (an anymail ESP in
production, console / file / locmem elsewhere). HTML with a plain-text alternative; the store's
sender name on the From line and its support address as Reply-To; List-Unsubscribe on marketing."""
import smtplib
from email.utils import formataddr, make_msgid, parseaddr

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from notify_site.text import has_header_breaks, header_safe

from ..events import Category
from . import ChannelError, OutgoingMessage, SendResult


def answer_lost(exc) -> bool:
    """A read timeout (or a connection dropped mid-answer) after the request was sent."""
    import requests

    return isinstance(exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError))


def provider_name() -> str:
    """Short name of the active email backend: "postmark", "locmem", "smtp"…"""
    parts = settings.EMAIL_BACKEND.split(".")
    if parts[0] == "anymail" and len(parts) > 2:
        return parts[2]
    return parts[-2] if len(parts) > 1 else settings.EMAIL_BACKEND


class EmailChannel:
    name = "email"

    def send(self, message: OutgoingMessage) -> SendResult:
        provider = provider_name()
        from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        domain = from_address.rpartition("@")[2] or "localhost"
        # Header values are made single-line here: a sender name or subject saved with a line break
        # before the forms refused them is sent cleaned, not refused by Django (BadHeaderError) on
        # every retry.
        from_name = header_safe(message.from_name or parseaddr(settings.DEFAULT_FROM_EMAIL)[0]
                                or settings.SHOP_NAME)
        subject = header_safe(message.subject)
        reply_to = message.reply_to if message.reply_to and not has_header_breaks(message.reply_to) else ""
        if message.message_ref:
            message_id = f"<{message.message_ref}@{domain}>"
        else:
            message_id = make_msgid(idstring=f"n{message.notification_id or 'test'}", domain=domain)
        headers = {"Message-ID": message_id}
        if message.category == Category.MARKETING and message.unsubscribe_url:
            # RFC 8058: an HTTPS URL that takes a one-click POST, and a mailto: for older clients.
            mailto = getattr(settings, "NOTIFY_UNSUBSCRIBE_MAILTO", "") or f"unsubscribe@{domain}"
            headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>, <mailto:{mailto}?subject=unsubscribe>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMultiAlternatives(
            subject=subject, body=message.text, from_email=formataddr((from_name, from_address)),
            to=[message.to], reply_to=[reply_to] if reply_to else None, headers=headers,
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        # anymail extras (ignored by Django's own backends): searchable in the ESP, echoed in webhooks.
        email.tags = [message.event] if message.event else []
        email.metadata = {"notification_id": str(message.notification_id or "")}
        try:
            email.send(fail_silently=False)
        except AnymailRecipientsRefused as exc:
            raise ChannelError(f"{provider} refused the recipient: {exc}", transient=False, provider=provider) from exc
        except AnymailAPIError as exc:
            if answer_lost(exc.__cause__):
                raise ChannelError(f"{provider} did not answer in time: {exc}", transient=True, provider=provider,
                                   ambiguous=True) from exc
            status = getattr(exc, "status_code", None)
            transient = status is None or status >= 500 or status == 429
            raise ChannelError(f"{provider} API error{f' {status}' if status else ''}: {exc}", transient=transient,
                               provider=provider) from exc
        except AnymailError as exc:  # configuration / serialisation problems: retrying will not help
            raise ChannelError(f"{provider}: {exc}", transient=False, provider=provider) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"SMTP refused the recipient: {exc}", transient=False, provider=provider) from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            raise ChannelError(f"{provider}: the server stopped answering: {type(exc).__name__}: {exc}",
                               transient=True, provider=provider, ambiguous=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"{provider}: {type(exc).__name__}: {exc}", transient=True, provider=provider) from exc
        status = getattr(email, "anymail_status", None)
        provider_status = ""
        if status is not None and status.message_id:
            message_id = str(status.message_id)
            provider_status = ",".join(sorted(status.status or []))
            if status.status and status.status <= {"rejected", "invalid"}:
                raise ChannelError(f"{provider} rejected the message ({provider_status})", transient=False,
                                   provider=provider)
        return SendResult(provider=provider, message_id=message_id, provider_status=provider_status)
