"""Account domain signals, sent by accounts.security after the change (inside its transaction).

Security signals are sent with sender=AccountEvent, loyalty ones with sender=LoyaltyEntry:
"""
from django.dispatch import Signal

# user, event (AccountEvent), reset_url, expires (str)
password_reset_requested = Signal()
# user, event (AccountEvent), login (LoginActivity | None), reason (str)
suspicious_login = Signal()
# user, event (AccountEvent), order, reasons (list[str])
unusual_order = Signal()
# user, entry (LoyaltyEntry), tier (LoyaltyTier), next_tier (LoyaltyTier | None), points (int)
loyalty_tier_reached = Signal()
# user, entry (LoyaltyEntry), milestone (int), tier (LoyaltyTier | None), points (int)
loyalty_milestone = Signal()

# user, event (AccountEvent), confirm_url, expires: a new account waits for its email to be confirmed
signup_confirm_requested = Signal()
# user, event (AccountEvent): someone tried to sign up with the email of this existing account
signup_existing_attempted = Signal()
# user, event (AccountEvent), code, minutes: a code to prove a phone number is the user's
phone_verification_requested = Signal()
