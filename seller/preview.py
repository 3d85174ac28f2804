"""The seller's preview of a customer email as it will look with their branding and message.

Built from the notification engine's own pieces (the sample order of ``notifications.context``,
``build_context`` and ``rendering.render``), so the preview is the real template, not a mock-up:
only the store, its branding and the personal note / discount code are the seller's.
"""
import copy
import re

from notifications.context import build_context, sample_subject
from notifications.events import CUSTOMER_EVENTS, EVENTS
from notifications.models import StoreMessageSetting
from notifications.rendering import RenderError, render
from notifications.selectors import store_options

HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
DISCOUNT_CODE = re.compile(r"^[A-Za-z0-9_-]{0,40}$")
CUSTOMER_EVENT_CHOICES = [(code, EVENTS[code].label) for code in CUSTOMER_EVENTS]


def message_errors(*, personal_note: str, discount_code: str) -> list[str]:
    """The same rules notifications.services.store_message_set applies, for live feedback."""
    errors = []
    if len(personal_note or "") > 500:
        errors.append("Keep the personal note under 500 characters.")
    if not DISCOUNT_CODE.match((discount_code or "").strip()):
        errors.append("A discount code is up to 40 letters, digits, - or _.")
    return errors


def store_email_preview(*, store, event: str, personal_note: str = "", discount_code: str = "",
                        branding: dict | None = None, language: str = "en") -> dict:
    """{"subject", "html", "text", "errors"} for the customer email of ``event`` from ``store``.

    ``branding`` may carry unsaved accent_colour / sign_off / sender_name from the form, so the
    preview follows what the seller is typing; nothing is saved.
    """
    if event not in CUSTOMER_EVENTS:
        return {"subject": "", "html": "", "text": "", "errors": ["Choose a customer message to preview."]}
    errors = message_errors(personal_note=personal_note, discount_code=discount_code)
    if errors:
        return {"subject": "", "html": "", "text": "", "errors": errors}
    shown = copy.copy(store)
    for field, value in (branding or {}).items():
        if field == "accent_colour" and not HEX.match(value or ""):
            continue
        if field in ("accent_colour", "sign_off", "sender_name") and value is not None:
            setattr(shown, field, value.strip()[:200])
    subject = sample_subject(event)
    subject.order.store = shown
    subject.store_options = store_options(store)
    subject.store_message = StoreMessageSetting(store=store, event=event, personal_note=(personal_note or "").strip(),
                                                discount_code=(discount_code or "").strip())
    context = build_context(event, "customer", subject)
    context["recipient"] = {"first_name": "Ada", "audience": "customer"}
    try:
        rendered = render(event=event, audience="customer", channel="email", language=language, context=context)
    except RenderError as exc:
        return {"subject": "", "html": "", "text": "", "errors": [f"The email could not be rendered: {exc}"]}
    return {"subject": rendered.subject, "html": rendered.html, "text": rendered.text, "errors": []}
