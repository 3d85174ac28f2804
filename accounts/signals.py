"""Account domain signals, sent by accounts.security after the change (inside its transaction).

Every signal is sent with sender=AccountEvent and these keyword arguments:
"""
from django.dispatch import Signal

# user, event (AccountEvent), reset_url, expires (str)
password_reset_requested = Signal()
# user, event (AccountEvent), login (LoginActivity | None), reason (str)
suspicious_login = Signal()
# user, event (AccountEvent), order, reasons (list[str])
unusual_order = Signal()
