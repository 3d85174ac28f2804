"""The built-in test card gateway (like the test modes of common gateways).

4242 4242 4242 4242 and any other number that passes the Luhn check is captured;
a number ending in 0002 (e.g. 4000 0000 0000 0002) is declined.
"""
import secrets
from decimal import Decimal

from . import ChargeResult, InvalidCardNumber, card_digits

DECLINE_SUFFIX = "0002"
DECLINED_MESSAGE = "Your card was declined"


class TestCardGateway:
    code = "test"
    __test__ = False  # not a pytest test class

    def charge(self, *, amount: Decimal, currency: str, card_number: str, description: str) -> ChargeResult:
        try:
            digits = card_digits(card_number)
        except InvalidCardNumber as exc:
            return ChargeResult(status="failed", error=str(exc))
        if amount <= 0:
            return ChargeResult(status="failed", error="Nothing to charge.")
        reference = "test_ch_" + secrets.token_hex(8)
        if digits.endswith(DECLINE_SUFFIX):
            return ChargeResult(status="failed", reference=reference, error=DECLINED_MESSAGE)
        return ChargeResult(status="captured", reference=reference)

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> ChargeResult:
        if not reference.startswith("test_ch_"):
            return ChargeResult(status="failed", reference=reference, error="Unknown charge")
        return ChargeResult(status="refunded", reference="test_re_" + secrets.token_hex(8))
