"""notify_site.formatting.choice_label: the cached get_FOO_display of the message contexts."""
from django.utils import translation

from notify_site.formatting import choice_label
from orders.models import Order, OrderStatus


def test_labels_follow_the_active_language_as_get_display_does():
    order = Order(status=OrderStatus.SHIPPED, shipping_method="standard")
    for language in ("en", "de", "fr", "es", "en"):
        with translation.override(language):
            assert choice_label(order, "status") == str(order.get_status_display())
            assert choice_label(order, "shipping_method") == str(order.get_shipping_method_display())
    with translation.override("de"):
        assert choice_label(order, "status") != "Shipped"  # translated, not the English cached first


def test_an_unknown_value_shows_as_itself():
    assert choice_label(Order(status="no-such-status"), "status") == "no-such-status"
