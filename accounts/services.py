"""Writes to accounts. Every way a user comes into being (sign-up, seed, admin helpers) goes through
``user_create`` so each user has a loyalty account from the start."""
from django.db import transaction

from .models import LoyaltyAccount, User


@transaction.atomic
def user_create(*, username: str, email: str, password: str | None = None, password_hash: str | None = None,
                phone: str = "", **fields) -> User:
    """Create a user (customer, or seller when ``store`` is given) and their loyalty account.

    ``password_hash`` (from make_password) lets bulk seeding skip hashing the same password
    again for every user.
    """
    user = User(username=username, email=email.strip(), phone=phone or "", **fields)
    if password_hash:
        user.password = password_hash
    else:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    LoyaltyAccount.objects.get_or_create(user=user)
    return user


@transaction.atomic
def marketing_unsubscribe(*, email: str, source: str = "unsubscribe link", ip: str | None = None,
                          channel: str = "email") -> None:
    """Withdraw marketing consent on one channel (email: for an address; sms: for a number) and
    switch the account's marketing preference for that channel off, if there is an account."""
    from notifications.events import Category, Channel
    from notifications.models import CustomerPreference

    from .models import ConsentRecord

    if channel == Channel.SMS:
        number = email.strip()
        user = User.objects.filter(phone=number).first() if number else None
        kind, email = ConsentRecord.Kind.MARKETING_SMS, (user.email if user else "")
    else:
        email = email.strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        kind, channel = ConsentRecord.Kind.MARKETING_EMAIL, Channel.EMAIL
    ConsentRecord.objects.create(user=user, email=email, kind=kind, granted=False,
                                 source=source[:64], ip_address=ip or None)
    if user is not None:
        CustomerPreference.objects.update_or_create(user=user, category=Category.MARKETING, channel=channel,
                                                    defaults={"enabled": False})
