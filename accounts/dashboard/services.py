"""Writes from the customer dashboard: the profile part of the preferences page."""
from django.db import transaction

from accounts.models import ConsentRecord
from notifications.services import quiet_hours_set


@transaction.atomic
def customer_profile_update(*, user, phone, sms_opt_in: bool, language: str, time_zone: str,
                            quiet_enabled: bool, quiet_start=None, quiet_end=None, ip_address: str | None = None,
                            whatsapp_opt_in: bool | None = None):
    """Save phone, SMS and WhatsApp opt-ins (recording each consent when it changes), language, time
    zone and quiet hours. ``whatsapp_opt_in=None`` leaves the WhatsApp choice as it is."""
    if bool(sms_opt_in) != user.sms_opt_in:
        ConsentRecord.objects.create(user=user, email=user.email, kind=ConsentRecord.Kind.SMS_UPDATES,
                                     granted=bool(sms_opt_in), source="preferences", ip_address=ip_address)
    if whatsapp_opt_in is not None and bool(whatsapp_opt_in) != user.whatsapp_opt_in:
        ConsentRecord.objects.create(user=user, email=user.email, kind=ConsentRecord.Kind.WHATSAPP_UPDATES,
                                     granted=bool(whatsapp_opt_in), source="preferences", ip_address=ip_address)
        user.whatsapp_opt_in = bool(whatsapp_opt_in)
    user.phone = phone or ""
    user.sms_opt_in = bool(sms_opt_in)
    user.language = language
    user.time_zone = time_zone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["phone", "sms_opt_in", "whatsapp_opt_in", "language", "time_zone"])
    quiet_hours_set(user=user, enabled=quiet_enabled, start=quiet_start if quiet_enabled else None,
                    end=quiet_end if quiet_enabled else None)
    return user
