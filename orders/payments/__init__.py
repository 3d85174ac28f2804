"""Payment gateways behind one tiny interface.

A gateway has two methods. ``charge`` answers with a ChargeResult whose status is ``captured``,
``failed`` or ``pending`` (an asynchronous gateway confirms later through its signed webhook,
``payment_set_status``); ``refund`` gives a captured charge back. Checkout calls both OUTSIDE
its database transaction: it charges first, records the orders and payments in one transaction,
and refunds the charges if that transaction fails (the last unit was sold meanwhile).

Which gateway is used: ``settings.PAYMENT_GATEWAY`` (dotted path), default the test gateway.
"""
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

DEFAULT_GATEWAY = "orders.payments.testcard.TestCardGateway"


class InvalidCardNumber(ValueError):
    """The number cannot be a card number (wrong length or fails the Luhn check)."""


@dataclass(frozen=True)
class ChargeResult:
    status: str  # "captured" | "failed" | "pending"
    reference: str = ""
    error: str = ""

    @property
    def captured(self) -> bool:
        return self.status == "captured"


class PaymentGateway(Protocol):
    code: str

    def charge(self, *, amount: Decimal, currency: str, card_number: str, description: str) -> ChargeResult:
        ...

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> ChargeResult:
        ...


def card_digits(number: str) -> str:
    """The digits of a card number typed with spaces or dashes; raise InvalidCardNumber if it can't be one."""
    digits = "".join(ch for ch in (number or "") if ch not in " -")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise InvalidCardNumber(_("Enter a card number of 12 to 19 digits."))
    if not luhn_valid(digits):
        raise InvalidCardNumber(_("This card number is not valid. Check the digits."))
    return digits


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def get_gateway() -> PaymentGateway:
    return import_string(getattr(settings, "PAYMENT_GATEWAY", DEFAULT_GATEWAY))()
