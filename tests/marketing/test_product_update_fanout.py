"""product.updated to past buyers runs on the chunked fan-out, started when the change commits:
the supplier's row is written in the change's transaction, the buyers' afterwards, resumable."""
import pytest
from django.core import mail

from catalog.inventory import product_record_update
from marketing import fanout as engine
from marketing.models import FanOut
from notifications.models import Notification
from tests.factories import CustomerFactory, SellerFactory
from tests.notifications.helpers import place

from .conftest import consent

pytestmark = pytest.mark.django_db


def test_buyers_are_written_after_commit_in_chunks_and_exactly_once_across_a_kill(
        shop, django_capture_on_commit_callbacks, settings):
    store, lamp, bulb, _ = shop
    lamp.stock_on_hand, lamp.supplier_email = 100, "supplier@lamps.example"
    lamp.save()
    buyers = []
    for i in range(7):
        user = CustomerFactory(email=f"b{i}@example.com")
        consent(user)
        buyers.append(user)
    with django_capture_on_commit_callbacks(execute=True):
        for user in buyers:
            place({lamp.pk: 1}, customer=user, email=user.email)
        place({lamp.pk: 1}, email="guest-yes@example.com", marketing_opt_in=True)
        place({lamp.pk: 1}, email="guest-no@example.com")
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = product_record_update(product=lamp, kind="design", note="New shade.", actor=SellerFactory(store=store))
        # Inside the change's transaction: the supplier only; the buyers wait for the commit.
        assert list(Notification.objects.filter(event="product.updated").values_list("audience", flat=True)) == [
            "supplier"]
    assert callbacks  # the fan-out starts on commit
    fanout = FanOut.objects.get(source="product_update", source_id=event.pk)

    assert engine.fanout_run(fanout.pk, chunk_size=3, max_chunks=1) == "stopped"
    with pytest.raises(engine.Interrupted):
        engine.fanout_run(fanout.pk, chunk_size=3, _after_write=lambda f, c: (_ for _ in ()).throw(engine.Interrupted))
    assert engine.fanout_run(fanout.pk, chunk_size=3) == "done"
    customer_rows = Notification.objects.filter(event="product.updated", audience="customer")
    assert sorted(customer_rows.values_list("recipient_address", flat=True)) == sorted(
        [u.email for u in buyers] + ["guest-yes@example.com"])
    assert all(n.legal_basis.startswith("consent:") and n.category == "marketing" for n in customer_rows)
    assert engine.fanout_run(fanout.pk) == "done"  # again: nothing
    assert customer_rows.count() == 8
