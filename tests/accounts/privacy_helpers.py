"""A customer with one of everything (orders through the real checkout, so real messages; consents,
logins, loyalty, preferences, a back-in-stock alert), with values distinctive enough to search for."""
import io
import json
import zipfile
from dataclasses import dataclass

from django.core import mail
from django.test import Client

from accounts.models import LoginActivity, LoyaltyAccount
from accounts.services import user_create
from catalog.models import BackInStockSubscription
from notifications.models import CustomerPreference
from orders.services import order_transition
from tests.factories import ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import place


@dataclass
class Person:
    user: object
    order: object
    personal: dict  # name -> a value that identifies this customer
    password: str = "correct horse 42!"


def make_person(tag: str, *, django_capture_on_commit_callbacks, ip: str = "203.0.113.7", store=None) -> Person:
    """``tag`` makes every value unique, e.g. "zebedee" -> "Zebedee Quux-zebedee", "zebedee@...". """
    store = store or StoreFactory()
    if not store.sellers.exists():
        SellerFactory(store=store)
    product = ProductFactory(store=store, stock_on_hand=50)
    first, last = tag.capitalize(), f"Quux{tag.capitalize()}"
    phone = {"zebedee": "+447911123451", "yolanda": "+447911123452"}.get(tag, "+447911123453")
    personal = {
        "username": f"{tag}shopper", "email": f"{tag}.quux@example.org", "first_name": first, "last_name": last,
        "phone": phone, "line1": f"77 {first} Lane", "postcode": "ZZ9 9ZZ" if tag == "zebedee" else "YY8 8YY",
        "city": f"{first}ton", "ip": ip, "user_agent": f"{first}Browser/1.0", "note": f"Leave it with {first}'s cat",
    }
    password = "correct horse 42!"
    user = user_create(username=personal["username"], email=personal["email"], password=password,
                       phone=phone, first_name=first, last_name=last, sms_opt_in=True)
    address = {"name": f"{first} {last}", "line1": personal["line1"], "line2": "", "city": personal["city"],
               "postcode": personal["postcode"], "country": "GB"}
    with django_capture_on_commit_callbacks(execute=True):
        order = place({product.pk: 1}, customer=user, email=user.email, address=address, phone=phone, sms_opt_in=True,
                      marketing_opt_in=True, ip=ip).orders[0]
    order.customer_note = personal["note"]
    order.save(update_fields=["customer_note"])
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=personal["user_agent"])
    assert client.post("/account/login/", {"username": user.username, "password": password}).status_code == 302
    assert LoginActivity.objects.filter(user=user, ip_address=ip).exists()
    from accounts.models import LoyaltyTier

    silver, _ = LoyaltyTier.objects.get_or_create(name="Silver", defaults={"threshold": 400, "benefits": "Free returns"})
    LoyaltyAccount.objects.filter(user=user).update(points=420, tier=silver)
    CustomerPreference.objects.create(user=user, category="shipping_updates", channel="sms", enabled=False)
    from accounts.models import AccountEvent

    AccountEvent.objects.create(user=user, kind=AccountEvent.Kind.SUSPICIOUS_LOGIN, ip_address=ip,
                                device=personal["user_agent"], data={"where": personal["city"]})
    BackInStockSubscription.objects.create(product=product, user=user, email=user.email)
    return Person(user=user, order=order, personal=personal, password=password)


def finish(person, *, django_capture_on_commit_callbacks):
    """Cancel the order (so nothing is still in progress and the account may be deleted)."""
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=person.order, to="cancelled", note="Changed my mind")
    mail.outbox = []


def open_zip(content: bytes) -> tuple[dict, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        raw = archive.read("data.json").decode()
        assert "README.txt" in names
    return json.loads(raw), raw
