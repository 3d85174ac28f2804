import pytest

from orders import signals
from orders.models import ORDER_TRANSITIONS, Order, OrderEvent, OrderStatus
from orders.services import TransitionNotAllowed, order_transition

ALL = list(OrderStatus)
ALLOWED = [(a, b) for a in ALL for b in ALL if b in ORDER_TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a in ALL for b in ALL if b not in ORDER_TRANSITIONS[a]]


@pytest.fixture
def captured():
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signals.order_status_changed.connect(receiver, weak=False)
    yield calls
    signals.order_status_changed.disconnect(receiver)


def test_table_matches_spec():
    assert ORDER_TRANSITIONS[OrderStatus.PENDING] == {"processing", "on_hold", "cancelled"}
    # Cancelled / refunded only when the parcel came back (test_returned_parcel below).
    assert ORDER_TRANSITIONS[OrderStatus.SHIPPED] == {"completed", "cancelled", "refunded"}
    assert ORDER_TRANSITIONS[OrderStatus.ON_HOLD] >= {"processing", "cancelled"}
    assert ORDER_TRANSITIONS[OrderStatus.REFUNDED] == frozenset()
    assert len(ALLOWED) + len(FORBIDDEN) == 49


@pytest.mark.parametrize("current,to", ALLOWED)
def test_allowed_transition_saves_logs_and_signals_once(order, seller, captured, current, to):
    Order.objects.filter(pk=order.pk).update(status=current)
    order.refresh_from_db()
    if current == OrderStatus.SHIPPED and to != OrderStatus.COMPLETED:
        from orders.models import Shipment

        Shipment.objects.create(order=order, carrier="dpd", tracking_number="RTS1", status="returned")
    events_before = OrderEvent.objects.filter(order=order).count()

    order_transition(order=order, to=to, actor=seller, note="because")

    order.refresh_from_db()
    assert order.status == to
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert OrderEvent.objects.filter(order=order).count() == events_before + 1
    assert (event.kind, event.from_status, event.to_status, event.actor, event.note) == (
        "status", current, to, seller, "because")
    assert len(captured) == 1
    assert captured[0]["from_status"] == current and captured[0]["to_status"] == to
    assert captured[0]["event"] == event


@pytest.mark.parametrize("current,to", FORBIDDEN)
def test_forbidden_transition_raises_and_saves_nothing(order, captured, current, to):
    Order.objects.filter(pk=order.pk).update(status=current)
    order.refresh_from_db()
    events_before = OrderEvent.objects.filter(order=order).count()

    with pytest.raises(TransitionNotAllowed) as excinfo:
        order_transition(order=order, to=to, actor=None)

    assert current in str(excinfo.value) and to in str(excinfo.value)
    order.refresh_from_db()
    assert order.status == current
    assert OrderEvent.objects.filter(order=order).count() == events_before
    assert captured == []


def test_unknown_status_is_refused(order):
    with pytest.raises(ValueError):
        order_transition(order=order, to="teleported")
    order.refresh_from_db()
    assert order.status == "pending"


def test_saving_without_status_change_sends_nothing(order, captured):
    order.customer_note = "leave at the door"
    order.save()
    assert captured == []
    assert not OrderEvent.objects.filter(order=order, kind="status").exists()


@pytest.mark.parametrize("to", [OrderStatus.CANCELLED, OrderStatus.REFUNDED])
def test_a_shipped_order_is_cancelled_or_refunded_only_when_its_parcel_came_back(order, to):
    from orders.models import Shipment

    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    order.refresh_from_db()
    Shipment.objects.create(order=order, carrier="dpd", tracking_number="ONWAY1", status="in_transit")
    with pytest.raises(TransitionNotAllowed):
        order_transition(order=order, to=to)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
