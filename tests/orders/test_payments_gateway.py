from decimal import Decimal

import pytest

from orders.payments import InvalidCardNumber, card_digits, get_gateway, luhn_valid
from orders.payments.testcard import TestCardGateway


def charge(number):
    return TestCardGateway().charge(amount=Decimal("10.00"), currency="GBP", card_number=number, description="t")


def test_luhn():
    assert luhn_valid("4242424242424242") and luhn_valid("4000000000000002")
    assert not luhn_valid("4242424242424241")


def test_card_digits_accepts_spaces_and_dashes_and_rejects_junk():
    assert card_digits("4242 4242-4242 4242") == "4242424242424242"
    for bad in ["", "abcd", "4242", "4242 4242 4242 4241"]:
        with pytest.raises(InvalidCardNumber):
            card_digits(bad)


def test_gateway_outcomes():
    assert charge("4242 4242 4242 4242").status == "captured"
    assert charge("5555 5555 5555 4444").status == "captured"  # any other Luhn-valid number
    declined = charge("4000 0000 0000 0002")
    assert (declined.status, declined.error) == ("failed", "Your card was declined")
    assert charge("4242 4242 4242 4241").status == "failed"


def test_default_gateway_is_the_test_gateway(settings):
    assert isinstance(get_gateway(), TestCardGateway)
    settings.PAYMENT_GATEWAY = "orders.payments.testcard.TestCardGateway"
    assert get_gateway().code == "test"
