"""Every notifications admin page opens for staff (lists, add forms, the defaults overview)."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = ["notificationtemplate", "notification", "deliveryattempt", "platformeventsetting",
          "sellernotificationsetting", "storemessagesetting", "storenotificationoptions", "customerpreference",
          "quiethours", "suppression", "inboxmessage"]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_opens(admin_client, model):
    assert admin_client.get(reverse(f"admin:notifications_{model}_changelist")).status_code == 200


def test_platform_settings_is_a_single_row_opened_directly(admin_client):
    response = admin_client.get(reverse("admin:notifications_platformsettings_changelist"))
    assert response.status_code == 302
    assert admin_client.get(response["Location"]).status_code == 200


def test_shipped_defaults_overview_lists_every_event_audience_and_channel(admin_client):
    body = admin_client.get(reverse("admin:notifications_notificationtemplate_defaults")).content.decode()
    from django.conf import settings

    from notifications.rendering import all_default_keys, has_shipped_translation

    # Every shipped default (order, product, account and privacy events' audiences × channels),
    # once per language it ships in (customer messages in all four, seller and supplier in English).
    shipped = [(e, a, c, lang) for e, a, c in all_default_keys() for lang, _ in settings.LANGUAGES
               if has_shipped_translation(e, a, c, lang)]
    assert body.count(">Customise</a>") == len(shipped)
    assert len(shipped) > len(list(all_default_keys()))
    assert "return.rejected" in body and "stock.low" in body and "account.password_reset" in body
    assert "account.data_export_ready" in body
