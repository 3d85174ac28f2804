"""Fuzz every form, query parameter, path value and webhook with NUL, invalid UTF-8 and odd unicode:
no answer may be a 5xx.

The forms are found by crawling the pages each kind of user sees (so a new form is fuzzed without
listing it here); their fields get hypothesis-drawn values, sent as raw urlencoded bytes so invalid
UTF-8 and NUL reach the server as a browser or a script could send them. Webhooks are signed with
the configured secrets so the fuzz reaches their parsers, not just the signature check. The number
of requests is printed at the end of the run (tests/security/conftest.py).
"""
import base64
import json
import re
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urljoin, urlsplit

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings, strategies as st
from twilio.request_validator import RequestValidator

from catalog.models import Product
from notifications.models import DeliveryAttempt, Notification
from orders.carriers import aftership, easypost
from orders.links import status_path
from orders.services import order_transition, shipment_create
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import FUZZ

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]

EASYPOST_SECRET, AFTERSHIP_SECRET, TWILIO_TOKEN = "fz-easypost", "fz-aftership", "fz-twilio"
HOOK_AUTH = "fz:hook-secret"
SITE = "https://shop.example"
FUZZ_SETTINGS = dict(deadline=None, database=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.data_too_large, HealthCheck.filter_too_much])

# --- values ---------------------------------------------------------------------------------------

SPECIAL = [b"", b"\x00", b"a\x00b", b"\xed\xa0\x80", b"\xff\xfe", b"\xc0\xaf", "𝕏😀".encode(), "\u202e\u200b".encode(),
           "e\u0301".encode(), b"1e20", b"-1e308", b"NaN", b"Infinity", b"9" * 300, b"-1", b"0", b"2147483648",
           b"9999-12-31T23:59:59-05:00", b"../x", b"../../etc/passwd", b"{% debug %}", b"{{ lines.pop }}",
           b"<script>alert(1)</script>", b"' OR 1=1--", b"a\r\nBcc: x@example.com", b" " * 5, b"x" * 5000,
           b"%00", b"\\u0000"]
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
VALUE = st.one_of(st.sampled_from(SPECIAL), TEXT.map(lambda s: s.encode("utf-8")), st.binary(max_size=30))


def raw_body(fields: dict[str, bytes]) -> str:
    return "&".join(f"{quote(name)}={quote_from_bytes(value)}" for name, value in fields.items())


def answer(client, method, url, **kwargs):
    response = getattr(client, method)(url, **kwargs)
    FUZZ["requests"] += 1
    FUZZ["codes"][response.status_code] += 1
    FUZZ["targets"][re.sub(r"\?.*", "", url)] += 1
    assert response.status_code < 500, (method, url, kwargs.get("data", "")[:300], response.status_code)
    return response


# --- crawling the forms ------------------------------------------------------------------------------

class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                             "fields": {}}
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            form = self._current
            if form is None:  # htmx controls outside a <form> post on their own
                url = attrs.get("hx-post")
                if not url:
                    return
                form = {"action": url, "method": "post", "fields": {}}
                self.forms.append(form)
            if attrs.get("type") in ("file",):
                return
            form["fields"].setdefault(attrs["name"], (attrs.get("value") or "").encode())
        if attrs.get("hx-post") and tag not in ("form",) and not attrs.get("name"):
            self.forms.append({"action": attrs["hx-post"], "method": "post", "fields": {}})

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


# Forms that would end the fuzzing session itself.
SKIP_ACTIONS = re.compile(r"/logout/")


def crawl(client, pages):
    forms = {}
    for page in pages:
        response = client.get(page)
        assert response.status_code < 500
        parser = FormParser()
        parser.feed(response.content.decode())
        for form in parser.forms:
            action = urlsplit(urljoin("http://testserver" + page, form["action"] or page)).path
            if SKIP_ACTIONS.search(action) or action.startswith("/static/"):
                continue
            key = (form["method"], action, tuple(sorted(form["fields"])))
            forms.setdefault(key, {"method": form["method"], "action": action, "fields": form["fields"]})
    return list(forms.values())


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    store = StoreFactory(name="Fuzz Store", slug="fuzz")
    seller = SellerFactory(store=store, username="fz-seller")
    product = ProductFactory(store=store, name="Lamp", slug="lamp", price="9.00", stock_on_hand=500)
    ProductFactory(store=store, name="Gone", slug="gone", price="5.00", stock_on_hand=0)
    customer = CustomerFactory(username="fz-customer", email="fz@example.com", phone="+447911123456")
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory(customer=customer, store=store, lines=[(product, 1)])
        shipped = OrderFactory(customer=customer, store=store, lines=[(product, 2)])
        order_transition(order=shipped, to="processing", actor="system")
        shipment_create(order=shipped, carrier="easypost", tracking_number="EZFUZZ1")
    staff = CustomerFactory(username="fz-admin", email="admin@example.com", is_staff=True, is_superuser=True)
    return {"store": store, "seller": seller, "product": product, "customer": customer, "order": order,
            "shipped": shipped, "staff": staff}


def clients(world):
    anon, customer, seller, admin = Client(), Client(), Client(), Client()
    customer.force_login(world["customer"])
    seller.force_login(world["seller"])
    admin.force_login(world["staff"])
    for c in (anon, customer):  # a cart, so the checkout form is there
        c.post(f"/cart/add/{world['product'].pk}/", {"quantity": "1"})
    return {"anon": anon, "customer": customer, "seller": seller, "admin": admin}


def pages(world):
    order, shipped, product = world["order"], world["shipped"], world["product"]
    return {
        "anon": ["/", "/cart/", "/checkout/", "/track/", product.get_absolute_url(), "/p/fuzz/gone/",
                 status_path(order), "/account/login/", "/account/signup/"],
        "customer": ["/account/", f"/account/orders/{order.number}/", f"/account/orders/{shipped.number}/",
                     "/account/preferences/", "/account/inbox/", "/account/password/", "/checkout/"],
        "seller": ["/seller/", f"/seller/orders/{order.number}/", f"/seller/orders/{shipped.number}/",
                   "/seller/settings/", "/seller/branding/", "/seller/inbox/", "/seller/shipping/",
                   "/seller/statistics/"],
        "admin": ["/admin/notifications/notificationtemplate/add/?event=order.shipped&audience=customer&channel=email"],
    }


# --- forms -------------------------------------------------------------------------------------------

def test_fuzz_every_form(world):
    by_role = clients(world)
    targets = [(role, form) for role, urls in pages(world).items() for form in crawl(by_role[role], urls)]
    assert len(targets) >= 25, [f["action"] for _, f in targets]  # the crawl found the forms

    @settings(max_examples=600, **FUZZ_SETTINGS)
    @given(st.sampled_from(targets), st.data())
    def run(target, data):
        role, form = target
        fields = dict(form["fields"])
        for name in fields:
            if data.draw(st.booleans(), label=f"fuzz {name}"):
                fields[name] = data.draw(VALUE, label=name)
        client = by_role[role]
        if form["method"] == "get":
            answer(client, "get", form["action"] + "?" + raw_body(fields))
        else:
            answer(client, "post", form["action"], data=raw_body(fields),
                   content_type="application/x-www-form-urlencoded")

    run()


# --- query parameters and path values -------------------------------------------------------------------

QUERY_NAMES = ["q", "page", "sort", "status", "store", "event", "live", "next", "k", "personal_note",
               "discount_code", "o", "p", "audience", "channel", "e"]


def test_fuzz_query_parameters_and_path_values(world):
    by_role = clients(world)
    every_page = [(role, url.split("?")[0]) for role, urls in pages(world).items() for url in urls]
    order = world["order"]
    path_templates = [("anon", "/track/simulated/{}/"), ("anon", "/track/{}/x/"), ("anon", "/o/{}/"),
                      ("customer", "/account/orders/{}/"), ("seller", "/seller/orders/{}/"),
                      ("anon", "/p/{}/lamp/"), ("anon", "/checkout/placed/{}/"),
                      ("seller", f"/seller/orders/{order.number}/returns/{{}}/approved/"),
                      ("seller", "/admin/notifications/notification/?q={}"), ("admin", "/admin/orders/order/?q={}"),
                      ("admin", "/admin/notifications/notification/?status={}&o={}")]

    @settings(max_examples=400, **FUZZ_SETTINGS)
    @given(st.sampled_from(every_page), st.sampled_from(QUERY_NAMES), VALUE)
    def run_query(target, name, value):
        role, url = target
        answer(by_role[role], "get", f"{url}?{quote(name)}={quote_from_bytes(value)}")

    @settings(max_examples=250, **FUZZ_SETTINGS)
    @given(st.sampled_from(path_templates), VALUE)
    def run_path(target, value):
        role, template = target
        encoded = quote_from_bytes(value, safe="") or "x"
        answer(by_role[role], "get", template.replace("{}", encoded))

    run_query()
    run_path()


# --- webhooks ----------------------------------------------------------------------------------------

ODD_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10 ** 30), max_value=10 ** 300),
                        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
                            ["", "\x00", "\ud800", "9999-12-31T23:59:59-05:00", "1e20", "NaN", "-1",
                             "2030-03-01T17:30:00Z", "in_transit", "delivered", "tracker.updated"]), TEXT)
JSON = st.recursive(ODD_SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)), max_leaves=12)


def mutate(document, data):
    """A valid document with one leaf (at a hypothesis-chosen path) replaced by an odd value."""
    doc = json.loads(json.dumps(document))
    node = doc
    for _ in range(6):
        keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = data.draw(st.sampled_from(keys), label="path")
        if isinstance(node[key], (dict, list)) and data.draw(st.booleans(), label="deeper"):
            node = node[key]
            continue
        node[key] = data.draw(JSON, label="value")
        break
    return doc


def dumps(doc) -> bytes:
    # ASCII JSON: a lone surrogate stays a \ud800 escape and NaN a bare literal, as a sender could write them.
    return json.dumps(doc, allow_nan=True).encode()


def easypost_doc():
    detail = {"object": "TrackingDetail", "message": "Accepted", "status": "in_transit",
              "datetime": "2030-03-01T17:30:00Z", "tracking_location": {"city": "HOUSTON", "country": "US"}}
    return {"object": "Event", "id": "evt_1", "description": "tracker.updated", "created_at": "2030-03-01T17:30:00Z",
            "result": {"object": "Tracker", "id": "trk_1", "tracking_code": "EZFUZZ1", "status": "in_transit",
                       "carrier": "USPS", "est_delivery_date": "2030-03-04T00:00:00Z", "tracking_details": [detail],
                       "updated_at": "2030-03-01T17:30:00Z"}}


def aftership_doc():
    return {"event": "tracking_update", "event_id": "e1", "ts": 1893456000,
            "msg": {"tracking_number": "EZFUZZ1", "slug": "usps", "tag": "InTransit",
                    "expected_delivery": "2030-03-04", "updated_at": "2030-03-01T17:30:00+00:00",
                    "checkpoints": [{"tag": "InTransit", "checkpoint_time": "2030-03-01T17:30:00+01:00",
                                     "message": "Hub", "location": "Leeds"}]}}


def postmark_doc(attempt):
    return {"RecordType": "Bounce", "ID": 1, "MessageID": attempt.provider_message_id if attempt else "m1",
            "Type": "HardBounce", "TypeCode": 1, "Email": "fz@example.com", "Description": "gone",
            "BouncedAt": "2030-01-01T10:00:00Z", "Details": "550", "Metadata": {}, "Tag": ""}


@override_settings(EASYPOST_WEBHOOK_SECRET=EASYPOST_SECRET, AFTERSHIP_WEBHOOK_SECRET=AFTERSHIP_SECRET,
                   TWILIO_AUTH_TOKEN=TWILIO_TOKEN, SITE_URL=SITE, EMAIL_WEBHOOK_ESP="postmark",
                   ANYMAIL={"WEBHOOK_SECRET": HOOK_AUTH})
def test_fuzz_webhooks(world):
    client = Client()
    attempt = DeliveryAttempt.objects.filter(notification__channel="email").first()
    sms_attempt = DeliveryAttempt.objects.filter(notification__channel="sms").first()
    auth = "Basic " + base64.b64encode(HOOK_AUTH.encode()).decode()

    @settings(max_examples=700, **FUZZ_SETTINGS)
    @given(st.sampled_from(["easypost", "aftership", "postmark", "twilio_status", "twilio_inbound"]), st.data())
    def run(kind, data):
        raw = data.draw(st.booleans(), label="whole random body")
        if kind == "easypost":
            doc = data.draw(JSON) if raw else mutate(easypost_doc(), data)
            body = dumps(doc)
            answer(client, "post", "/webhooks/carriers/easypost" + data.draw(st.sampled_from(["/", ""])),
                   data=body, content_type="application/json",
                   HTTP_X_HMAC_SIGNATURE=easypost.sign(body, EASYPOST_SECRET))
        elif kind == "aftership":
            doc = data.draw(JSON) if raw else mutate(aftership_doc(), data)
            body = dumps(doc)
            answer(client, "post", "/webhooks/carriers/aftership/", data=body, content_type="application/json",
                   HTTP_AFTERSHIP_HMAC_SHA256=aftership.sign(body, AFTERSHIP_SECRET))
        elif kind == "postmark":
            doc = data.draw(JSON) if raw else mutate(postmark_doc(attempt), data)
            answer(client, "post", "/anymail/postmark/tracking/", data=dumps(doc), content_type="application/json",
                   HTTP_AUTHORIZATION=auth)
        else:
            path = "/notifications/twilio/status/" if kind == "twilio_status" else "/notifications/twilio/inbound/"
            fields = {"MessageSid": (sms_attempt.provider_message_id if sms_attempt else "SM1").encode(),
                      "MessageStatus": b"delivered", "From": b"+447911123456", "Body": b"STOP",
                      "OptOutType": b"STOP", "ErrorCode": b"", "ErrorMessage": b""}
            for name in list(fields):
                if data.draw(st.booleans(), label=f"fuzz {name}"):
                    fields[name] = data.draw(VALUE, label=name)
            decoded = {k: v.decode("utf-8", "replace") for k, v in fields.items()}
            signature = RequestValidator(TWILIO_TOKEN).compute_signature(SITE + path, decoded)
            answer(client, "post", path, data=raw_body(fields), content_type="application/x-www-form-urlencoded",
                   HTTP_X_TWILIO_SIGNATURE=signature)

    run()
    assert Notification.objects.exists() and Product.objects.exists()
