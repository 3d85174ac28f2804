import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import LoginActivity, LoyaltyAccount, User
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SIGNUP = reverse("accounts:signup")
LOGIN = reverse("accounts:login")


def test_signup_creates_user_with_loyalty_account_and_logs_in(client):
    response = client.post(SIGNUP, {"username": "newbie", "email": "newbie@example.com", "phone": "07911 123456",
                                    "password1": "a-Strong-pass-42", "password2": "a-Strong-pass-42"})
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert str(user.phone) == "+447911123456"
    assert LoyaltyAccount.objects.get(user=user).points == 0
    assert client.get(reverse("storefront:product_list")).context["user"] == user


@pytest.mark.parametrize("change,field", [
    ({"email": "taken@example.com"}, "email"),
    ({"email": "TAKEN@example.com"}, "email"),
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
