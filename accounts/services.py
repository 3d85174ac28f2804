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
