import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import LoginActivity, LoyaltyAccount, User
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SIGNUP = reverse("accounts:signup")
LOGIN = reverse("accounts:login")


def _signup(client, **change):
    data = {"username": "newbie", "email": "newbie@example.com", "phone": "07911 123456",
            "password1": "a-Strong-pass-42", "password2": "a-Strong-pass-42", **change}
    return client.post(SIGNUP, data)


def test_signup_creates_an_inactive_account_and_the_emailed_link_signs_in(client, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(client)
    assert response.status_code == 200 and 'data-testid="signup-sent"' in response.content.decode()
    user = User.objects.get(username="newbie")
    assert not user.is_active and str(user.phone) == "+447911123456"
    assert LoyaltyAccount.objects.get(user=user).points == 0
    [message] = [m for m in mail.outbox if m.to == ["newbie@example.com"]]
    assert "Confirm your new" in message.subject
    link = next(w for w in message.body.split() if "/account/signup/confirm/" in w)
    path = link.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1:8000" in link else link[link.index("/account/"):]
    response = client.get(path)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and client.get(reverse("storefront:product_list")).context["user"] == user
    assert client.get(path).status_code == 400  # once


def test_signup_with_a_taken_email_answers_the_same_and_emails_the_owner(client, django_capture_on_commit_callbacks):
    from django.core import mail

    owner = CustomerFactory(username="taken", email="taken@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        fresh = _signup(client, username="someone", email="fresh@example.com")
        taken = _signup(client, username="other", email="TAKEN@example.com")
    import re

    def strip(response):  # the same page but for the address typed (and per-response tokens)
        body = response.content.decode().replace("fresh@example.com", "X").replace("TAKEN@example.com", "X")
        return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": "|nonce=")[^"]+', r"\1", body)

    assert fresh.status_code == taken.status_code == 200 and strip(fresh) == strip(taken)
    assert not User.objects.filter(username="other").exists()
    [message] = [m for m in mail.outbox if m.to == ["taken@example.com"]]
    assert "already have" in message.subject and "taken" in message.body
    assert reverse("accounts:password_reset") in message.body and reverse("accounts:login") in message.body
    owner.refresh_from_db()
    assert owner.is_active and owner.check_password("pass12345!")
    # Asked again and again: at most three such emails an hour.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            _signup(client, username="other", email="taken@example.com")
    assert len([m for m in mail.outbox if m.to == ["taken@example.com"]]) == 3


def test_a_tampered_or_expired_confirmation_link_is_refused(client, frozen_clock):
    import datetime

    from accounts.signup import confirm_token

    _signup(client)
    user = User.objects.get(username="newbie")
    token = confirm_token(user)
    assert client.get(reverse("accounts:signup_confirm", args=[token[:-2] + "xx"])).status_code == 400
    frozen_clock.shift(datetime.timedelta(days=3, minutes=1))
    response = client.get(reverse("accounts:signup_confirm", args=[token]))
    assert response.status_code == 400 and "expired" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


@pytest.mark.parametrize("change,field", [
    ({"phone": "12345"}, "phone"),
    ({"password2": "different-pass-42"}, "password2"),
    ({"username": "taken"}, "username"),
])
def test_signup_errors_save_nothing(client, change, field):
    CustomerFactory(username="taken", email="taken@example.com")
    data = {"username": "newbie", "email": "newbie@example.com", "phone": "", "password1": "a-Strong-pass-42",
            "password2": "a-Strong-pass-42", **change}
    response = client.post(SIGNUP, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.filter(username="newbie").exists()


def test_login_records_activity_and_failed_attempts(client):
    user = CustomerFactory(username="ann")
    client.post(LOGIN, {"username": "ann", "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    response = client.post(LOGIN, {"username": "ann", "password": "pass12345!"}, REMOTE_ADDR="203.0.113.5",
                           HTTP_USER_AGENT="Firefox")
    assert response.status_code == 302
    rows = list(LoginActivity.objects.filter(user=user).order_by("id").values_list("succeeded", "ip_address",
                                                                                  "user_agent"))
    assert rows == [(False, "203.0.113.5", ""), (True, "203.0.113.5", "Firefox")]


def test_login_page_renders_and_bad_password_is_explained(client):
    assert "Log in" in client.get(LOGIN).content.decode()
    response = client.post(LOGIN, {"username": "ghost", "password": "nope"})
    assert "correct username and password" in response.content.decode()


def test_logout_is_post_only(client):
    client.force_login(CustomerFactory())
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change(client):
    user = CustomerFactory()
    url = reverse("accounts:password_change")
    assert Client().get(url).status_code == 302  # login required
    client.force_login(user)
    response = client.post(url, {"old_password": "pass12345!", "new_password1": "N3w-secret-pass",
                                 "new_password2": "N3w-secret-pass"}, follow=True)
    assert "Password changed" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("N3w-secret-pass")
    bad = client.post(url, {"old_password": "wrong", "new_password1": "x", "new_password2": "x"})
    assert "old_password" in bad.context["form"].errors
