"""Seller integrations in a real browser: an API key shown once, a webhook endpoint pinged and its
log, and the offline Swagger UI."""
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.factories import SellerFactory, StoreFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


class OkReceiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"received": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = HTTPServer(("127.0.0.1", 8133), OkReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:8133/hooks"
    server.shutdown()
    server.server_close()


def test_seller_creates_an_api_key_and_a_webhook_endpoint_and_pings_it(live_server, new_page, screenshot, receiver):
    seller = SellerFactory(store=StoreFactory(name="Linen & Co"))
    page = new_page()
    login(page, live_server.url, seller)
    page.goto(f"{live_server.url}/seller/api-keys/")
    page.fill("#key-name", "Warehouse WMS")
    page.select_option("#key-scope", "write")
    page.click("text=Create key")
    token = page.inner_text("[data-testid=token]")
    assert token.startswith("nsk_")
    screenshot(page, "seller-api-keys")
    page.goto(f"{live_server.url}/seller/api-keys/")
    assert token not in page.content() and "Warehouse WMS" in page.content()

    page.goto(f"{live_server.url}/seller/webhooks/")
    page.fill("#wh-url", receiver)
    page.fill("#wh-desc", "ERP order sync")
    page.check("input[value='order.status_changed']")
    page.click("text=Add endpoint")
    assert page.inner_text("[data-testid=secret]").startswith("whsec_")
    page.click("[data-testid=ping]")
    log = page.inner_text("[data-testid=delivery-log]")
    assert "webhook.ping" in log and "HTTP 200" in log and "received" in log
    page.locator("[data-testid=delivery-log]").scroll_into_view_if_needed()
    screenshot(page, "seller-webhook")


def test_swagger_ui_renders_offline(live_server, new_page, screenshot):
    page = new_page()
    requests_outside = []
    page.on("request", lambda r: requests_outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector("text=/api/v1/orders/{number}/status/")
    assert requests_outside == []
    screenshot(page, "api-docs")
