"""In the browser: a customer turns on notifications in Chromium and a shipped order reaches the
service worker as a push message.

What is real and what is replaced (headless Chromium has no push service offline):
- Real: the preferences page, static/js/push.js, the service worker at /sw.js (registered, scope
  "/"), the notifications permission, the subscribe endpoint storing the PushSubscription, the
  outbox and delivery pipeline, pywebpush encrypting (aes128gcm) and signing (VAPID) the message,
  and an HTTP push service receiving it.
- Replaced: ``PushManager.subscribe`` returns a subscription this test made (a P-256 key pair and
  auth secret generated here) whose endpoint is a local HTTP server on 127.0.0.1:8341 standing in
  for the push service. Chromium's real subscribe() needs Google's push service (FCM).
- The worker: with PostgreSQL and Redis configured (DATABASE_URL, REDIS_URL) a real ``celery worker``
  process (tests/integration/workers.py) takes the notification off the broker and sends the push;
  without them the task runs eagerly in the test process (the same delivery code) and the test says so.
- Forwarded: the local push service decrypts what it received with the subscription's private key
  (proving the body is the encrypted message for that browser) and hands the plaintext to the
  service worker with the DevTools Protocol's ``ServiceWorker.deliverPushMessage``, which fires the
  worker's real ``push`` event. The worker shows the notification and tells the open page, which
  marks ``data-last-push``.
"""
import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.channels import _instances
from notifications.models import Notification, PushSubscription, QuietHours
from notifications.vapid import b64url, generate_vapid_keys, public_point
from tests.factories import CustomerFactory, OrderFactory, ProductFactory
from tests.notifications.helpers import ship

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)
PUSH_PORT = int(os.environ.get("TEST_PUSH_PORT", "8341"))


class PushService(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        PushService.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def delivery(request, tmp_path, settings):
    """"worker" when a real Celery worker process delivers, "eager" otherwise. Sets the VAPID keys
    for this process and the worker."""
    public, private = generate_vapid_keys()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    settings.VAPID_SUBJECT = "mailto:ops@shop.example"
    live = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get("REDIS_URL")
    if not live:
        yield {"mode": "eager", "public": public}
        return
    import uuid

    from tests.integration.workers import Worker, point_app_at

    broker = os.environ["REDIS_URL"]
    queue = f"test-push-{uuid.uuid4().hex[:8]}"
    worker = Worker(broker=broker, queue=queue, log_path=tmp_path / "worker.log", concurrency=1,
                    env={"VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private,
                         "VAPID_SUBJECT": "mailto:ops@shop.example", "SITE_URL": settings.SITE_URL})
    restore = point_app_at(broker, queue)
    try:
        worker.start()
        yield {"mode": "worker", "public": public, "log": tmp_path / "worker.log"}
    finally:
        worker.stop()
        restore()


@pytest.fixture
def push_service():
    PushService.received = []
    server = HTTPServer(("127.0.0.1", PUSH_PORT), PushService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield PushService.received
    server.shutdown()
    server.server_close()


FAKE_SUBSCRIBE = """
(() => {
  const sub = %(sub)s;
  // Like a real subscription, it outlives the page (kept in localStorage for this test).
  const KEY = "test-push-subscription";
  const make = () => ({
    endpoint: sub.endpoint, expirationTime: null, options: {userVisibleOnly: true},
    toJSON: () => ({endpoint: sub.endpoint, expirationTime: null, keys: sub.keys}),
    unsubscribe: async () => { localStorage.removeItem(KEY); return true; },
  });
  if (self.PushManager) {
    PushManager.prototype.subscribe = async function (options) {
      if (!options || !options.applicationServerKey) throw new Error("no applicationServerKey");
      localStorage.setItem(KEY, "1");
      return make();
    };
    PushManager.prototype.getSubscription = async function () { return localStorage.getItem(KEY) ? make() : null; };
  }
})();
"""


def test_customer_turns_on_browser_notifications_and_receives_a_push(live_server, new_page, screenshot, settings,
                                                                    push_service, delivery):
    public = delivery["public"]
    settings.SITE_URL = live_server.url
    _instances.clear()
    browser_key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    endpoint = f"http://127.0.0.1:{PUSH_PORT}/push/device-1"
    customer = CustomerFactory(first_name="Grace", phone="+447911123456", sms_opt_in=True)
    QuietHours.objects.create(user=customer, enabled=False)

    page = new_page()
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.context.add_init_script(FAKE_SUBSCRIBE % {"sub": json.dumps(
        {"endpoint": endpoint, "keys": {"p256dh": b64url(public_point(browser_key)), "auth": b64url(auth)}})})
    login(page, live_server.url, customer)
    page.goto(f"{live_server.url}/account/preferences/")
    assert page.inner_text("[data-testid=preferences-grid] thead").count("WhatsApp") == 1
    logs = []
    page.on("console", lambda m: logs.append(m.text))
    page.click("[data-testid=push-on]")
    page.wait_for_selector("[data-push][data-state]")
    assert page.get_attribute("[data-push]", "data-state") == "on", (page.inner_text("[data-testid=push-status]"), logs)
    assert "on in this browser" in page.inner_text("[data-testid=push-status]")
    sub = PushSubscription.objects.get()
    assert (sub.user_id, sub.endpoint) == (customer.pk, endpoint)
    assert "Chrome" in sub.user_agent
    # The service worker is registered for the whole site.
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server.url + "/"
    page.reload()
    page.wait_for_selector("[data-push][data-state=on]")
    assert page.is_hidden("[data-testid=push-on]") and page.is_visible("[data-testid=push-off]")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "customer-preferences-channels")
    if os.environ.get("PUSH_SHOTS_DIR"):
        page.screenshot(path=os.path.join(os.environ["PUSH_SHOTS_DIR"], "preferences-full.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(os.environ["PUSH_SHOTS_DIR"], "preferences-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})

    # Something happens to the order: the pipeline sends the push to the local push service.
    order = OrderFactory(customer=customer, lines=[(ProductFactory(), 1)], status="processing")
    ship(order)
    row = Notification.objects.get(event="order.shipped", channel="push")
    deadline = time.monotonic() + 30
    while row.status != "sent" and time.monotonic() < deadline:  # a worker process: wait for it
        time.sleep(0.2)
        row.refresh_from_db()
    assert row.status == "sent", (delivery["mode"], row.status, row.last_error)
    if delivery["mode"] == "worker":
        assert f"notifications.deliver" in delivery["log"].read_text()
    assert len(push_service) == 1
    request = push_service[0]
    assert request["path"] == "/push/device-1"
    assert request["headers"]["content-encoding"] == "aes128gcm"
    assert request["headers"]["authorization"].startswith("vapid t=") and f"k={public}" in request["headers"][
        "authorization"]
    assert int(request["headers"]["ttl"]) > 0
    assert order.number.encode() not in request["body"]
    plain = http_ece.decrypt(request["body"], private_key=browser_key, auth_secret=auth, version="aes128gcm")
    payload = json.loads(plain)
    assert order.number in payload["title"]

    # The push service hands it to the browser: the service worker's push event runs.
    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(300)
    registration = next(r for r in registrations if r["scopeURL"] == live_server.url + "/" and not r["isDeleted"])
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server.url,
                                                   "registrationId": registration["registrationId"],
                                                   "data": plain.decode()})
    page.wait_for_selector("html[data-last-push]", state="attached")
    shown = json.loads(page.get_attribute("html", "data-last-push"))
    assert shown == payload and shown["tag"] == f"n{row.pk}"

    # Turning it off removes this browser's subscription.
    page.click("[data-testid=push-off]")
    page.wait_for_selector("[data-push][data-state=off]")
    assert not PushSubscription.objects.exists()
