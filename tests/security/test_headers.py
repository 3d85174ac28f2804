"""Every page has a CSP without inline script and a Permissions-Policy; logged-in pages are private."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_page_has_the_csp_and_permissions_policy_and_is_not_private(client, product):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]
    assert "private" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("url", ["/", "/account/", "/account/inbox/", "/cart/"])
def test_logged_in_pages_are_cache_control_private(client, customer, url):
    client.force_login(customer)
    response = client.get(url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]


def test_seller_and_admin_pages_are_private(client, seller, admin_client):
    client.force_login(seller)
    assert "private" in client.get(reverse("seller:orders"))["Cache-Control"]
    assert "private" in admin_client.get(reverse("admin:index"))["Cache-Control"]


def test_no_page_template_has_an_inline_script_or_handler():
    import re
    from pathlib import Path

    from django.conf import settings

    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        if "notifications" in path.parts[len(Path(settings.BASE_DIR, "templates").parts):][:1]:
            continue  # email bodies: not pages
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*nonce=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(path))
    assert offenders == []
