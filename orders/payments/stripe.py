"""Stripe gateway: PaymentIntents through the official ``stripe`` library.

``charge`` creates (and, in test mode, confirms) a PaymentIntent for one order and answers
``pending`` with the intent id as the payment reference: the order waits in pending until Stripe's
signed webhook (``POST /webhooks/stripe/``, orders.payments.stripe_events) says succeeded or failed.
A decline Stripe reports synchronously is answered ``failed`` at once, so the customer can retry.

Keys from the environment: STRIPE_SECRET_KEY (sk_test_… / sk_live_…), STRIPE_WEBHOOK_SECRET
(the whole whsec_… value from the dashboard's webhook endpoint). Select the gateway with
PAYMENT_GATEWAY=orders.payments.stripe.StripeGateway.

Two ways to pay, decided by ``StripeGateway.hosted``:

- **Stripe Checkout** (always with live keys; with test keys when STRIPE_CHECKOUT is on): no card
  number is typed on our pages. Checkout records the order with a pending payment, then
  orders.payments.hosted creates a Checkout Session (``checkout_session_create``) and the customer
  is redirected to Stripe's hosted page; the ``checkout.session.*`` webhooks confirm or fail it.
- **Server-side confirm** (test keys only, the demo): the typed test card is mapped to Stripe's
  published test PaymentMethod (pm_card_visa, pm_card_chargeDeclined…) and ``charge`` confirms the
  PaymentIntent at once, so the flow runs end to end against Stripe's test environment.
"""
import logging
from decimal import ROUND_HALF_UP, Decimal

import stripe
from django.conf import settings

from . import ChargeResult

logger = logging.getLogger("orders.payments")

# Currencies Stripe takes in whole units (no minor unit).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                          "VUV", "XAF", "XOF", "XPF"})
# Stripe's published test cards -> their test PaymentMethods (test mode only).
TEST_PAYMENT_METHODS = {
    "0002": "pm_card_chargeDeclined",
    "9995": "pm_card_chargeDeclinedInsufficientFunds",
    "0069": "pm_card_chargeDeclinedExpiredCard",
}
DEFAULT_TEST_PAYMENT_METHOD = "pm_card_visa"


def to_minor_units(amount: Decimal, currency: str) -> int:
    if currency.upper() in ZERO_DECIMAL:
        return int(Decimal(amount).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return int((Decimal(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor_units(value: int, currency: str) -> Decimal:
    if currency.upper() in ZERO_DECIMAL:
        return Decimal(int(value)).quantize(Decimal("0.01"))
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def stripe_client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise RuntimeError("STRIPE_SECRET_KEY is not set: the Stripe gateway cannot be used.")
    # The requests-based client (not httpx/urllib): one HTTP stack for the whole project.
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, http_client=stripe.RequestsClient(),
                               max_network_retries=2)


class StripeGateway:
    code = "stripe"

    @property
    def test_mode(self) -> bool:
        return settings.STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_"))

    @property
    def hosted(self) -> bool:
        """Whether the customer pays on Stripe Checkout (live keys always: we never see a card)."""
        return bool(settings.STRIPE_CHECKOUT) or not self.test_mode

    def checkout_session_create(self, *, order, payment, success_url: str, cancel_url: str,
                                expires_at: int) -> stripe.checkout.Session:
        """A Checkout Session (mode=payment) for what is still due on ``order``; raises stripe.StripeError.

        One line item for the order's amount (the lines, shipping and VAT are already in the total;
        Stripe shows the order number and the shop). The order number and our payment id ride in the
        session's and the PaymentIntent's metadata, so either kind of webhook finds the payment.
        """
        currency = order.currency.lower()
        metadata = {"order_number": order.number, "payment_id": str(payment.pk)}
        names = ", ".join(f"{line.quantity} × {line.product_name}" for line in order.lines.all())
        params = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": currency, "unit_amount": to_minor_units(payment.amount, currency),
                "product_data": {"name": f"Order {order.number} · {order.store.name}"[:250],
                                 **({"description": names[:500]} if names else {})}}}],
            "customer_email": order.email,
            "client_reference_id": order.number,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": f"Order {order.number}"},
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": expires_at,
        }
        return stripe_client().v1.checkout.sessions.create(params=params)

    def charge(self, *, amount: Decimal, currency: str, card_number: str, description: str) -> ChargeResult:
        if amount <= 0:
            return ChargeResult(status="failed", error="Nothing to charge.")
        order_number = description.removeprefix("Order ").strip()
        params = {
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "description": description,
            "metadata": {"order_number": order_number},
        }
        if self.test_mode:
            digits = "".join(ch for ch in card_number if ch.isdigit())
            params |= {"payment_method": TEST_PAYMENT_METHODS.get(digits[-4:], DEFAULT_TEST_PAYMENT_METHOD),
                       "confirm": True, "payment_method_types": ["card"]}
        else:
            params |= {"automatic_payment_methods": {"enabled": True}}
        try:
            # One intent per order, however often the request is retried.
            intent = stripe_client().v1.payment_intents.create(
                params=params, options={"idempotency_key": f"order-{order_number}-{params['amount']}"})
        except stripe.CardError as exc:
            intent_id = ""
            error = getattr(exc, "error", None)
            intent = getattr(error, "payment_intent", None) if error is not None else None
            if intent is not None:
                intent_id = intent["id"] if "id" in intent else ""
            return ChargeResult(status="failed", reference=intent_id, error=exc.user_message or "Your card was declined")
        except stripe.StripeError as exc:
            logger.error("Stripe refused to create a PaymentIntent for %s: %s", description, exc)
            return ChargeResult(status="failed", error="The card payment service is unavailable; please try again.")
        if intent.status == "canceled":
            return ChargeResult(status="failed", reference=intent.id, error="The payment was cancelled")
        return ChargeResult(status="pending", reference=intent.id)

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> ChargeResult:
        try:
            refund = stripe_client().v1.refunds.create(
                params={"payment_intent": reference, "amount": to_minor_units(amount, currency)},
                options={"idempotency_key": f"refund-{reference}-{to_minor_units(amount, currency)}"})
        except stripe.StripeError as exc:
            logger.error("Stripe refund of %s failed: %s", reference, exc)
            return ChargeResult(status="failed", reference=reference, error=str(exc.user_message or exc))
        return ChargeResult(status="refunded" if refund.status in ("succeeded", "pending") else "failed",
                            reference=refund.id, error=refund.to_dict().get("failure_reason") or "")
